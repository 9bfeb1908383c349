/* test_energy.c - the energy ledger: its arithmetic against numbers worked
 * out by hand (in the comments), the SI's exact constants, the RAPL reader
 * on a fake powercap folder, the histogram's bins and chart, and the two
 * properties of the heat that the ledger's joules rest on (science.md
 * section 1): Q = V(x_0) - V(x_end) when V does not depend on time, and
 * W = Delta V + Q with a drive. tests/test_physics.c checks those in depth;
 * here they are short, on the fast kernel that th_gen_sample runs. A
 * time-dependent protocol's books are checked against th_gen_protocol_sample's
 * own heat, switching work and potential change for the same samples. */
#include "harness.h"
#include "thermo.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ------------------------------------------------------- constants */

static void test_energy_kT_joules(void)
{
    /* k_B is exact since the 2019 SI: 1.380649e-23 J/K. */
    CHECK(TH_BOLTZMANN_J_PER_K == 1.380649e-23);
    /* 1.380649e-23 x 300 = 4.141947e-21 J, exactly in decimal. */
    CHECK_REL(th_energy_kT_joules(300.0), 4.141947e-21, 1e-15);
    CHECK_REL(th_energy_kT_joules(1.0), 1.380649e-23, 1e-15);
    CHECK_REL(th_energy_kT_joules(600.0), 2.0 * th_energy_kT_joules(300.0), 1e-15);
    /* 1 pJ = 1e-12 / 4.141947e-21 = 2.414324e8 kT at 300 K (science.md
     * section 7: 2.4e8). */
    CHECK_REL(1e-12 / th_energy_kT_joules(300.0), 2.414324e8, 1e-6);
    /* The molar gas constant R = N_A k_B, both exact in the 2019 SI:
     * 6.02214076e23 x 1.380649e-23 = 8.31446261815324 J/(mol K) (CODATA
     * 2018), a check of the constant from a second published value. */
    CHECK_REL(6.02214076e23 * th_energy_kT_joules(1.0), 8.31446261815324, 1e-14);
}

/* ------------------------------------------------------- MAC counts */

static void test_energy_mlp_macs(void)
{
    /* The PRL baseline, 784-128-128-784 for 10 steps (science.md section 2):
     *   784 x 128 = 100,352;  128 x 128 = 16,384;  128 x 784 = 100,352;
     *   sum 217,088 a pass; x 10 = 2,170,880 MACs ("about 2.2e6").
     * At 1 pJ a MAC: 2.17088e-6 J = 5.2412e14 kT at 300 K ("about 5e14"). */
    const size_t prl[4] = {784, 128, 128, 784};
    uint64_t macs = 0;
    CHECK_EQ_INT(th_energy_mlp_macs(prl, 4, 10, &macs), TH_OK);
    CHECK_EQ_INT(macs, 2170880);
    CHECK_REL((double)macs * 1e-12, 2.17088e-6, 1e-15);
    CHECK_REL((double)macs * 1e-12 / th_energy_kT_joules(300.0), 5.2412066e14, 1e-7);
    /* One layer pair, one step: 3 x 5 = 15. */
    const size_t small[2] = {3, 5};
    CHECK_EQ_INT(th_energy_mlp_macs(small, 2, 1, &macs), TH_OK);
    CHECK_EQ_INT(macs, 15);

    const size_t zero[3] = {3, 0, 5};
    CHECK_EQ_INT(th_energy_mlp_macs(prl, 1, 10, &macs), TH_EINVAL);
    CHECK_EQ_INT(th_energy_mlp_macs(prl, 4, 0, &macs), TH_EINVAL);
    CHECK_EQ_INT(th_energy_mlp_macs(zero, 3, 1, &macs), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "layer 1");
    /* 2^32 x 2^32 = 2^64 does not fit. */
    const size_t huge[2] = {(size_t)1 << 32, (size_t)1 << 32};
    if (sizeof(size_t) >= 8) CHECK_EQ_INT(th_energy_mlp_macs(huge, 2, 1, &macs), TH_EINVAL);
}

static void test_energy_gen_ops(void)
{
    /* The PRL computer: 784 visible + 512 hidden, visible-hidden and
     * hidden-hidden couplings. Ordered pairs: 2 x 784 x 512 = 802,816 plus
     * 512 x 511 = 261,632, so 1,064,448 MACs a force evaluation; 2500 steps
     * a phase; force evaluations 2502 (two more for the heat):
     * 1,064,448 x 2502 = 2,663,248,896. On-site 9 x 1296 units x 5000 steps
     * = 58,320,000; Gaussian numbers 1296 x 5000 = 6,480,000. */
    th_gen_params p = th_gen_params_default();
    th_model *m = th_gen_model_alloc(&p, TH_F32);
    CHECK(m != NULL);
    if (!m) return;
    th_energy_sim_ops ops;
    CHECK_EQ_INT(th_energy_gen_ops(m, &p, &ops), TH_OK);
    CHECK_EQ_INT(ops.steps, 2500);
    CHECK_EQ_INT(ops.coupling_pairs, 1064448);
    CHECK_EQ_INT(ops.coupling_macs, 2663248896ULL);
    CHECK_EQ_INT(ops.onsite_macs, 58320000);
    CHECK_EQ_INT(ops.normals, 6480000);
    /* a protocol of 4 segments: 4 runs, each with its two evaluations for
     * the heat: 1,064,448 x 2508 */
    p.segments = 4;
    CHECK_EQ_INT(th_energy_gen_ops(m, &p, &ops), TH_OK);
    CHECK_EQ_INT(ops.coupling_macs, 1064448ULL * 2508);
    CHECK_EQ_INT(ops.onsite_macs, 58320000);
    p.n_hidden = 500; /* the model no longer matches */
    CHECK_EQ_INT(th_energy_gen_ops(m, &p, &ops), TH_EINVAL);
    th_model_free(m);
}

