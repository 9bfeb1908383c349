/* compare_spu.c - the SPU board in ngspice against thermo linalg's
 * simulation of it: the stationary covariance of the readout x = D v.
 *
 * Three numbers per entry: the exact kappa0 R A^-1 (scaled) of the ideal
 * board (th_spu_stationary, a Lyapunov solve), thermo's estimate
 * (th_tla_inverse on exact Ornstein-Uhlenbeck transitions, white noise), and
 * ngspice's, batch means over each copy's run after a burn-in. ngspice's
 * noise is not white: TRNOISE draws a sample every NT and interpolates
 * linearly between them, so its spectrum is 2 kappa0 sinc^4(f NT) and the
 * voltages miss the part of their variance above f ~ 1/NT. At frequencies
 * well above every relaxation rate the cells are pure capacitors,
 * v = C^-1 i / (2 pi i f), so the missing part is
 *
 *     Delta Cov(v) = -2 kappa0 C^-2 int (1 - sinc^4(f NT)) / (2 pi f)^2 df
 *                  = -(7/15) kappa0 NT C^-2,
 *
 * since int (1 - sinc^4 u) / u^2 du = 14 pi^2 / 15 (the tests check the
 * number by quadrature). The comparison holds ngspice to the ideal value so
 * shifted, and thermo to the ideal value itself. */
#include "circuit/circuit_internal.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

#define BURN_IN_TAUS 20.0   /* every cell starts at 0 V, 0 A */
#define BATCH_TAUS 25.0     /* batch windows long enough to be nearly independent */
#define MAX_BATCHES 16      /* per copy */
#define THERMO_TAUS 40000.0 /* thermo's averaging time per chain, by default */
#define THERMO_BATCHES 64   /* its batch means: 16 would leave the error bars themselves
                               uncertain by 18%, and every entry's with them */
#define BANDWIDTH_FACTOR (7.0 / 15.0)

/* The readout's voltage block Ro (d, cells): x = Ro v. */
static void readout_block(const th_spu *s, double *Ro)
{
    for (size_t j = 0; j < s->d; j++)
        for (size_t i = 0; i < s->cells; i++)
            Ro[j * s->cells + i] = s->readout[j * s->n + s->cells + i];
}

/* shift (d, d) = -(7/15) kappa0 NT Ro C^-2 Ro^T. */
static int bandwidth_shift(const th_spu *s, double NT, double *shift)
{
    const size_t m = s->cells, d = s->d;
    double *Ci = malloc((2 * m * m + 2 * d * m) * sizeof *Ci);
    if (!Ci) return th__fail(TH_ENOMEM, "bandwidth shift: out of memory");
    double *C2 = Ci + m * m, *Ro = C2 + m * m, *W = Ro + d * m;
    memcpy(Ci, s->cap, m * m * sizeof *Ci);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)m, Ci, (lapack_int)m) != 0 ||
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)m, Ci, (lapack_int)m) != 0) {
        free(Ci);
        return th__fail(TH_EINVAL, "the board's capacitance matrix is not positive definite");
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < i; j++) Ci[j * m + i] = Ci[i * m + j];
    readout_block(s, Ro);
    th_matmul_f64(0, 0, m, m, m, 1.0, Ci, m, Ci, m, 0.0, C2, m);
    th_matmul_f64(0, 0, d, m, m, 1.0, Ro, m, C2, m, 0.0, W, m);
    th_matmul_f64(0, 1, d, d, m, -BANDWIDTH_FACTOR * s->params.kappa0 * NT, W, m, Ro, m, 0.0,
                  shift, d);
    free(Ci);
    return TH_OK;
}

int th_circuit_spu_expected(const th_spu *s, double noise_step, double *expected)
{
    TH_ASSERT(s && expected);
    if (s->params.model != TH_SPU_RLC || !s->cap)
        return th__fail(TH_EINVAL, "the overdamped SPU is not a circuit: the RLC board only");
    if (!(noise_step > 0 && isfinite(noise_step)))
        return th__fail(TH_EINVAL, "noise step %g s: expected a value > 0", noise_step);
    const size_t D = s->d;
    double *shift = malloc(D * D * sizeof *shift);
    if (!shift) return th__fail(TH_ENOMEM, "expected covariance: out of memory");
    int rc = th_spu_stationary(s, NULL, expected);
    if (rc == TH_OK) rc = bandwidth_shift(s, noise_step, shift);
    if (rc == TH_OK)
        for (size_t e = 0; e < D * D; e++) expected[e] += shift[e];
    free(shift);
    return rc;
}

/* ngspice's <x x^T> (d, d) and its standard error from batch means over the
 * runs' copies; *batches the number of windows. */
