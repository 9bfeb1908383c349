/* neuron.c - layered networks of thermodynamic neurons (Whitelam & Casert,
 * Nat. Commun. 2026; science.md sections 1 and 4): the settings, the
 * network's parameters, the Euler-Maruyama runs and the loss against
 * cos(2 pi z).
 *
 * The network is small (4 layers of 8 by default) and every trajectory is
 * independent, so the replicas of one input are run together in batches,
 * start to end: their states, forces and noise stay in L1, and the coupling
 * force is a handful of 8 x 8 blocks applied lane by lane, too small for
 * BLAS to pay. The fast kernel walks the layer blocks; the reference kernel
 * runs one trajectory at a time, assembles the dense symmetric (N, N)
 * coupling matrix once and loops over every pair, the
 * plain twin the tests compare against. */
#include "classify/neuron_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

th_neuron_params th_neuron_params_default(void)
{
    th_neuron_params p = {
        .n_layers = 4,
        .width = 8,
        .kT = 0.1,
        .mu = 1.0,
        .J2 = 1.0,
        .J3 = 0.5,
        .J4 = 1.0,
        .dt = 0.01,
        .t_f = 1.0,
        .n_z = 16,
        .replicas = 32,
        .blowup = 1e3,
    };
    return p;
}

static int positive_finite(double v)
{
    return isfinite(v) && v > 0;
}

int th_neuron_params_validate(const th_neuron_params *p)
{
    TH_ASSERT(p != NULL);
    if (p->n_layers < 1) return th__fail(TH_EINVAL, "n_layers = 0: expected at least 1");
    if (p->width < 1) return th__fail(TH_EINVAL, "width = 0: expected at least 1");
    if (p->n_layers > TH__NEURON_MAX_UNITS || p->width > TH__NEURON_MAX_UNITS ||
        p->n_layers * p->width > TH__NEURON_MAX_UNITS)
        return th__fail(TH_EINVAL, "n_layers = %zu, width = %zu: expected at most %zu neurons",
                        p->n_layers, p->width, TH__NEURON_MAX_UNITS);
    if (!positive_finite(p->kT)) return th__fail(TH_EINVAL, "kT = %g: expected kT > 0", p->kT);
    if (!positive_finite(p->mu)) return th__fail(TH_EINVAL, "mu = %g: expected mu > 0", p->mu);
    if (!isfinite(p->J2)) return th__fail(TH_EINVAL, "J2 = %g: expected a finite value", p->J2);
    if (!isfinite(p->J3)) return th__fail(TH_EINVAL, "J3 = %g: expected a finite value", p->J3);
    /* J4 > 0 confines every neuron whatever its input; without it the
     * cubic term or a negative J2 would let x run away. */
    if (!positive_finite(p->J4))
        return th__fail(TH_EINVAL, "J4 = %g: expected J4 > 0 (the quartic term confines)", p->J4);
    if (!positive_finite(p->dt)) return th__fail(TH_EINVAL, "dt = %g: expected dt > 0", p->dt);
    if (!positive_finite(p->t_f)) return th__fail(TH_EINVAL, "t_f = %g: expected t_f > 0", p->t_f);
    if (p->t_f / p->dt < 0.5 || p->t_f / p->dt > 1e9)
        return th__fail(TH_EINVAL, "t_f = %g with dt = %g: expected 1 to 1e9 steps", p->t_f,
                        p->dt);
    if (p->n_z < 1) return th__fail(TH_EINVAL, "n_z = 0: expected at least 1 input");
    if (p->replicas < 1) return th__fail(TH_EINVAL, "replicas = 0: expected at least 1");
    if (p->n_z > TH__NEURON_MAX_TRAJECTORIES || p->replicas > TH__NEURON_MAX_TRAJECTORIES ||
        p->n_z * p->replicas > TH__NEURON_MAX_TRAJECTORIES)
        return th__fail(TH_EINVAL, "replicas = %zu with n_z = %zu inputs: expected at most "
                        "%llu trajectories (n_z x replicas) per evaluation", p->replicas, p->n_z,
                        (unsigned long long)TH__NEURON_MAX_TRAJECTORIES);
    if (!positive_finite(p->blowup))
        return th__fail(TH_EINVAL, "blowup = %g: expected blowup > 0", p->blowup);
    return TH_OK;
}