static void test_energy_student_ops(void)
{
    /* The PNAS student: 784 inputs, 64 hidden + 10 output free units with
     * hidden-hidden, hidden-output and output-output couplings: the free
     * block is all-to-all, 74 x 73 = 5,402 ordered pairs; 200 steps, so per
     * trajectory 5,402 x 202 = 1,091,204 coupling MACs; 10 trajectories
     * 10,912,040 plus the input field 784 x 74 = 58,016 once: 10,970,056.
     * On-site 9 x 74 x 200 x 10 = 1,332,000; Gaussian numbers 148,000. */
    th_student_params p = th_student_params_default();
    th_model *m = th_student_model_alloc(&p, TH_F32);
    CHECK(m != NULL);
    if (!m) return;
    th_energy_sim_ops ops;
    CHECK_EQ_INT(th_energy_student_ops(m, &p, 10, &ops), TH_OK);
    CHECK_EQ_INT(ops.steps, 200);
    CHECK_EQ_INT(ops.coupling_pairs, 5402);
    CHECK_EQ_INT(ops.coupling_macs, 10970056);
    CHECK_EQ_INT(ops.onsite_macs, 1332000);
    CHECK_EQ_INT(ops.normals, 148000);
    CHECK_EQ_INT(th_energy_student_ops(m, &p, 0, &ops), TH_EINVAL);
    p.n_hidden = 63; /* the model no longer matches */
    CHECK_EQ_INT(th_energy_student_ops(m, &p, 10, &ops), TH_EINVAL);
    th_model_free(m);
}

static void test_energy_ratio(void)
{
    /* The paper's estimate: 2.17088e-6 J / (2.9e3 x 4.141947e-21 J)
     * = 2.17088e-6 / 1.2011646e-17 = 1.8073e11, "above 1e11" (science.md). */
    double r = 0;
    CHECK_EQ_INT(th_energy_ratio(2.17088e-6, 2.9e3 * th_energy_kT_joules(300.0), &r), TH_OK);
    CHECK_REL(r, 1.8073126e11, 1e-7);
    CHECK(r > 1e10);
    /* Heat taken from the bath, or none: no ratio. */
    r = 7;
    CHECK_EQ_INT(th_energy_ratio(1e-6, 0.0, &r), TH_EINVAL);
    CHECK(r == 0);
    CHECK_STR_CONTAINS(th_last_error(), "undefined");
    CHECK_EQ_INT(th_energy_ratio(1e-6, -1e-18, &r), TH_EINVAL);
    CHECK_EQ_INT(th_energy_ratio(NAN, 1e-18, &r), TH_EINVAL);
}

static void test_energy_heat_stats(void)
{
    /* {1, 2, 3, 4}: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25
     * = 5, sd sqrt(5 / 3) = 1.2909944. */
    const double h[4] = {1, 2, 3, 4};
    th_heat_stats s;
    CHECK_EQ_INT(th_heat_stats_compute(h, 4, &s), TH_OK);
    CHECK_EQ_INT(s.count, 4);
    CHECK_CLOSE(s.mean, 2.5, 1e-15);
    CHECK_CLOSE(s.sd, 1.2909944487358056, 1e-15);
    CHECK(s.min == 1 && s.max == 4);
    CHECK_EQ_INT(s.negative, 0);
    /* Heat can be negative for a sample (taken from the bath). */
    const double g[3] = {-2, 5, -0.5};
    CHECK_EQ_INT(th_heat_stats_compute(g, 3, &s), TH_OK);
    CHECK_EQ_INT(s.negative, 2);
    CHECK_CLOSE(s.mean, 2.5 / 3.0, 1e-15);
    CHECK_EQ_INT(th_heat_stats_compute(g, 1, &s), TH_OK);
    CHECK(s.sd == 0);
    const double bad[2] = {1, NAN};
    CHECK_EQ_INT(th_heat_stats_compute(bad, 2, &s), TH_EINVAL);
    CHECK_EQ_INT(th_heat_stats_compute(h, 0, &s), TH_EINVAL);
}

/* ------------------------------------------------------- histogram */

static void test_energy_histogram_bins(void)
{
    /* 0, 1, ..., 10 in 5 bins over [0, 10]: edges 0, 2, 4, 6, 8, 10; a value
     * on an edge belongs to the bin above it, 10 to the last bin:
     * {0,1} {2,3} {4,5} {6,7} {8,9,10}. */
    double v[11];
    for (int i = 0; i <= 10; i++) v[i] = i;
    size_t c[5];
    double lo, hi;
    CHECK_EQ_INT(th_histogram_bin(v, 11, 5, &lo, &hi, c), TH_OK);
    CHECK(lo == 0 && hi == 10);
    const size_t expect[5] = {2, 2, 2, 2, 3};
    for (int k = 0; k < 5; k++) CHECK_EQ_INT(c[k], expect[k]);

    /* Random values across 0: each cumulative count equals, by brute force,
     * the number of values below that edge; the counts sum to N. */
    enum { N = 1000, BINS = 17 };
    double *r = malloc(N * sizeof *r);
    size_t cr[BINS];
    CHECK(r != NULL);
    if (!r) return;
    uint64_t state = 0xb125;
    for (int i = 0; i < N; i++) r[i] = test_uniform(&state, -30.0, 70.0);
    CHECK_EQ_INT(th_histogram_bin(r, N, BINS, &lo, &hi, cr), TH_OK);
    size_t total = 0;
    for (int k = 0; k < BINS; k++) {
        const double edge = lo + (hi - lo) * (double)k / (double)BINS;
        size_t below = 0;
        for (int i = 0; i < N; i++) below += r[i] < edge;
        CHECK_EQ_INT(total, below);
        total += cr[k];
    }
    CHECK_EQ_INT(total, N);
    free(r);

    /* All the same: [v - 0.5, v + 0.5]; 3 sits on the middle edge of 4. */
    const double same[3] = {3, 3, 3};
    size_t cs[4];
    CHECK_EQ_INT(th_histogram_bin(same, 3, 4, &lo, &hi, cs), TH_OK);
    CHECK(lo == 2.5 && hi == 3.5);
    CHECK_EQ_INT(cs[2], 3);
    const double bad[2] = {0, INFINITY};
    CHECK_EQ_INT(th_histogram_bin(bad, 2, 4, &lo, &hi, cs), TH_EINVAL);
    CHECK_EQ_INT(th_histogram_bin(same, 3, 0, &lo, &hi, cs), TH_EINVAL);
}

