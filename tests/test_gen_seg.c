/* test_gen_seg.c - time-dependent protocols of the generator (issue 18):
 * couplings and biases piecewise constant over S segments. Each part is
 * checked against something independent of the code under test:
 *   - the segments' steps against floor(s K / S) written out;
 *   - the model file: one segment writes th_model_save's bytes, the others
 *     round-trip and a damaged segment tensor is named;
 *   - sampling, the readout and the energy ledger against a reconstruction
 *     in this file from th_langevin_run alone (uncoupled noise phase, one
 *     run per segment with full snapshots, V from the plain-loop
 *     th_model_potential at every switch), and the first law dV = W - Q
 *     with its O(dt) residual;
 *   - the protocol's path loss against the per-step reference twin applied
 *     step by step with each step's own segment, its gradient against float64
 *     central differences;
 *   - the exact solver: statistics loss per segment against that reference,
 *     the solved objective's gradient by central differences, a huge penalty
 *     against the one-segment solution;
 *   - gradient descent resumed from a checkpoint against an uninterrupted
 *     run, bit for bit. */
#include "harness.h"
#include "thermo.h"
#include "gen/gen_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 6 visible + 4 hidden units, 60 steps in blocks of 7, 3 segments of 20. */
static th_gen_params seg_params(size_t S)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 6;
    p.n_hidden = 4;
    p.t_f = 0.06;
    p.block_steps = 7;
    p.seed = 23;
    p.segments = S;
    return p;
}

/* A protocol whose segments are random models of the given scale. */
static th_gen_protocol *random_protocol(const th_gen_params *p, th_dtype dtype, double scale,
                                        uint64_t seed)
{
    th_model *m[TH_GEN_MAX_SEGMENTS];
    for (size_t s = 0; s < p->segments; s++) m[s] = test_gen_random_model(p, dtype, scale, seed + s);
    th_gen_protocol *pr = th_gen_protocol_from_models((const th_model *const *)m, p->segments);
    for (size_t s = 0; s < p->segments; s++) th_model_free(m[s]);
    return pr;
}

static void test_gen_seg_steps(void)
{
    th_gen_params p = seg_params(7);
    p.t_f = 0.1; /* K = 100 */
    const size_t K = th_gen_steps(&p);
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_OK);
    for (size_t s = 0; s <= 7; s++) CHECK_EQ_INT(th_gen_segment_begin(&p, s), s * K / 7);
    for (size_t g = 0; g < K; g++) {
        const size_t s = th_gen_segment_of_step(&p, g);
        CHECK(s * K / 7 <= g && g < (s + 1) * K / 7);
    }
    p.segments = 0;
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "segments");
    p.segments = 65;
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_EINVAL);
    p.segments = 64;
    p.t_f = 0.05; /* 50 steps: fewer than the segments */
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_EINVAL);
    /* one segment writes no gen.segments; more write it and read it back */
    th_meta meta = {0};
    p = seg_params(1);
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    CHECK(th_meta_get(&meta, "gen.segments") == NULL);
    th_meta_clear(&meta);
    p.segments = 3;
    th_gen_params q;
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.segments"), "3");
    CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_OK);
    CHECK_EQ_INT(q.segments, 3);
    th_meta_clear(&meta);
}