size_t th_neuron_steps(const th_neuron_params *p, double t)
{
    TH_ASSERT(p != NULL && p->dt > 0 && t >= 0);
    return (size_t)llround(t / p->dt);
}

double th_neuron_input(const th_neuron_params *p, size_t j)
{
    TH_ASSERT(p != NULL && j < p->n_z);
    return p->n_z == 1 ? 0.0 : (double)j / (double)(p->n_z - 1);
}

double th_neuron_target(double z)
{
    const double two_pi = 6.283185307179586476925;
    return cos(two_pi * z);
}

/* ------------------------------------------------------------ network */

size_t th__neuron_param_count(size_t n_layers, size_t width)
{
    return width + n_layers * width + (n_layers - 1) * width * width + width;
}

void th__neuron_net_view(th_neuron_net *net, double *theta)
{
    const size_t L = net->n_layers, w = net->width;
    net->theta = theta;
    net->W = theta;
    net->b = net->W + w;
    net->w = net->b + L * w;
    net->f = net->w + (L - 1) * w * w;
}

th_neuron_net *th_neuron_net_alloc(size_t n_layers, size_t width)
{
    if (n_layers < 1 || width < 1 || n_layers > TH__NEURON_MAX_UNITS ||
        width > TH__NEURON_MAX_UNITS || n_layers * width > TH__NEURON_MAX_UNITS) {
        th__fail(TH_EINVAL, "a network of %zu layers of %zu neurons: expected 1 to %zu neurons",
                 n_layers, width, TH__NEURON_MAX_UNITS);
        return NULL;
    }
    th_neuron_net *net = th__calloc(1, sizeof *net);
    if (!net) {
        th__fail(TH_ENOMEM, "out of memory for a network");
        return NULL;
    }
    net->n_layers = n_layers;
    net->width = width;
    net->n_params = th__neuron_param_count(n_layers, width);
    double *theta = th__calloc(net->n_params, sizeof(double));
    if (!theta) {
        th__free(net);
        th__fail(TH_ENOMEM, "out of memory for %zu network parameters", net->n_params);
        return NULL;
    }
    th__neuron_net_view(net, theta);
    return net;
}

void th_neuron_net_free(th_neuron_net *net)
{
    if (!net) return;
    th__free(net->theta);
    th__free(net);
}

size_t th_neuron_fan_in(const th_neuron_net *net, size_t k)
{
    TH_ASSERT(net != NULL && k < net->n_params);
    /* Input field and biases act on one neuron's input alone; a coupling is
     * one of width terms that make up the input from the layer below, and a
     * readout weight one of width terms of the output. */
    return k < (size_t)(net->w - net->theta) ? 1 : net->width;
}

void th_neuron_readout(const th_neuron_net *net, const double *means, size_t count, double *y)
{
    TH_ASSERT(net != NULL && (count == 0 || (means != NULL && y != NULL)));
    const size_t w = net->width;
    for (size_t k = 0; k < count; k++) {
        double s = 0;
        for (size_t i = 0; i < w; i++) s += net->f[i] * means[k * w + i];
        y[k] = s;
    }
}

/* --------------------------------------------------------------- runs */

/* What every trajectory of a run shares. */
typedef struct stepper {
    size_t L, w, N;
    double mudt;          /* mu dt */
    double sigma;         /* sqrt(2 mu kT dt) */
    double c2, c3, c4;    /* 2 J2, 3 J3, 4 J4: dU0/dx = x (c2 + x (c3 + c4 x)) */
    double blowup;
    const th_neuron_net *net;
    const double *dense;  /* (N, N) couplings for the reference kernel, else NULL */
    uint64_t seed;
    uint64_t blocks_per_step;
} stepper;

/* Where a trajectory left its bounded region. */
typedef struct divergence {
    int diverged;
    size_t replica, step, unit;
    double value;
} divergence;

/* The fast kernel runs a batch of BATCH replicas of one input together,
 * states stored unit-major, X (N, nb): every operation is then the same
 * arithmetic on nb independent lanes, which the compiler vectorises with no
 * reduction to reorder, so every instruction set below gives the same bits
 * (no fused multiply-adds: -std=c11 implies -ffp-contract=off). */