static int pixel_is(const th_canvas *c, size_t x, size_t y, int r, int g, int b)
{
    const uint8_t *p = c->rgb + (y * c->width + x) * 3;
    return p[0] == r && p[1] == g && p[2] == b;
}

static void test_energy_histogram_chart(void)
{
    /* 124 x 60: margins of 12 leave a plot 100 wide from column 12; the x axis
     * is row 60 - 12 - 4 - 1 = 43, the plot rows 12 .. 42 (31 tall). Bins
     * of 25 columns: [12, 37) [37, 62) [62, 87) [87, 112), the last column
     * of each left white. Counts {2, 0, 4, 1}: bin 2 fills all 31 rows,
     * bin 0 16 (15.5 rounded), bin 3 8 (7.75). A mark at the middle of
     * [0, 4], value 2, falls on column 12 + 50 = 62. */
    const size_t counts[4] = {2, 0, 4, 1};
    const double mark = 2.0;
    th_canvas *c = th_picture_histogram(counts, 4, 0.0, 4.0, &mark, 1, 124, 60);
    CHECK(c != NULL);
    if (!c) return;
    CHECK(pixel_is(c, 70, 12, 70, 130, 180));   /* bin 2, top row */
    CHECK(pixel_is(c, 70, 11, 255, 255, 255));  /* above the plot */
    CHECK(pixel_is(c, 20, 42 - 15, 70, 130, 180)); /* bin 0, its 16th row */
    CHECK(pixel_is(c, 20, 42 - 16, 255, 255, 255));
    CHECK(pixel_is(c, 50, 42, 255, 255, 255));  /* bin 1: empty */
    CHECK(pixel_is(c, 36, 42, 255, 255, 255));  /* the white column after bin 0 */
    CHECK(pixel_is(c, 90, 42 - 7, 70, 130, 180));
    CHECK(pixel_is(c, 90, 42 - 8, 255, 255, 255));
    CHECK(pixel_is(c, 62, 20, 200, 30, 30));    /* the mark, two columns */
    CHECK(pixel_is(c, 63, 20, 200, 30, 30));
    CHECK(pixel_is(c, 30, 43, 0, 0, 0));        /* x axis */
    CHECK(pixel_is(c, 11, 30, 0, 0, 0));        /* y axis */
    CHECK(pixel_is(c, 37, 45, 0, 0, 0));        /* tick at the edge of bin 1 */
    th_canvas_free(c);
    CHECK(th_picture_histogram(counts, 4, 0.0, 4.0, NULL, 0, 20, 60) == NULL);
    CHECK(th_picture_histogram(counts, 4, 1.0, 1.0, NULL, 0, 124, 60) == NULL);
}

/* ------------------------------------------------------------ RAPL */

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int bad = fputs(text, f) < 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* A powercap zone folder with the given files; NULL text = no such file. */
static int fake_zone(const char *zone, const char *name, const char *energy, const char *max)
{
    char rel[128];
    if (mkdir(scratch(zone), 0700) != 0) return -1;
    const char *files[3] = {"name", "energy_uj", "max_energy_range_uj"};
    const char *text[3] = {name, energy, max};
    for (int k = 0; k < 3; k++) {
        if (!text[k]) continue;
        snprintf(rel, sizeof rel, "%s/%s", zone, files[k]);
        if (write_text(scratch(rel), text[k]) != 0) return -1;
    }
    return 0;
}

static void test_energy_rapl_fake(void)
{
    CHECK(scratch_begin());
    th_rapl_reading before, after;
    double joules = -1;
    /* No folder at all: not available, the path named. */
    CHECK_EQ_INT(th_rapl_read("/nonexistent/powercap", &before), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "/nonexistent/powercap");
    /* A folder without zones. */
    CHECK_EQ_INT(th_rapl_read(scratch_dir, &before), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "no RAPL package zone");

    /* package-0 at zone 0 with a core sub-zone (ignored), a psys zone 1
     * (ignored: it would count the packages twice), no zone 2, package-1 at
     * zone 3 near the end of its range. */
    CHECK(fake_zone("intel-rapl:0", "package-0\n", "1000\n", "5000\n") == 0);
    CHECK(fake_zone("intel-rapl:0/intel-rapl:0:0", "core\n", "700\n", "5000\n") == 0);
    CHECK(fake_zone("intel-rapl:1", "psys\n", "99999\n", "999999\n") == 0);
    CHECK(fake_zone("intel-rapl:3", "package-1\n", "4900\n", "5000\n") == 0);
    CHECK_EQ_INT(th_rapl_read(scratch_dir, &before), TH_OK);
    CHECK_EQ_INT(before.count, 2);
    CHECK(strcmp(before.zone[0], "intel-rapl:0") == 0);
    CHECK(strcmp(before.zone[1], "intel-rapl:3") == 0);
    CHECK(strcmp(before.name[1], "package-1") == 0);
    CHECK_EQ_INT(before.energy_uj[0], 1000);
    CHECK_EQ_INT(before.max_energy_range_uj[1], 5000);

    /* package-0 1000 -> 4000: 3000 uJ; package-1 wraps 4900 -> 100:
     * (5000 - 4900) + 100 = 200 uJ; 3200 uJ = 3.2e-3 J in all. */
    CHECK(write_text(scratch("intel-rapl:0/energy_uj"), "4000\n") == 0);
    CHECK(write_text(scratch("intel-rapl:3/energy_uj"), "100\n") == 0);
    CHECK_EQ_INT(th_rapl_read(scratch_dir, &after), TH_OK);
    CHECK_EQ_INT(th_rapl_joules(&before, &after, &joules), TH_OK);
    CHECK_CLOSE(joules, 3.2e-3, 1e-15);
    /* No change: 0 J. */
    CHECK_EQ_INT(th_rapl_joules(&after, &after, &joules), TH_OK);
    CHECK(joules == 0);

    /* Malformed and out-of-range counters, a missing counter. */
    CHECK(write_text(scratch("intel-rapl:3/energy_uj"), "12a\n") == 0);
    CHECK_EQ_INT(th_rapl_read(scratch_dir, &after), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "intel-rapl:3/energy_uj");
    CHECK(write_text(scratch("intel-rapl:3/energy_uj"), "6000\n") == 0);
    CHECK_EQ_INT(th_rapl_read(scratch_dir, &after), TH_EFORMAT);
    CHECK(remove(scratch("intel-rapl:3/energy_uj")) == 0);
    CHECK_EQ_INT(th_rapl_read(scratch_dir, &after), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "energy_uj");

    /* Readings of different zones cannot be subtracted. */
    after = before;
    after.count = 1;
    CHECK_EQ_INT(th_rapl_joules(&before, &after, &joules), TH_EINVAL);
    scratch_end();
}