/* Reads a whole file; *n its size. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    if (b && fread(b, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return b;
}

static void test_gen_seg_model_file(void)
{
    CHECK(scratch_begin());
    th_meta meta = {0};
    th_gen_params p = seg_params(1);
    th_gen_protocol *one = random_protocol(&p, TH_F32, 0.3, 5);
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    const char *a = scratch("one.safetensors"), *b = scratch("model.safetensors");
    CHECK_EQ_INT(th_gen_protocol_save(a, one, &meta), TH_OK);
    CHECK_EQ_INT(th_model_save(b, th_gen_protocol_segment(one, 0), &meta), TH_OK);
    size_t na = 0, nb = 1;
    unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    CHECK(ba && bb && na == nb && memcmp(ba, bb, na) == 0);
    free(ba);
    free(bb);
    th_meta_clear(&meta);

    p = seg_params(3);
    th_gen_protocol *pr = random_protocol(&p, TH_F32, 0.3, 7), *back = NULL;
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    const char *c = scratch("three.safetensors");
    CHECK_EQ_INT(th_gen_protocol_save(c, pr, &meta), TH_OK);
    th_gen_params q;
    CHECK_EQ_INT(th_gen_protocol_load(c, &back, &q, NULL), TH_OK);
    CHECK_EQ_INT(q.segments, 3);
    const size_t n = th_gen_units(&p);
    for (size_t s = 0; back && s < 3; s++) {
        const th_model *x = th_gen_protocol_segment(pr, s), *y = th_gen_protocol_segment(back, s);
        CHECK(memcmp(x->J.v, y->J.v, n * n * sizeof(float)) == 0);
        CHECK(memcmp(x->b.v, y->b.v, n * sizeof(float)) == 0);
    }
    th_gen_protocol_free(back);
    /* a model file whose metadata says 3 segments without segment 2's bias */
    th_tensor_file *f = NULL;
    CHECK_EQ_INT(th_safetensors_read(c, &f), TH_OK);
    th_tensor keep[16];
    size_t kept = 0;
    for (size_t k = 0; f && k < f->count && kept < 16; k++)
        if (strcmp(f->tensors[k].name, "b.seg2") != 0) keep[kept++] = f->tensors[k];
    const char *d = scratch("damaged.safetensors");
    CHECK_EQ_INT(th_safetensors_write(d, keep, kept, &f->meta), TH_OK);
    CHECK_EQ_INT(th_gen_protocol_load(d, &back, &q, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "damaged.safetensors");
    CHECK_STR_CONTAINS(th_last_error(), "b.seg2");
    /* and one whose J.seg1 is misshapen */
    for (size_t k = 0; k < kept; k++)
        if (strcmp(keep[k].name, "J.seg1") == 0) keep[k].shape[0] = keep[k].shape[1] = 1;
    CHECK_EQ_INT(th_gen_protocol_load(d, &back, &q, NULL), TH_EFORMAT);
    th_tensor_file_free(f);
    /* a single-model call refuses a protocol's settings */
    float out[6];
    th_gen_sample_opts so = th_gen_sample_opts_default();
    CHECK_EQ_INT(th_gen_sample(th_gen_protocol_segment(pr, 0), &p, 1, &so, out, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "th_gen_protocol_");
    th_meta_clear(&meta);
    th_gen_protocol_free(pr);
    th_gen_protocol_free(one);
    scratch_end();
}

/* ------------------------------------------------------------ sampling */

/* Sampling rebuilt from th_langevin_run: B samples of pr from streams
 * TH_GEN_SAMPLE_STREAM + k, the noise phase in the uncoupled wells, then one
 * run per segment with a snapshot after every step; the readout of the last
 * W steps from those snapshots, the work and dV from th_model_potential. */
static void reconstruct(const th_gen_protocol *pr, const th_gen_params *p, size_t B, size_t W,
                        float *out, double *heat, double *work, double *dV)
{
    const size_t K = th_gen_steps(p), n = th_gen_units(p), nv = p->n_visible;
    const th_model *m0 = th_gen_protocol_segment(pr, 0);
    th_model *wells = th__gen_uncoupled(p, m0->dtype); /* no couplings, no biases */
    th_batch *s = th_batch_alloc(m0, B, p->seed);
    for (size_t k = 0; k < B; k++) th_batch_set_stream(s, k, TH_GEN_SAMPLE_STREAM + k);
    th_run r = th_run_default();
    r.dt = p->dt;
    r.n_steps = K;
    CHECK_EQ_INT(th_langevin_run(wells, s, &r), TH_OK);
    double *v0 = malloc(B * sizeof(double)), *v1 = malloc(B * sizeof(double));
    double *sum = calloc(B * nv, sizeof(double));
    double *snaps = malloc((K + 1) * B * n * sizeof(double));
    size_t *steps = malloc((K + 1) * sizeof(size_t));
    memset(s->heat, 0, B * sizeof(double)); /* the computing phase's heat alone */
    th_model_potential(wells, NULL, 0, th_batch_states(s), B, dV);
    for (size_t k = 0; k < B; k++) {
        dV[k] = -dV[k] / p->kT;
        work[k] = 0;
    }
    const th_model *before = wells;
    for (size_t seg = 0; seg < pr->segments; seg++) {
        const th_model *m = th_gen_protocol_segment(pr, seg);
        th_model_potential(before, NULL, 0, th_batch_states(s), B, v0);
        th_model_potential(m, NULL, 0, th_batch_states(s), B, v1);
        for (size_t k = 0; k < B; k++) work[k] += (v1[k] - v0[k]) / p->kT;
        const size_t g0 = th_gen_segment_begin(p, seg), g1 = th_gen_segment_begin(p, seg + 1);
        for (size_t j = 0; j <= g1 - g0; j++) steps[j] = j;
        th_run rs = th_run_default();
        rs.dt = p->dt;
        rs.n_steps = g1 - g0;
        rs.snap_steps = steps;
        rs.n_snaps = g1 - g0 + 1;
        rs.snap_out.f64 = snaps;
        CHECK_EQ_INT(th_langevin_run(m, s, &rs), TH_OK);
        /* the states after generation steps g0 + 1 .. g1 */
        for (size_t j = 1; j <= g1 - g0; j++)
            if (g0 + j + W > K)
                for (size_t k = 0; k < B; k++)
                    for (size_t i = 0; i < nv; i++) sum[k * nv + i] += snaps[(j * B + k) * n + i];
        before = m;
    }
    th_model_potential(before, NULL, 0, th_batch_states(s), B, v1);
    for (size_t k = 0; k < B; k++) {
        dV[k] += v1[k] / p->kT;
        heat[k] = th_batch_heat(s)[k];
        for (size_t i = 0; i < nv; i++)
            out[k * nv + i] = W ? (float)(sum[k * nv + i] / (double)W)
                                : (float)th_ptr_get(th_batch_states(s), m0->dtype, k * n + i);
    }
    free(v0);
    free(v1);
    free(sum);
    free(snaps);
    free(steps);
    th_batch_free(s);
    th_model_free(wells);
}

static void test_gen_seg_sample_reconstructed(void)
{
    th_gen_params p = seg_params(3);
    const size_t B = 5, nv = p.n_visible;
    th_gen_protocol *pr = random_protocol(&p, TH_F64, 0.4, 31);
    const size_t windows[3] = {0, 1, 7};
    for (int w = 0; w < 3; w++) {
        float a[5 * 6], b[5 * 6];
        double qa[5], qb[5], wa[5], wb[5], da[5], db[5];
        th_gen_sample_opts so = th_gen_sample_opts_default();
        so.readout_window = windows[w];
        so.work = wa;
        so.potential_change = da;
        CHECK_EQ_INT(th_gen_protocol_sample(pr, &p, B, &so, a, qa), TH_OK);
        reconstruct(pr, &p, B, windows[w], b, qb, wb, db);
        /* the same runs: states, readout and heat to the bit */
        CHECK(memcmp(a, b, sizeof a) == 0);
        for (size_t k = 0; k < B; k++) {
            CHECK(qa[k] == qb[k]);
            CHECK_REL(wa[k], wb[k], 1e-10);
            CHECK_REL(da[k], db[k], 1e-10);
        }
    }
    /* W = 1 is the state at the end */
    float end[30], one[30];
    th_gen_sample_opts so = th_gen_sample_opts_default();
    CHECK_EQ_INT(th_gen_protocol_sample(pr, &p, B, &so, end, NULL), TH_OK);
    so.readout_window = 1;
    CHECK_EQ_INT(th_gen_protocol_sample(pr, &p, B, &so, one, NULL), TH_OK);
    CHECK(memcmp(end, one, sizeof end) == 0);
    so.readout_window = th_gen_steps(&p) + 1;
    CHECK_EQ_INT(th_gen_protocol_sample(pr, &p, B, &so, one, NULL), TH_EINVAL);
    (void)nv;
    th_gen_protocol_free(pr);
}

/* A protocol whose segments are all one model gives that model's samples
 * and snapshots to the bit (f32, the fast kernel, batches of 4 of 10). */
static void test_gen_seg_equal_segments(void)
{
    th_gen_params p1 = seg_params(1), p3 = seg_params(3);
    th_model *m = test_gen_random_model(&p1, TH_F32, 0.4, 41);
    const th_model *same[3] = {m, m, m};
    th_gen_protocol *pr = th_gen_protocol_from_models(same, 3);
    enum { N = 10, NV = 6, NS = 4 };
    float a[N * NV], b[N * NV], sa[NS * 2 * NV], sb[NS * 2 * NV];
    const size_t snap_steps[NS] = {0, 20, 21, 60};
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.batch = 4;
    so.snap_steps = snap_steps;
    so.n_snaps = NS;
    so.snap_traj = 2;
    so.snap_out = sa;
    CHECK_EQ_INT(th_gen_sample(m, &p1, N, &so, a, NULL), TH_OK);
    so.snap_out = sb;
    CHECK_EQ_INT(th_gen_protocol_sample(pr, &p3, N, &so, b, NULL), TH_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(sa, sb, sizeof sa) == 0);
    th_gen_protocol_free(pr);
    th_model_free(m);
}

/* The first law per trajectory, dV = W - Q, across the protocol's segments
 * (each a run with its own model): with Crooks' heat and work it holds to
 * rounding at any dt, where the work is far from zero. */
static void test_gen_seg_first_law(void)
{
    double resid[2], work_size = 0;
    for (int h = 0; h < 2; h++) {
        th_gen_params p = seg_params(3);
        p.t_f = 0.2;
        p.dt = h ? 5e-4 : 1e-3;
        th_gen_protocol *pr = random_protocol(&p, TH_F64, 1.5, 51);
        enum { N = 64 };
        float x[N * 6];
        double q[N], w[N], dv[N];
        th_gen_sample_opts so = th_gen_sample_opts_default();
        so.work = w;
        so.potential_change = dv;
        CHECK_EQ_INT(th_gen_protocol_sample(pr, &p, N, &so, x, q), TH_OK);
        resid[h] = 0;
        for (size_t k = 0; k < N; k++) {
            resid[h] += fabs(dv[k] - (w[k] - q[k])) / N;
            if (!h) work_size += fabs(w[k]) / N;
        }
        th_gen_protocol_free(pr);
    }
    if (getenv("THERMO_TEST_VERBOSE") || !(resid[0] < 1e-10 && resid[1] < 1e-10))
        fprintf(stderr, "  first law: residual %.3g (dt 1e-3), %.3g (dt 5e-4), |W| %.3g\n",
                resid[0], resid[1], work_size);
    CHECK(work_size > 0.1);
    CHECK(resid[0] < 1e-10 && resid[1] < 1e-10);
}

/* ------------------------------------------------- objective and solvers */

/* The reference objective of a protocol: every noising step k of the paths
 * evaluated alone by the per-step twin with the model of generation step
 * K-1-k, written out here; only_seg < S keeps that segment's steps alone. */
struct ref_ctx {
    const th_gen_protocol *pr;
    const th_gen_params *p;
    size_t only_seg;
    double loss;
};

static int ref_block(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    struct ref_ctx *c = vctx;
    const size_t K = th_gen_steps(c->p), n = th_gen_units(c->p);
    for (size_t o = 0; o < T; o++) {
        const size_t g = K - 1 - (first_step + o), seg = g * c->p->segments / K;
        /* g's segment from the definition: floor(s K / S) <= g < floor((s+1) K / S) */
        size_t s = seg;
        while (s > 0 && g < s * K / c->p->segments) s--;
        while (s + 1 < c->p->segments && g >= (s + 1) * K / c->p->segments) s++;
        if (c->only_seg < c->p->segments && s != c->only_seg) continue;
        th_ptr at = {.v = (char *)states.v + o * B * n * sizeof(double)};
        int rc = th__gen_block_loss_reference(th_gen_protocol_segment(c->pr, s), c->p, at, 1, B,
                                              &c->loss, NULL);
        if (rc != TH_OK) return rc;
    }
    return TH_OK;
}

static double reference_loss(const th_gen_protocol *pr, const th_gen_params *p,
                             const float *images, const uint64_t *ids, size_t B, size_t only_seg)
{
    struct ref_ctx c = {pr, p, only_seg, 0};
    CHECK_EQ_INT(th__gen_noising_paths(p, images, NULL, ids, B, TH_F64, ref_block, &c), TH_OK);
    return c.loss;
}

static void test_gen_seg_path_loss(void)
{
    th_gen_params p = seg_params(3);
    enum { B = 3 };
    float *img = test_standard_images(B, 6, 61);
    const uint64_t ids[B] = {0, 1, 2};
    th_gen_protocol *pr = random_protocol(&p, TH_F64, 0.3, 71);
    th_gen_protocol *grad = th_gen_protocol_alloc(&p, TH_F64);
    double fast = 0, ref = 0;
    CHECK_EQ_INT(th_gen_protocol_path_loss(pr, &p, img, NULL, ids, B, TH_KERNEL_FAST, &fast, grad),
                 TH_OK);
    CHECK_EQ_INT(th_gen_protocol_path_loss(pr, &p, img, NULL, ids, B, TH_KERNEL_REFERENCE, &ref,
                                           NULL), TH_OK);
    const double twin = reference_loss(pr, &p, img, ids, B, SIZE_MAX);
    CHECK_REL(fast, twin, 1e-12);
    CHECK_REL(ref, twin, 1e-12);
    /* the gradient of each segment by central differences (L is quadratic:
     * only rounding separates them) */
    const size_t nv = p.n_visible, n = th_gen_units(&p);
    const size_t pick[4][2] = {{0, nv}, {2, nv + 3}, {nv + 1, nv + 2}, {nv + 2, n}};
    for (size_t seg = 0; seg < 3; seg++)
        for (int q = 0; q < 4; q++) {
            th_model *m = th_gen_protocol_segment(pr, seg);
            const th_model *g = th_gen_protocol_segment(grad, seg);
            const size_t i = pick[q][0], j = pick[q][1];
            const double eps = 1e-3, v = j == n ? th_ptr_get(m->b, TH_F64, i)
                                                : th_model_get_coupling(m, i, j);
            double lp = 0, lm = 0;
            if (j == n) th_ptr_set(m->b, TH_F64, i, v + eps);
            else th_model_set_coupling(m, i, j, v + eps);
            th_gen_protocol_path_loss(pr, &p, img, NULL, ids, B, TH_KERNEL_FAST, &lp, NULL);
            if (j == n) th_ptr_set(m->b, TH_F64, i, v - eps);
            else th_model_set_coupling(m, i, j, v - eps);
            th_gen_protocol_path_loss(pr, &p, img, NULL, ids, B, TH_KERNEL_FAST, &lm, NULL);
            if (j == n) th_ptr_set(m->b, TH_F64, i, v);
            else th_model_set_coupling(m, i, j, v);
            const double analytic = j == n ? th_ptr_get(g->b, TH_F64, i)
                                           : th_ptr_get(g->J, TH_F64, i * n + j);
            CHECK_CLOSE(analytic, (lp - lm) / (2 * eps), 1e-7);
        }
    th_gen_protocol_free(grad);
    th_gen_protocol_free(pr);
    free(img);
}

/* Gradient descent of a protocol resumed from its checkpoint equals the run
 * never interrupted, to the bit. */
static void test_gen_seg_resume(void)
{
    CHECK(scratch_begin());
    th_gen_params p = seg_params(3);
    float *img = test_standard_images(4, 6, 81);
    th_meta settings = {0};
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &settings), TH_OK);
    th_gen_train_opts o = th_gen_train_opts_default();
    o.updates = 5;
    o.learning_rate = 0.05;
    o.batch = 2;
    double la[5], lb[5];
    th_gen_protocol *a = th_gen_protocol_alloc(&p, TH_F32), *b = NULL;
    const char *path = scratch("ck.safetensors");
    th_gen_checkpoint_opts ck = {.path = path, .every = 3, .settings = &settings};
    CHECK_EQ_INT(th_gen_protocol_train_checkpointed(a, &p, img, NULL, 4, &o, &ck, 0, la), TH_OK);
    size_t done = 0;
    CHECK_EQ_INT(th_gen_protocol_checkpoint_load(path, &settings, 5, &b, &done, lb), TH_OK);
    CHECK_EQ_INT(done, 3);
    CHECK_EQ_INT(th_gen_protocol_train(b, &p, img, NULL, 4, &o, done, lb), TH_OK);
    const size_t n = th_gen_units(&p);
    int moved = 0;
    for (size_t s = 0; b && s < 3; s++) {
        const th_model *x = th_gen_protocol_segment(a, s), *y = th_gen_protocol_segment(b, s);
        CHECK(memcmp(x->J.v, y->J.v, n * n * sizeof(float)) == 0);
        CHECK(memcmp(x->b.v, y->b.v, n * sizeof(float)) == 0);
        moved += x->J.f32[p.n_visible] != 0;
    }
    CHECK(memcmp(la, lb, sizeof la) == 0);
    CHECK_EQ_INT(moved, 3); /* every segment learned */
    th_meta_clear(&settings);
    th_gen_protocol_free(a);
    th_gen_protocol_free(b);
    free(img);
    scratch_end();
}