#define BATCH 32
/* The noise of NOISE_STEPS steps is drawn in one call per trajectory: the
 * blocks of consecutive steps follow each other in the stream, and the fill
 * runs several times faster on a thousand numbers than on the 32 of one
 * step. */
#define NOISE_STEPS 32

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define NEURON_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef NEURON_CLONES
#define NEURON_CLONES
#endif

/* F = input - dU0/dx for nb lanes: the bias (and W z on layer 0), plus the
 * couplings to both neighbouring layers block by block (for w^(l), the
 * neurons of layer l feel w^(l) x_(l+1) and those of layer l+1 feel
 * w^(l)T x_l), minus x (2 J2 + x (3 J3 + 4 J4 x)). */
static inline void force_batch(const stepper *st, const double *in, size_t nb,
                               const double *restrict X, double *restrict F)
{
    const size_t w = st->w, N = st->N;
    for (size_t i = 0; i < N; i++)
        for (size_t r = 0; r < nb; r++) F[i * nb + r] = in[i];
    for (size_t l = 0; l + 1 < st->L; l++) {
        const double *B = st->net->w + l * w * w;
        for (size_t i = 0; i < w; i++)
            for (size_t j = 0; j < w; j++) {
                const double c = B[i * w + j];
                const size_t a = (l * w + i) * nb, b = ((l + 1) * w + j) * nb;
                for (size_t r = 0; r < nb; r++) {
                    F[a + r] += c * X[b + r];
                    F[b + r] += c * X[a + r];
                }
            }
    }
    for (size_t k = 0; k < N * nb; k++) {
        const double v = X[k];
        F[k] -= v * (st->c2 + v * (st->c3 + st->c4 * v));
    }
}

/* nb replicas (streams stream0 .. stream0 + nb - 1) from x = 0 to the
 * largest snapshot step, adding their last layer's states at the snapshots
 * to sums (n_snaps, w), replica after replica. Workspace: X, XN, F (N, nb);
 * draw (NOISE_STEPS * per_step) for one trajectory's noise; noise
 * (NOISE_STEPS, N, nb) the same transposed to the states' layout. */
NEURON_CLONES
static void run_batch(const stepper *st, const double *in, uint64_t stream0, size_t nb,
                      const size_t *snaps, size_t n_snaps, double *sums, double *X, double *XN,
                      double *F, float *draw, float *noise, size_t first_replica,
                      divergence *div)
{
    const size_t N = st->N, w = st->w, last = (st->L - 1) * w;
    const size_t per_step = (size_t)st->blocks_per_step * 4; /* normals a step, padded */
    const size_t total = n_snaps ? snaps[n_snaps - 1] : 0;
    memset(X, 0, N * nb * sizeof *X);
    size_t s = 0;
    for (size_t step = 0;; step++) {
        for (; s < n_snaps && snaps[s] == step; s++)
            for (size_t r = 0; r < nb; r++)
                for (size_t i = 0; i < w; i++) sums[s * w + i] += X[(last + i) * nb + r];
        if (step == total) return;
        const size_t k = step % NOISE_STEPS;
        if (k == 0) {
            const size_t steps = total - step < NOISE_STEPS ? total - step : NOISE_STEPS;
            for (size_t r = 0; r < nb; r++) {
                th_normal_fill_f32(st->seed, stream0 + r, step * st->blocks_per_step, draw,
                                   steps * per_step);
                for (size_t q = 0; q < steps; q++)
                    for (size_t i = 0; i < N; i++)
                        noise[(q * N + i) * nb + r] = draw[q * per_step + i];
            }
        }
        const float *xi = noise + k * N * nb;
        force_batch(st, in, nb, X, F);
        /* x <- x - mu dt dV/dx + sqrt(2 mu kT dt) xi (science.md section 1). */
        int bad = 0;
        for (size_t q = 0; q < N * nb; q++) {
            XN[q] = X[q] + st->mudt * F[q] + st->sigma * (double)xi[q];
            bad |= !(fabs(XN[q]) <= st->blowup); /* NaN fails too */
        }
        if (bad) {
            for (size_t r = 0; r < nb && !div->diverged; r++)
                for (size_t i = 0; i < N; i++)
                    if (!(fabs(XN[i * nb + r]) <= st->blowup)) {
                        *div = (divergence){1, first_replica + r, step + 1, i, XN[i * nb + r]};
                        break;
                    }
            return;
        }
        double *t = X;
        X = XN;
        XN = t;
    }
}