/* --------------------------------------------------- the heat itself */

/* A small coupled quartic model, 2 + 2 units, f64 (no float rounding in the
 * comparison): couplings within and across the groups, biases. */
static th_model *small_quartic(void)
{
    const size_t sizes[2] = {2, 2};
    th_model *m = th_model_alloc(2, sizes, TH_F64);
    if (!m) return NULL;
    m->kT = 0.5;
    th_model_set_onsite(m, 1.0, 1.0);
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    th_model_set_coupling(m, 0, 2, 0.4);
    th_model_set_coupling(m, 1, 3, -0.3);
    th_model_set_coupling(m, 0, 3, 0.2);
    th_model_set_coupling(m, 2, 3, 0.25);
    const double b[4] = {0.1, -0.2, 0.05, 0.3};
    for (size_t i = 0; i < 4; i++) m->b.f64[i] = b[i];
    return m;
}

static double amplitude_ramp(double t, void *ctx)
{
    (void)ctx;
    return 2.0 * t;
}

/* Runs B paths of 1000 steps at dt = 1e-3 (T = 1) from random starts in
 * [-1, 1]; driven or not. Returns the mean and max over paths of
 * |W - (V_end - V_0) / kT - Q| and the mean |Q| and max |W|; 0 on success. */
static int heat_balance(int driven, double *mean_r, double *max_r, double *mean_q,
                        double *max_w)
{
    enum { B = 200 };
    th_model *m = small_quartic();
    th_batch *s = m ? th_batch_alloc(m, B, 77) : NULL;
    double v0[B], v1[B];
    double field[4] = {0.5, -1.0, 0.8, 0.3};
    int rc = -1;
    if (!m || !s) goto done;
    uint64_t state = 0x4ea7;
    for (size_t i = 0; i < B * 4; i++) th_batch_states(s).f64[i] = test_uniform(&state, -1.0, 1.0);
    th_drive drive = {amplitude_ramp, NULL, {.f64 = field}, 0};
    th_run r = th_run_default();
    r.n_steps = 1000;
    r.dt = 1e-3;
    r.drive = driven ? &drive : NULL;
    th_model_potential(m, r.drive, 0.0, th_batch_states(s), B, v0);
    if (th_langevin_run(m, s, &r) != TH_OK) goto done;
    th_model_potential(m, r.drive, th_batch_time(s), th_batch_states(s), B, v1);
    *mean_r = *max_r = *mean_q = *max_w = 0;
    for (size_t k = 0; k < B; k++) {
        double res = fabs(th_batch_work(s)[k] - (v1[k] - v0[k]) / m->kT - th_batch_heat(s)[k]);
        *mean_r += res / B;
        *max_r = fmax(*max_r, res);
        *mean_q += fabs(th_batch_heat(s)[k]) / B;
        *max_w = fmax(*max_w, fabs(th_batch_work(s)[k]));
    }
    rc = 0;
done:
    th_batch_free(s);
    th_model_free(m);
    return rc;
}

/* The tolerance. The integrator's heat and work are Crooks' discrete ones
 * (a step's work V(x_k; t_k+1) - V(x_k; t_k), its heat V(x_k; t_k+1) -
 * V(x_k+1; t_k+1): Sekimoto's Stratonovich heat along the straight step,
 * exactly), so the first law holds to rounding, here against
 * th_model_potential's own double-precision sums: 1000 steps of energies
 * near 1 kT in double leave residuals near 1e-13 kT. When the heat was the
 * midpoint rule's approximation of the same integral, the residual was its
 * O(dt) error, a mean near 0.004 kT; any slip of a term, a sign or a time
 * gives far more than the bound. */
#define BALANCE_TOL_KT 1e-9

static void test_energy_heat_is_potential_drop(void)
{
    double mean_r, max_r, mean_q, max_w;
    CHECK(heat_balance(0, &mean_r, &max_r, &mean_q, &max_w) == 0);
    CHECK(max_w == 0);    /* no drive: no work at all */
    CHECK(mean_q > 0.5);  /* the check is not 0 = 0 */
    CHECK(max_r < BALANCE_TOL_KT);
    CHECK(mean_r < BALANCE_TOL_KT / 4);
    if (!(max_r < BALANCE_TOL_KT))
        fprintf(stderr, "  |Q - (V0 - VT)/kT|: mean %g, max %g kT (mean |Q| %g kT)\n", mean_r,
                max_r, mean_q);
}

static void test_energy_first_law_drive(void)
{
    /* A drive a(t) = 2t on a fixed field: the work is not 0, and
     * W = Delta V / kT + Q to rounding. */
    double mean_r, max_r, mean_q, max_w;
    CHECK(heat_balance(1, &mean_r, &max_r, &mean_q, &max_w) == 0);
    CHECK(max_w > 0.5);
    CHECK(max_r < BALANCE_TOL_KT);
    if (!(max_r < BALANCE_TOL_KT))
        fprintf(stderr, "  |W - dV/kT - Q|: mean %g, max %g kT (max |W| %g kT)\n", mean_r,
                max_r, max_w);
}

/* ---------------------------------------------------------- the ledgers */