/* The penalised objective the stacked solve minimises (gen.h). */
static double objective(const th_gen_stats *st, const th_gen_protocol *pr, const th_gen_params *p,
                        double ridge, double penalty)
{
    const size_t S = p->segments, n = th_gen_units(p), nmov = p->n_visible + p->n_hidden;
    double sum = 0;
    for (size_t s = 0; s < S; s++) {
        const th_model *m = th_gen_protocol_segment(pr, s);
        double l = 0;
        th_gen_stats_segment_loss(st, s, m, &l);
        const double w = (double)th_gen_stats_segment_rows(st, s) / (double)th_gen_stats_rows(st);
        double j2 = 0;
        for (size_t i = 0; i < nmov; i++)
            for (size_t j = i + 1; j < nmov; j++) j2 += pow(th_model_get_coupling(m, i, j), 2);
        sum += l + w * ridge * j2 / 2;
        if (s + 1 == S) continue;
        const th_model *next = th_gen_protocol_segment(pr, s + 1);
        double d2 = 0;
        for (size_t i = 0; i < n; i++) {
            if (th__gen_bias_trained(p, i))
                d2 += pow(th_ptr_get(next->b, TH_F32, i) - th_ptr_get(m->b, TH_F32, i), 2);
            for (size_t j = i + 1; j < n; j++)
                if (th_model_groups_couple(m, i, j))
                    d2 += pow(th_model_get_coupling(next, i, j) - th_model_get_coupling(m, i, j), 2);
        }
        sum += penalty * d2 / 2;
    }
    return sum;
}