/* The reference kernel's force on one trajectory: every pair through the
 * dense matrix, every term of dU0/dx written out. */
static void force_reference(const stepper *st, const double *in, const double *x, double *F)
{
    const size_t N = st->N;
    for (size_t i = 0; i < N; i++) {
        double coupling = 0;
        for (size_t j = 0; j < N; j++)
            if (j != i) coupling += st->dense[i * N + j] * x[j];
        const double v = x[i];
        const double dU0 = st->c2 * v + st->c3 * v * v + st->c4 * v * v * v;
        F[i] = in[i] + coupling - dU0;
    }
}

/* One trajectory, reference kernel: step by step, one step's noise at a
 * time. work: x, xn, F (N each), noise (per_step floats). */
static void run_reference(const stepper *st, const double *in, uint64_t stream,
                          const size_t *snaps, size_t n_snaps, double *sums, double *x,
                          double *xn, double *F, float *noise, size_t replica, divergence *div)
{
    const size_t N = st->N, w = st->w, last = (st->L - 1) * w;
    const size_t total = n_snaps ? snaps[n_snaps - 1] : 0;
    memset(x, 0, N * sizeof *x);
    size_t s = 0;
    for (size_t step = 0;; step++) {
        for (; s < n_snaps && snaps[s] == step; s++)
            for (size_t i = 0; i < w; i++) sums[s * w + i] += x[last + i];
        if (step == total) return;
        th_normal_fill_f32(st->seed, stream, step * st->blocks_per_step, noise, N);
        force_reference(st, in, x, F);
        for (size_t i = 0; i < N; i++) {
            xn[i] = x[i] + st->mudt * F[i] + st->sigma * (double)noise[i];
            if (!(fabs(xn[i]) <= st->blowup)) {
                *div = (divergence){1, replica, step + 1, i, xn[i]};
                return;
            }
        }
        double *t = x;
        x = xn;
        xn = t;
    }
}

static int check_net(const th_neuron_params *p, const th_neuron_net *net)
{
    if (net->n_layers != p->n_layers || net->width != p->width)
        return th__fail(TH_EINVAL, "network of %zu layers of %zu: expected %zu layers of %zu "
                        "(the settings)", net->n_layers, net->width, p->n_layers, p->width);
    for (size_t k = 0; k < net->n_params; k++)
        if (!isfinite(net->theta[k]))
            return th__fail(TH_EINVAL, "network parameter %zu = %g: expected a finite value", k,
                            net->theta[k]);
    return TH_OK;
}