static void test_energy_grouped(void)
{
    char buf[32];
    CHECK(strcmp(th_energy_grouped(0, buf, sizeof buf), "0") == 0);
    CHECK(strcmp(th_energy_grouped(999, buf, sizeof buf), "999") == 0);
    CHECK(strcmp(th_energy_grouped(1000, buf, sizeof buf), "1,000") == 0);
    CHECK(strcmp(th_energy_grouped(2170880, buf, sizeof buf), "2,170,880") == 0);
    CHECK(strcmp(th_energy_grouped(UINT64_MAX, buf, sizeof buf),
                 "18,446,744,073,709,551,615") == 0);
}

/* The PRL computer (the default generator, float32) with the heat {1000,
 * 2000, 3000} kT and the default assumptions, the books the ledger tests
 * read: *p, *o and *L set, the model returned (NULL when out of memory). */
static const double prl_heat[3] = {1000, 2000, 3000};

static th_model *prl_ledger(th_gen_params *p, th_energy_opts *o, th_energy_ledger *L)
{
    *p = th_gen_params_default();
    *o = th_energy_opts_default();
    th_model *m = th_gen_model_alloc(p, TH_F32);
    CHECK(m != NULL);
    if (m) CHECK_EQ_INT(th_energy_ledger_gen(m, p, o, prl_heat, 3, NULL, L), TH_OK);
    return m;
}

static void test_energy_ledger_gen(void)
{
    /* The PRL computer (784 + 512 units, 2500 steps a phase, as in
     * test_energy_gen_ops) with the heat {1000, 2000, 3000} kT: mean
     * 2000 kT = 2000 x 4.141947e-21 = 8.283894e-18 J at 300 K.
     * (a) the paper's 784-128-128-784 MLP x 10 steps: 2,170,880 MACs,
     *     2.17088e-6 J at 1 pJ; ratio 2.17088e-6 / 8.283894e-18 = 2.6206033e11.
     * (b) 2,663,248,896 + 58,320,000 = 2,721,568,896 MACs = 2.721568896e-3 J,
     *     ratio 3.2853738e14.
     * (d) by default the same network as (a).
     * The paper's own: 2.17088e-6 / (2.9e3 x 4.141947e-21) = 1.8073126e11.
     * Each phase lasts 2500 x 1e-3 x 1e-6 s = 2.5e-6 s. */
    th_gen_params p;
    th_energy_opts o;
    th_energy_ledger L;
    th_model *m = prl_ledger(&p, &o, &L);
    if (!m) return;
    CHECK_EQ_INT(L.classifier, 0);
    CHECK_EQ_INT(L.trajectories, 1);
    CHECK_REL(L.kT_J, 4.141947e-21, 1e-15);
    CHECK_REL(L.heat_J, 8.283894e-18, 1e-15);
    CHECK_REL(L.compute_s, 2.5e-6, 1e-15);
    CHECK_REL(L.noise_s, 2.5e-6, 1e-15);
    const th_energy_line *a = &L.line[TH_ENERGY_LINE_PAPER], *b = &L.line[TH_ENERGY_LINE_SIM];
    const th_energy_line *c = &L.line[TH_ENERGY_LINE_RAPL], *d = &L.line[TH_ENERGY_LINE_USER];
    CHECK(strcmp(a->id, "a") == 0 && strcmp(d->id, "d") == 0);
    CHECK(a->macs == 2170880);
    CHECK_REL(a->joules, 2.17088e-6, 1e-15);
    CHECK(a->ratio_defined);
    CHECK_REL(a->ratio, 2.6206033e11, 1e-7);
    CHECK(b->macs == 2721568896.0);
    CHECK_REL(b->ratio, 3.2853738e14, 1e-7);
    CHECK(!c->available && !c->ratio_defined);
    CHECK_STR_CONTAINS(c->why_not, "not measured");
    CHECK(d->macs == a->macs);
    CHECK_EQ_INT(L.steps, 10);
    CHECK_EQ_INT(L.n_layers, 4);
    CHECK_REL(L.paper.ratio, 1.8073126e11, 1e-7);
    CHECK_STR_CONTAINS(a->label, "784-128-128-784 MLP x 10 steps, 1e-12 J/MAC");
    CHECK_STR_CONTAINS(b->assumes, "1,064,448 coupled pairs x 2502 force evaluations");
    CHECK_STR_CONTAINS(d->label, "x 10 denoising steps");
    /* sqrt(3) bins would be 2: at least 5; the counts hold every sample. */
    CHECK_EQ_INT(L.n_bins, TH_ENERGY_MIN_BINS);
    size_t sum = 0;
    for (size_t k = 0; k < L.n_bins; k++) sum += L.bins[k];
    CHECK_EQ_INT(sum, 3);
    CHECK(L.bin_lo == 1000 && L.bin_hi == 3000);
    CHECK(L.left_out != NULL && L.n_left_out > 0);

    /* A network of one's own, 3-5 x 2 passes: 2 x 15 = 30 MACs; one pass
     * is "step", more "steps". */
    const size_t net[2] = {3, 5};
    o.network = net;
    o.n_layers = 2;
    o.steps = 2;
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_OK);
    CHECK(L.line[TH_ENERGY_LINE_USER].macs == 30);
    CHECK_STR_CONTAINS(L.line[TH_ENERGY_LINE_USER].label, "3-5 MLP x 2 denoising steps");
    o.steps = 1;
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_OK);
    CHECK_STR_CONTAINS(L.line[TH_ENERGY_LINE_USER].label, "x 1 denoising step, ");
    /* 2^32 x 2^32 MACs overflow: refused, not priced at 0. */
    const size_t huge[2] = {(size_t)1 << 32, (size_t)1 << 32};
    o.network = huge;
    if (sizeof(size_t) >= 8)
        CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_EINVAL);
    o.network = NULL;

    /* Heat taken from the bath on average: the books stand, no ratio. */
    const double cold[2] = {-1, -2};
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, cold, 2, NULL, &L), TH_OK);
    CHECK(!L.line[TH_ENERGY_LINE_PAPER].ratio_defined);
    CHECK_EQ_INT(L.hs.negative, 2);
    CHECK(!L.overflow);
    /* 1e-300 K: the heat in joules vanishes and the ratio overflows. */
    o.temperature_K = 1e-300;
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_EINVAL);
    CHECK(L.overflow);
    CHECK_STR_CONTAINS(th_last_error(), "overflows or vanishes");
    o.temperature_K = 300;
    /* Settings of 0 or less, or not a number, are refused before anything
     * else, naming the setting. */
    o.temperature_K = -1;
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "temperature -1 K: expected a finite value > 0");
    o.temperature_K = 300;
    o.time_unit_s = 0;
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "time unit 0 s");
    o.time_unit_s = 1e-6;
    o.mac_energy_J = NAN;
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "MAC energy nan J");
    o.mac_energy_J = 1e-12;
    /* No heat, or a model that does not match. */
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 0, NULL, &L), TH_EINVAL);
    CHECK(!L.overflow);
    p.n_hidden = 500;
    CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, prl_heat, 3, NULL, &L), TH_EINVAL);
    th_model_free(m);
}