static void test_gen_seg_exact(void)
{
    th_gen_params p = seg_params(3), p1 = seg_params(1);
    enum { P = 12 };
    float *img = test_standard_images(P, 6, 91);
    th_gen_stats *st = NULL, *st1 = NULL;
    CHECK_EQ_INT(th_gen_stats_accumulate(&p, TH_F64, img, NULL, P, P, 4, 1, NULL, NULL, &st),
                 TH_OK);
    CHECK_EQ_INT(th_gen_stats_accumulate(&p1, TH_F64, img, NULL, P, P, 4, 1, NULL, NULL, &st1),
                 TH_OK);
    if (!st || !st1) return;
    CHECK_EQ_INT(th_gen_stats_segments(st), 3);
    CHECK_EQ_INT(th_gen_stats_rows(st), th_gen_stats_rows(st1));
    /* the statistics' loss per segment is the reference's over that segment's steps */
    uint64_t ids[P];
    for (size_t k = 0; k < P; k++) ids[k] = k;
    th_gen_protocol *pr = random_protocol(&p, TH_F64, 0.2, 95);
    for (size_t s = 0; s < 3; s++) {
        double l = 0;
        CHECK_EQ_INT(th_gen_stats_segment_loss(st, s, th_gen_protocol_segment(pr, s), &l), TH_OK);
        CHECK_REL(l, reference_loss(pr, &p, img, ids, P, s), 1e-9);
    }
    th_gen_protocol_free(pr);

    /* solved: the objective's central differences vanish beside the
     * gradient at zero (each pair parameter of each segment tried) */
    const double ridge = 2.0, gammas[2] = {0.0, 30.0};
    const size_t nv = p.n_visible, n = th_gen_units(&p);
    const size_t pick[3][2] = {{0, nv}, {nv + 1, nv + 2}, {nv + 3, n}};
    th_solve_opts so = th_solve_opts_default();
    so.tolerance = 1e-10;
    so.ridge = ridge;
    for (int gi = 0; gi < 2; gi++) {
        th_gen_protocol *x = th_gen_protocol_alloc(&p, TH_F32);
        th_gen_protocol *zero = th_gen_protocol_alloc(&p, TH_F32);
        th_solve_result res;
        CHECK_EQ_INT(th_gen_stats_protocol_solve(st, x, gammas[gi], &so, &res), TH_OK);
        CHECK(res.converged);
        for (size_t s = 0; s < 3; s++)
            for (int q = 0; q < 3; q++) {
                const size_t i = pick[q][0], j = pick[q][1];
                double d[2][2];
                th_gen_protocol *at[2] = {x, zero};
                for (int w = 0; w < 2; w++) {
                    th_model *m = th_gen_protocol_segment(at[w], s);
                    const double eps = 1e-2, v = j == n ? th_ptr_get(m->b, TH_F32, i)
                                                        : th_model_get_coupling(m, i, j);
                    for (int sg = 0; sg < 2; sg++) {
                        const double u = v + (sg ? -eps : eps);
                        if (j == n) th_ptr_set(m->b, TH_F32, i, u);
                        else th_model_set_coupling(m, i, j, u);
                        d[w][sg] = objective(st, at[w], &p, ridge, gammas[gi]);
                    }
                    if (j == n) th_ptr_set(m->b, TH_F32, i, v);
                    else th_model_set_coupling(m, i, j, v);
                }
                const double g_solved = (d[0][0] - d[0][1]) / 2e-2;
                const double g_zero = (d[1][0] - d[1][1]) / 2e-2;
                CHECK(fabs(g_solved) < 1e-3 * fabs(g_zero) + 1e-3);
            }
        th_gen_protocol_free(x);
        th_gen_protocol_free(zero);
    }
    /* a huge penalty: every segment at the one-segment solution */
    th_model *one = th_gen_model_alloc(&p1, TH_F32);
    th_gen_protocol *tied = th_gen_protocol_alloc(&p, TH_F32);
    CHECK_EQ_INT(th_gen_stats_solve(st1, one, &so, NULL), TH_OK);
    CHECK_EQ_INT(th_gen_stats_protocol_solve(st, tied, 1e9, &so, NULL), TH_OK);
    double scale = 0, worst = 0;
    for (size_t s = 0; s < 3; s++) {
        const th_model *m = th_gen_protocol_segment(tied, s);
        for (size_t i = 0; i < n * n; i++) {
            scale = fmax(scale, fabs((double)one->J.f32[i]));
            worst = fmax(worst, fabs((double)(m->J.f32[i] - one->J.f32[i])));
        }
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)(m->b.f32[i] - one->b.f32[i])));
    }
    CHECK(scale > 0.01);
    CHECK(worst < 1e-3 * scale);
    th_model_free(one);
    th_gen_protocol_free(tied);
    th_gen_stats_free(st);
    th_gen_stats_free(st1);
    free(img);
}

void suite_gen_seg(void)
{
    RUN_TEST(test_gen_seg_steps);
    RUN_TEST(test_gen_seg_model_file);
    RUN_TEST(test_gen_seg_sample_reconstructed);
    RUN_TEST(test_gen_seg_equal_segments);
    RUN_TEST(test_gen_seg_first_law);
    RUN_TEST(test_gen_seg_path_loss);
    RUN_TEST(test_gen_seg_resume);
    RUN_TEST(test_gen_seg_exact);
}