int th_neuron_run(const th_neuron_params *p, const th_neuron_net *net, const double *z,
                  size_t n_z, size_t replicas, uint64_t seed, uint64_t stream_base,
                  const size_t *snap_steps, size_t n_snaps, th_kernel kernel, double *means)
{
    TH_ASSERT(p != NULL && net != NULL && (n_z == 0 || z != NULL));
    TH_ASSERT(n_snaps == 0 || (snap_steps != NULL && means != NULL));
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    if ((rc = check_net(p, net)) != TH_OK) return rc;
    if (n_z < 1 || replicas < 1)
        return th__fail(TH_EINVAL, "%zu inputs x %zu replicas: expected at least 1 of each", n_z,
                        replicas);
    if (n_z > TH__NEURON_MAX_TRAJECTORIES || replicas > TH__NEURON_MAX_TRAJECTORIES ||
        n_z * replicas > UINT64_MAX - stream_base)
        return th__fail(TH_EINVAL, "%zu inputs x %zu replicas from stream %llu: the stream "
                        "numbers overflow", n_z, replicas, (unsigned long long)stream_base);
    for (size_t j = 0; j < n_z; j++)
        if (!isfinite(z[j]))
            return th__fail(TH_EINVAL, "input z[%zu] = %g: expected a finite value", j, z[j]);
    for (size_t s = 1; s < n_snaps; s++)
        if (snap_steps[s] < snap_steps[s - 1])
            return th__fail(TH_EINVAL, "snapshot steps %zu then %zu: expected ascending",
                            snap_steps[s - 1], snap_steps[s]);
    if (n_snaps && snap_steps[n_snaps - 1] > UINT64_MAX / ((p->n_layers * p->width + 3) / 4))
        return th__fail(TH_EINVAL, "%zu steps: the noise blocks overflow",
                        snap_steps[n_snaps - 1]);

    const size_t L = p->n_layers, w = p->width, N = L * w;
    stepper st = {
        .L = L, .w = w, .N = N,
        .mudt = p->mu * p->dt,
        .sigma = sqrt(2.0 * p->mu * p->kT * p->dt),
        .c2 = 2.0 * p->J2, .c3 = 3.0 * p->J3, .c4 = 4.0 * p->J4,
        .blowup = p->blowup,
        .net = net,
        .seed = seed,
        .blocks_per_step = (N + 3) / 4,
    };
    double *dense = NULL;
    if (kernel == TH_KERNEL_REFERENCE) {
        dense = th__calloc(N * N, sizeof *dense); /* (N, N) symmetric, zero diagonal */
        if (!dense) return th__fail(TH_ENOMEM, "out of memory for a %zu x %zu matrix", N, N);
        for (size_t l = 0; l + 1 < L; l++)
            for (size_t i = 0; i < w; i++)
                for (size_t j = 0; j < w; j++) {
                    const size_t a = l * w + i, b = (l + 1) * w + j;
                    dense[a * N + b] = dense[b * N + a] = net->w[(l * w + i) * w + j];
                }
        st.dense = dense;
    }
    divergence *div = th__calloc(n_z, sizeof *div);
    int *oom = th__calloc(n_z, sizeof *oom);
    if (!div || !oom) {
        th__free(dense);
        th__free(div);
        th__free(oom);
        return th__fail(TH_ENOMEM, "out of memory for a run of %zu inputs", n_z);
    }
    if (n_snaps) memset(means, 0, n_snaps * n_z * w * sizeof *means);

    /* Each input's replicas are summed in order by one thread, so the means
     * do not depend on the threads. Inside a parallel region (the genetic
     * algorithm's individuals) this loop runs on the calling thread. */
#pragma omp parallel for schedule(dynamic, 1) if (n_z > 1 && !omp_in_parallel())
    for (size_t j = 0; j < n_z; j++) {
        const size_t nb = replicas < BATCH ? replicas : BATCH;
        const size_t per_step = (size_t)st.blocks_per_step * 4;
        double *work = th__alloc((N + 3 * N * nb + n_snaps * w) * sizeof(double));
        float *noise = th__alloc((NOISE_STEPS * per_step + NOISE_STEPS * N * nb) * sizeof(float));
        if (!work || !noise) {
            oom[j] = 1;
        } else {
            double *in = work, *X = in + N, *XN = X + N * nb, *F = XN + N * nb;
            double *sums = F + N * nb; /* (n_snaps, w) */
            memset(sums, 0, n_snaps * w * sizeof *sums);
            for (size_t i = 0; i < N; i++) in[i] = net->b[i];
            for (size_t i = 0; i < w; i++) in[i] += net->W[i] * z[j];
            const uint64_t first = stream_base + j * replicas;
            for (size_t r = 0; r < replicas && !div[j].diverged; r += nb) {
                const size_t m = replicas - r < nb ? replicas - r : nb;
                if (kernel == TH_KERNEL_REFERENCE)
                    for (size_t q = 0; q < m && !div[j].diverged; q++)
                        run_reference(&st, in, first + r + q, snap_steps, n_snaps, sums, X, XN,
                                      F, noise, r + q, &div[j]);
                else
                    run_batch(&st, in, first + r, m, snap_steps, n_snaps, sums, X, XN, F,
                              noise, noise + NOISE_STEPS * per_step, r, &div[j]);
            }
            for (size_t s = 0; s < n_snaps; s++)
                for (size_t i = 0; i < w; i++)
                    means[(s * n_z + j) * w + i] = sums[s * w + i] / (double)replicas;
        }
        th__free(work);
        th__free(noise);
    }

    rc = TH_OK;
    for (size_t j = 0; j < n_z && rc == TH_OK; j++) {
        if (oom[j]) rc = th__fail(TH_ENOMEM, "out of memory for a trajectory's workspace");
        else if (div[j].diverged)
            rc = th__fail(TH_EDIVERGED, "input z = %g, replica %zu: neuron %zu (layer %zu) "
                          "reached x = %g at step %zu, beyond the bound %g (dt = %g too large "
                          "for couplings this strong?)", z[j], div[j].replica, div[j].unit,
                          div[j].unit / w, div[j].value, div[j].step, p->blowup, p->dt);
    }
    th__free(dense);
    th__free(div);
    th__free(oom);
    return rc;
}