static void test_energy_ledger_student(void)
{
    /* The PNAS student (test_energy_student_ops) of the 784-32-32-10 teacher,
     * 10 trajectories a classification, heat {4e4, 6e4} kT a classification:
     * mean 5e4 kT = 2.0709735e-16 J.
     * (a) one forward pass: 784 x 32 + 32 x 32 + 32 x 10 = 26,432 MACs,
     *     2.6432e-8 J; ratio 2.6432e-8 / 2.0709735e-16 = 1.2763080e8.
     * (b) 10,970,056 + 1,332,000 = 12,302,056 MACs.
     * The PNAS paper's: 2.6432e-8 / (2.3e4 x 10 x 4.141947e-21)
     * = 2.7745826e7, "above 1e7". One trajectory lasts 200 x 1e-3 x 1e-6 s. */
    th_student_params p = th_student_params_default();
    th_model *m = th_student_model_alloc(&p, TH_F32);
    CHECK(m != NULL);
    if (!m) return;
    const size_t teacher[4] = {784, 32, 32, 10};
    const double heat[2] = {4e4, 6e4};
    th_energy_opts o = th_energy_opts_default();
    th_energy_ledger L;
    CHECK_EQ_INT(th_energy_ledger_student(m, &p, teacher, 4, &o, heat, 2, NULL, &L), TH_OK);
    CHECK_EQ_INT(L.classifier, 1);
    CHECK_EQ_INT(L.trajectories, 10);
    CHECK_REL(L.heat_J, 2.0709735e-16, 1e-15);
    CHECK(L.line[TH_ENERGY_LINE_PAPER].macs == 26432);
    CHECK_REL(L.line[TH_ENERGY_LINE_PAPER].ratio, 1.2763080e8, 1e-7);
    CHECK(L.line[TH_ENERGY_LINE_SIM].macs == 12302056);
    CHECK(L.line[TH_ENERGY_LINE_USER].macs == 26432);
    CHECK_EQ_INT(L.steps, 1);
    CHECK_STR_CONTAINS(L.line[TH_ENERGY_LINE_USER].label, "784-32-32-10 MLP x 1 pass,");
    CHECK_REL(L.paper.ratio, 2.7745826e7, 1e-7);
    CHECK_EQ_INT(L.paper.trajectories, 10);
    CHECK_REL(L.compute_s, 2e-7, 1e-15);
    CHECK(L.noise_s == 0);
    CHECK(L.n_left_out == 0 && L.left_out != NULL);
    o.steps = 3; /* "passes" */
    CHECK_EQ_INT(th_energy_ledger_student(m, &p, teacher, 4, &o, heat, 2, NULL, &L), TH_OK);
    CHECK_STR_CONTAINS(L.line[TH_ENERGY_LINE_USER].label, "x 3 passes");
    th_model_free(m);
}

static void test_energy_meter(void)
{
    /* One package counting 1000 -> 3000001000 uJ over the run: 3000 J, over
     * 4 samples 750 J a sample. */
    CHECK(scratch_begin());
    CHECK(fake_zone("intel-rapl:0", "package-0\n", "1000\n", "262143328850\n") == 0);
    th_energy_meter mt;
    th_energy_meter_start(&mt, scratch_dir);
    CHECK(mt.why_not[0] == '\0');
    CHECK(write_text(scratch("intel-rapl:0/energy_uj"), "3000001000\n") == 0);
    th_energy_meter_stop(&mt);
    CHECK(mt.available);
    CHECK_EQ_INT(mt.zones, 1);
    CHECK_CLOSE(mt.joules, 3000.0, 1e-9);
    th_gen_params p = th_gen_params_default();
    th_model *m = th_gen_model_alloc(&p, TH_F32);
    const double heat[4] = {1, 2, 3, 4};
    th_energy_opts o = th_energy_opts_default();
    th_energy_ledger L;
    if (m) {
        CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, heat, 4, &mt, &L), TH_OK);
        const th_energy_line *c = &L.line[TH_ENERGY_LINE_RAPL];
        CHECK(c->available && c->ratio_defined);
        CHECK_CLOSE(c->joules, 750.0, 1e-9);
        CHECK_CLOSE(L.rapl_J, 3000.0, 1e-9);
        CHECK_STR_CONTAINS(c->assumes, scratch_dir);
    }
    th_model_free(m);
    /* A folder without counters: line (c) says why, the run goes on. */
    th_energy_meter_start(&mt, "/nonexistent/powercap");
    th_energy_meter_stop(&mt);
    CHECK(!mt.available);
    CHECK_STR_CONTAINS(mt.why_not, "/nonexistent/powercap");
    scratch_end();
}

/* A generator of 4 visible + 3 hidden units and 10 steps a phase. */
static th_gen_params tiny_gen(void)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 4;
    p.n_hidden = 3;
    p.t_f = 0.01;
    return p;
}