static int spice_covariance(const th_spu *s, const th_circuit *c, const th_circuit_data *d,
                            double *mean, double *se, size_t *batches)
{
    const th_circuit_info *ci = &c->info;
    const size_t D = s->d, m = s->cells;
    const double burn = BURN_IN_TAUS * s->tau;
    size_t first = 0;
    while (first < d->n_rows && d->time[first] < burn) first++;
    const size_t rows = d->n_rows - first;
    double per = floor((ci->t_stop - burn) / (BATCH_TAUS * s->tau));
    const size_t nb = per < 1 ? 1 : (per > MAX_BATCHES ? MAX_BATCHES : (size_t)per);
    const size_t total = d->n_runs * ci->copies * nb;
    if (rows < 2 * nb || total < 2)
        return th__fail(TH_EINVAL, "ngspice ran %g s, %zu rows after the burn-in of %g s: too "
                        "short for error bars (give --spu-time or --copies)", ci->t_stop, rows,
                        burn);
    const size_t len = rows / nb;
    double *Ro = malloc((D * m + D + total * D * D) * sizeof *Ro);
    if (!Ro) return th__fail(TH_ENOMEM, "ngspice's covariance: out of memory");
    double *x = Ro + D * m, *M = x + D;
    readout_block(s, Ro);
    memset(M, 0, total * D * D * sizeof *M);
    for (size_t q = 0; q < d->n_runs * ci->copies; q++) {
        const size_t run = q / ci->copies, copy = q % ci->copies;
        for (size_t b = 0; b < nb; b++) {
            double *Mb = M + (q * nb + b) * D * D;
            for (size_t k = first + b * len; k < first + (b + 1) * len; k++) {
                const double *v = d->v + (run * d->n_rows + k) * d->n_vectors + copy * m;
                for (size_t j = 0; j < D; j++) {
                    double acc = 0.0;
                    for (size_t i = 0; i < m; i++) acc += Ro[j * m + i] * v[i];
                    x[j] = acc;
                }
                for (size_t i = 0; i < D; i++)
                    for (size_t j = 0; j < D; j++) Mb[i * D + j] += x[i] * x[j] / (double)len;
            }
        }
    }
    for (size_t e = 0; e < D * D; e++) {
        th__circuit_sample sample;
        th__circuit_sample_of(M + e, total, D * D, &sample);
        mean[e] = sample.mean;
        se[e] = sample.mean_se;
    }
    *batches = total;
    free(Ro);
    return TH_OK;
}

int th__circuit_compare_spu(const th__circuit_source *src, const th_circuit *c,
                            const th_circuit_data *d, const th_circuit_compare_opts *co,
                            th_circuit_report *r)
{
    const th_spu *s = src->spu;
    const size_t D = s->d;
    if (c->info.units != s->cells)
        return th__fail(TH_EINVAL, "the netlist has %zu cells, the board %zu: export and compare "
                        "with the same options", c->info.units, s->cells);
    double *ideal = malloc(4 * D * D * sizeof *ideal);
    if (!ideal) return th__fail(TH_ENOMEM, "comparison: out of memory");
    double *expected = ideal + D * D, *sm = expected + D * D, *sse = sm + D * D;
    th_tla_result res;
    memset(&res, 0, sizeof res);
    th_tla_protocol prot = th_tla_protocol_default();
    prot.time = co->spu_time > 0 ? co->spu_time : THERMO_TAUS * s->tau;
    prot.seed = co->seed;
    prot.batches = THERMO_BATCHES;
    size_t batches = 0;
    int rc = th_spu_stationary(s, NULL, ideal);
    if (rc == TH_OK) rc = th_circuit_spu_expected(s, c->info.noise_step, expected);
    if (rc == TH_OK) rc = spice_covariance(s, c, d, sm, sse, &batches);
    if (rc == TH_OK) rc = th_tla_inverse(s, &prot, &res);
    if (rc == TH_OK) {
        /* The diagonal first (the headline), then the entries above it. */
        size_t k = 0;
        for (size_t pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < D; i++)
                for (size_t j = i; j < D; j++) {
                    if ((i == j) != (pass == 0)) continue;
                    th_circuit_quantity *q = &r->q[k++];
                    const size_t e = i * D + j;
                    snprintf(q->name, sizeof q->name, "cov(%zu,%zu) (V^2)", i + 1, j + 1);
                    q->ideal = ideal[e];
                    q->expected = expected[e];
                    q->thermo = s->cov_scale * res.estimate[e];
                    q->thermo_se = s->cov_scale * res.std_error[e];
                    q->spice = sm[e];
                    q->spice_se = sse[e];
                    q->z = sse[e] > 0 ? (q->spice - q->expected) / sse[e] : (double)NAN;
                    q->z_thermo = q->thermo_se > 0 ? (q->thermo - q->ideal) / q->thermo_se : (double)NAN;
                }
        r->n_main = D;
        r->spice_samples = batches;
        r->thermo_samples = res.samples;
        r->thermo_dt = prot.sample_interval > 0 ? prot.sample_interval : s->tau / 2;
        r->bandwidth_shift = 0.0;
        for (size_t i = 0; i < D; i++)
            r->bandwidth_shift =
                fmax(r->bandwidth_shift, fabs(expected[i * D + i] / ideal[i * D + i] - 1.0));
    }
    th_tla_result_free(&res);
    free(ideal);
    return rc;
}