/* --------------------------------------------------------------- loss */

/* mean over j of (y_j - cos(2 pi z_j))^2 */
static double task_loss(const th_neuron_params *p, const double *y)
{
    double s = 0;
    for (size_t j = 0; j < p->n_z; j++) {
        const double d = y[j] - th_neuron_target(th_neuron_input(p, j));
        s += d * d;
    }
    return s / (double)p->n_z;
}

int th_neuron_loss(const th_neuron_params *p, const th_neuron_net *net, uint64_t seed,
                   uint64_t stream_base, double *loss, double *y_out)
{
    TH_ASSERT(p != NULL && net != NULL && loss != NULL);
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    const size_t n_z = p->n_z, w = p->width;
    double *buf = th__alloc((n_z + n_z * w + n_z) * sizeof(double));
    if (!buf) return th__fail(TH_ENOMEM, "out of memory for %zu inputs", n_z);
    double *z = buf, *means = buf + n_z, *y = means + n_z * w;
    for (size_t j = 0; j < n_z; j++) z[j] = th_neuron_input(p, j);
    const size_t steps = th_neuron_steps(p, p->t_f);
    rc = th_neuron_run(p, net, z, n_z, p->replicas, seed, stream_base, &steps, 1,
                       TH_KERNEL_FAST, means);
    if (rc == TH_OK) {
        th_neuron_readout(net, means, n_z, y);
        *loss = task_loss(p, y);
        if (y_out) memcpy(y_out, y, n_z * sizeof *y);
    }
    th__free(buf);
    return rc;
}

int th_neuron_loss_curve(const th_neuron_params *p, const th_neuron_net *net, size_t replicas,
                         uint64_t seed, const double *times, size_t n_times, double *loss)
{
    TH_ASSERT(p != NULL && net != NULL && (n_times == 0 || (times != NULL && loss != NULL)));
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    if (n_times == 0) return th__fail(TH_EINVAL, "a loss curve of 0 times: expected at least 1");
    for (size_t k = 0; k < n_times; k++) {
        if (!(isfinite(times[k]) && times[k] > 0 && times[k] / p->dt <= 1e9))
            return th__fail(TH_EINVAL, "time[%zu] = %g: expected 0 < t <= 1e9 dt", k, times[k]);
        if (k > 0 && !(times[k] > times[k - 1]))
            return th__fail(TH_EINVAL, "time[%zu] = %g after %g: expected ascending times", k,
                            times[k], times[k - 1]);
    }
    const size_t n_z = p->n_z, w = p->width;
    size_t *steps = th__alloc(n_times * sizeof *steps);
    double *buf = th__alloc((n_z + n_times * n_z * w + n_z) * sizeof(double));
    if (!steps || !buf) {
        th__free(steps);
        th__free(buf);
        return th__fail(TH_ENOMEM, "out of memory for a loss curve of %zu times", n_times);
    }
    double *z = buf, *means = buf + n_z, *y = means + n_times * n_z * w;
    for (size_t j = 0; j < n_z; j++) z[j] = th_neuron_input(p, j);
    for (size_t k = 0; k < n_times; k++) steps[k] = th_neuron_steps(p, times[k]);
    rc = th_neuron_run(p, net, z, n_z, replicas, seed, 0, steps, n_times, TH_KERNEL_FAST, means);
    if (rc == TH_OK)
        for (size_t k = 0; k < n_times; k++) {
            th_neuron_readout(net, means + k * n_z * w, n_z, y);
            loss[k] = task_loss(p, y);
        }
    th__free(steps);
    th__free(buf);
    return rc;
}