static void test_energy_run_gen(void)
{
    /* The run is the books of th_gen_sample's heat: same samples, same
     * streams, the same numbers to the bit, in one chunk or many. */
    th_gen_params p = tiny_gen();
    th_model *m = th_gen_model_alloc(&p, TH_F64);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_EQ_INT(th_model_set_coupling(m, 0, 5, 0.3), TH_OK); /* visible 0, hidden 1 */
    enum { N = 1100 }; /* more than one chunk of 1024 */
    double *heat = malloc(N * sizeof *heat);
    float *x = malloc(N * p.n_visible * sizeof *x);
    th_gen_sample_opts so = th_gen_sample_opts_default();
    CHECK(heat && x);
    if (heat && x) {
        CHECK_EQ_INT(th_gen_sample(m, &p, N, &so, x, heat), TH_OK);
        th_energy_opts o = th_energy_opts_default();
        o.rapl_root = "/nonexistent/powercap";
        th_energy_ledger run, books;
        CHECK_EQ_INT(th_energy_run_gen(m, &p, N, &o, &run), TH_OK);
        CHECK_EQ_INT(th_energy_ledger_gen(m, &p, &o, heat, N, NULL, &books), TH_OK);
        CHECK(run.hs.mean == books.hs.mean && run.hs.sd == books.hs.sd);
        CHECK(run.line[TH_ENERGY_LINE_SIM].ratio == books.line[TH_ENERGY_LINE_SIM].ratio);
        CHECK_EQ_INT(run.n_bins, 34); /* ceil(sqrt(1100)) */
        CHECK(run.wall_s >= 0);
        CHECK_STR_CONTAINS(run.line[TH_ENERGY_LINE_RAPL].why_not, "/nonexistent/powercap");
        CHECK_EQ_INT(th_energy_run_gen(m, &p, 0, &o, &run), TH_EINVAL);
    }
    free(heat);
    free(x);
    th_model_free(m);
}

/* The books of a time-dependent protocol are th_gen_protocol_sample's own
 * numbers for the same samples (the same streams): the statistics of its
 * heat, switching work and potential change to the bit, in one chunk or
 * many, and the first law's residual dV - (W - Q) computed here from them;
 * with one segment, th_energy_run_gen's books and report. */
static void test_energy_run_protocol(void)
{
    th_gen_params p = tiny_gen(), p1 = tiny_gen();
    p.segments = 3; /* 10 steps: 3, 3 and 4 */
    th_model *m[3];
    for (size_t s = 0; s < 3; s++) m[s] = test_gen_random_model(&p, TH_F64, 0.8, 300 + s);
    th_gen_protocol *pr = th_gen_protocol_from_models((const th_model *const *)m, 3);
    th_gen_protocol *one = th_gen_protocol_from_models((const th_model *const *)m, 1);
    enum { N = 1100 }; /* more than one chunk of 1024 */
    double *heat = malloc(3 * N * sizeof *heat), *work = heat + N, *dv = heat + 2 * N;
    float *x = malloc(N * p.n_visible * sizeof *x);
    CHECK(pr && one && heat && x);
    if (!pr || !one || !heat || !x) goto done;
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.work = work;
    so.potential_change = dv;
    CHECK_EQ_INT(th_gen_protocol_sample(pr, &p, N, &so, x, heat), TH_OK);
    th_energy_opts o = th_energy_opts_default();
    o.rapl_root = "/nonexistent/powercap";
    th_energy_ledger run, books;
    CHECK_EQ_INT(th_energy_run_gen_protocol(pr, &p, N, &o, &run), TH_OK);
    CHECK_EQ_INT(th_energy_ledger_gen_protocol(pr, &p, &o, heat, work, dv, N, NULL, &books),
                 TH_OK);
    th_heat_stats hs, ws, vs;
    CHECK_EQ_INT(th_heat_stats_compute(heat, N, &hs), TH_OK);
    CHECK_EQ_INT(th_heat_stats_compute(work, N, &ws), TH_OK);
    CHECK_EQ_INT(th_heat_stats_compute(dv, N, &vs), TH_OK);
    double mean_r = 0, max_r = 0, mean_w = 0;
    for (size_t k = 0; k < N; k++) {
        const double r = fabs(dv[k] - (work[k] - heat[k]));
        mean_r += r / N;
        max_r = fmax(max_r, r);
        mean_w += fabs(work[k]) / N;
    }
    const th_energy_ledger *both[2] = {&run, &books};
    for (int b = 0; b < 2; b++) {
        const th_energy_ledger *L = both[b];
        CHECK(memcmp(&L->hs, &hs, sizeof hs) == 0);
        CHECK(memcmp(&L->work, &ws, sizeof ws) == 0);
        CHECK(memcmp(&L->potential_change, &vs, sizeof vs) == 0);
        CHECK_EQ_INT(L->segments, 3);
        CHECK_REL(L->first_law_mean_abs, mean_r, 1e-12);
        CHECK(L->first_law_max_abs == max_r);
        CHECK(L->work_J == ws.mean * L->kT_J);
    }
    /* the switches do work, and the first law holds to the integrator's O(dt) */
    CHECK(ws.sd > 0.01);
    CHECK(max_r < 0.01 * mean_w);
    if (getenv("THERMO_TEST_VERBOSE") || !(max_r < 0.01 * mean_w))
        fprintf(stderr, "  protocol ledger: |dV - (W - Q)| mean %.3g, max %.3g kT; mean |W| "
                "%.3g kT\n", mean_r, max_r, mean_w);
    /* 3 runs, each closing its heat: (10 + 3) force evaluations */
    CHECK_EQ_INT(run.ops.coupling_macs, run.ops.coupling_pairs * 16);
    char *text = th_energy_ledger_text(&run, NULL);
    char *json = th_energy_ledger_json(&run, "p.safetensors", NULL);
    CHECK_STR_CONTAINS(text, "  first law dV = W - Q per sample: ");
    CHECK_STR_CONTAINS(text, "at switch-on and at the 2 boundaries of its 3 segments");
    CHECK_STR_CONTAINS(text, "(10 steps + 2 for the heat in each of 3 segments)");
    CHECK_STR_CONTAINS(json, "\"first_law_per_sample\"");
    CHECK_STR_CONTAINS(json, "\"residual_max_abs_kT\"");
    free(text);
    free(json);
    /* books without the work, a protocol the settings do not describe, a
     * single-model call with a protocol's settings */
    CHECK_EQ_INT(th_energy_ledger_gen_protocol(pr, &p, &o, heat, NULL, dv, N, NULL, &books),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "work");
    CHECK_EQ_INT(th_energy_run_gen_protocol(one, &p, 4, &o, &books), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "segment");
    CHECK_EQ_INT(th_energy_run_gen(m[0], &p, 4, &o, &books), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "th_gen_protocol_");
    CHECK_EQ_INT(th_energy_ledger_gen(m[0], &p, &o, heat, 4, NULL, &books), TH_EINVAL);

    /* one segment: the fixed computer's books and report, to the byte */
    CHECK_EQ_INT(th_energy_run_gen_protocol(one, &p1, 50, &o, &run), TH_OK);
    CHECK_EQ_INT(th_energy_run_gen(m[0], &p1, 50, &o, &books), TH_OK);
    CHECK(memcmp(&run.hs, &books.hs, sizeof run.hs) == 0);
    CHECK_EQ_INT(run.segments, 1);
    CHECK(run.work.count == 0 && run.first_law_max_abs == 0);
    char *t1 = th_energy_ledger_text(&run, NULL), *t2 = th_energy_ledger_text(&books, NULL);
    CHECK(t1 && t2 && strcmp(t1, t2) == 0);
    CHECK_STR_CONTAINS(t1, "  work      0: couplings and biases stay fixed while it computes");
    CHECK(t1 && strstr(t1, "first law") == NULL);
    free(t1);
    free(t2);
done:
    free(heat);
    free(x);
    th_gen_protocol_free(pr);
    th_gen_protocol_free(one);
    for (size_t s = 0; s < 3; s++) th_model_free(m[s]);
}

static void test_energy_run_student(void)
{
    /* A classification costs the heat of all its trajectories: the run's
     * heat is trajectories x th_student_classify's mean per trajectory. */
    th_student_params p = th_student_params_default();
    p.n_input = 6;
    p.n_hidden = 4;
    p.n_output = 3;
    p.t_f = 0.02;
    th_model *m = th_student_model_alloc(&p, TH_F32);
    CHECK(m != NULL);
    if (!m) return;
    const size_t teacher[3] = {6, 5, 3};
    enum { N = 3, M = 4 };
    float X[N * 6];
    uint64_t state = 0x5eed;
    for (size_t k = 0; k < N * 6; k++) X[k] = (float)test_uniform(&state, -1.0, 1.0);
    const uint8_t labels[N] = {0, 1, 2};
    float mean[N * 3];
    double heat[N];
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.trajectories = M;
    CHECK_EQ_INT(th_student_classify(m, &p, X, N, &eo, mean, NULL, heat), TH_OK);
    th_energy_opts o = th_energy_opts_default();
    o.trajectories = M;
    o.rapl_root = "/nonexistent/powercap";
    th_energy_ledger L;
    CHECK_EQ_INT(th_energy_run_student(m, &p, teacher, 3, X, labels, N, &o, &L), TH_OK);
    double all[N];
    for (size_t k = 0; k < N; k++) all[k] = heat[k] * M;
    th_heat_stats hs;
    CHECK_EQ_INT(th_heat_stats_compute(all, N, &hs), TH_OK);
    CHECK(L.hs.mean == hs.mean);
    CHECK_CLOSE(L.top1, th_topk_accuracy(mean, N, 3, labels, 1), 0);
    CHECK(L.line[TH_ENERGY_LINE_PAPER].macs == 6 * 5 + 5 * 3);
    th_model_free(m);
}

static void test_energy_ledger_text_json(void)
{
    /* The report and the JSON say what the books hold. */
    th_gen_params p;
    th_energy_opts o;
    th_energy_ledger L;
    th_model *m = prl_ledger(&p, &o, &L);
    if (!m) return;
    char *text = th_energy_ledger_text(&L, "h.png");
    CHECK_STR_CONTAINS(text, "bath      300 K: kT = 4.141947e-21 J");
    CHECK_STR_CONTAINS(text, "  (a) 2,170,880 MACs = 2.171e-06 J\n");
    CHECK_STR_CONTAINS(text, "  (a)   2.171e-06    2.62e+11   paper's baseline");
    CHECK_STR_CONTAINS(text, "ratio 1.81e+11, the paper's own estimate");
    CHECK_STR_CONTAINS(text, "  histogram h.png: 5 bins of 400 kT from 1000 to 3000 kT");
    CHECK_STR_CONTAINS(text, "left out  The heat is that of an ideal computer's units");
    free(text);
    char *json = th_energy_ledger_json(&L, "model.safetensors", NULL);
    CHECK_STR_CONTAINS(json, "\"model\":\t\"model.safetensors\"");
    CHECK_STR_CONTAINS(json, "\"macs\":\t2170880");
    CHECK_STR_CONTAINS(json, "\"paper_check\"");
    CHECK_STR_CONTAINS(json, "\"left_out\"");
    free(json);
    th_model_free(m);
}

void suite_energy(void)
{
    RUN_TEST(test_energy_kT_joules);
    RUN_TEST(test_energy_mlp_macs);
    RUN_TEST(test_energy_gen_ops);
    RUN_TEST(test_energy_student_ops);
    RUN_TEST(test_energy_ratio);
    RUN_TEST(test_energy_heat_stats);
    RUN_TEST(test_energy_histogram_bins);
    RUN_TEST(test_energy_histogram_chart);
    RUN_TEST(test_energy_rapl_fake);
    RUN_TEST(test_energy_grouped);
    RUN_TEST(test_energy_ledger_gen);
    RUN_TEST(test_energy_ledger_student);
    RUN_TEST(test_energy_meter);
    RUN_TEST(test_energy_run_gen);
    RUN_TEST(test_energy_run_protocol);
    RUN_TEST(test_energy_run_student);
    RUN_TEST(test_energy_ledger_text_json);
    RUN_TEST(test_energy_heat_is_potential_drop);
    RUN_TEST(test_energy_first_law_drive);
}
