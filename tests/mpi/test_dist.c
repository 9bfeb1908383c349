/* test_dist.c - the MPI data-parallel layer (src/dist/dist_mpi.c) across
 * real processes: run it under `mpirun -np K` with K >= 2 (make test-mpi
 * runs K = 2 and 3). Every expected value is computed here independently:
 * each rank regenerates every rank's terms from the same seeds and sums them
 * in a plain loop, and what MPI itself reports (MPI_COMM_WORLD's rank and
 * size, raw MPI_Allgather) is the reference for the layer's bookkeeping.
 *
 * A check that fails prints its line on the rank where it failed; after each
 * test the ranks add their failure counts (raw MPI, not the layer under
 * test) and rank 0 prints one ok/FAIL line. Exits non-zero on any failure. */
#include "harness.h"

#include "thermo/dist.h"
#include "thermo.h"

#include <float.h>
#include <math.h>
#include <string.h>
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

int th_test_check_failed;
static int n_passed, n_failed;
static int world_rank, world_size;

int th_test_selected(const char *name)
{
    (void)name;
    return 1;
}

/* Collective: all ranks run the same tests in the same order. */
void th_test_record(const char *name, int failed, double seconds)
{
    int total = 0;
    MPI_Allreduce(&failed, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (failed) fprintf(stderr, "  (rank %d: %d checks of %s failed)\n", world_rank, failed, name);
    if (total) n_failed++;
    else n_passed++;
    if (world_rank == 0) {
        printf("%s %-44s %7.2f s (%d ranks)\n", total ? "FAIL" : "ok  ", name, seconds,
               world_size);
        fflush(stdout);
    }
}

/* Identical bits on every rank: each compares its bytes with rank 0's. */
static int same_bits_on_all_ranks(const void *buf, size_t bytes)
{
    unsigned char *copy = malloc(bytes ? bytes : 1);
    if (!copy) return 0;
    memcpy(copy, buf, bytes);
    MPI_Bcast(copy, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    int same = memcmp(copy, buf, bytes) == 0, all_same = 0;
    MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    free(copy);
    return all_same;
}

/* The term of rank r at index i: magnitudes spread over 2^-20 .. 2^20 and
 * both signs, so that different groupings of the sum round differently. */
static double term(int r, size_t i)
{
    uint64_t state = UINT64_C(0x5eed) ^ ((uint64_t)r << 40) ^ (uint64_t)i;
    double mantissa = test_uniform(&state, -1.0, 1.0);
    int exponent = (int)(splitmix64(&state) % 41) - 20;
    return ldexp(mantissa, exponent);
}

/* This rank's n terms in a buffer of at least one element (malloc'd); NULL
 * after a failed check when out of memory. */
static double *rank_terms(size_t n)
{
    double *buf = malloc((n ? n : 1) * sizeof *buf);
    CHECK(buf != NULL);
    if (buf)
        for (size_t i = 0; i < n; i++) buf[i] = term(world_rank, i);
    return buf;
}

/* ((b0 + b1) + b2) + ... in rank order: the plain reference loop. */
static double fold_in_rank_order(size_t i, int size)
{
    double acc = term(0, i);
    for (int r = 1; r < size; r++) acc = acc + term(r, i);
    return acc;
}

/* ------------------------------------------------------------ rank, size */

static void test_dist_mpi_rank_size(void)
{
    CHECK_EQ_INT(th_dist_rank(), world_rank);
    CHECK_EQ_INT(th_dist_size(), world_size);
    CHECK(world_size >= 2);
    /* A second init is harmless and changes nothing. */
    CHECK_EQ_INT(th_dist_init(NULL, NULL), TH_OK);
    CHECK_EQ_INT(th_dist_size(), world_size);
}

/* ----------------------------------------------------------------- share */

/* Every n from 0 to 100, and two large ones: the ranks' shares, gathered by
 * raw MPI, tile [0, n) in rank order with no gap and no overlap, differ in
 * size by at most one, the larger ones first; and th_dist_share_of gives
 * the same share without MPI. */
static void test_dist_mpi_share_covers(void)
{
    const size_t large[2] = {(size_t)1 << 33, 1000003};
    unsigned long long *all = malloc(2 * (size_t)world_size * sizeof *all);
    if (!all) {
        CHECK(0);
        return;
    }
    for (size_t k = 0; k <= 102; k++) {
        size_t n = k <= 100 ? k : large[k - 101];
        size_t first = 99, count = 99;
        th_dist_share(n, &first, &count);
        unsigned long long mine[2] = {first, count};
        MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG,
                      MPI_COMM_WORLD);
        size_t next = 0;
        for (int r = 0; r < world_size; r++) {
            size_t f = all[2 * r], c = all[2 * r + 1];
            CHECK_EQ_INT(f, next);
            next = f + c;
            /* n = 7 on 3 ranks: 3, 2, 2 */
            size_t expected = n / (size_t)world_size + ((size_t)r < n % (size_t)world_size);
            CHECK_EQ_INT(c, expected);
            size_t f2 = 0, c2 = 0;
            th_dist_share_of(n, r, world_size, &f2, &c2);
            CHECK_EQ_INT(f2, f);
            CHECK_EQ_INT(c2, c);
        }
        CHECK_EQ_INT(next, n);
    }
    free(all);
}

/* ------------------------------------------------------------------ sums */

/* Sizes: empty, one, and more than the ordered sum's 2^16-double piece, so
 * that its pipeline runs over several pieces and a short last one. */
static const size_t sum_sizes[4] = {0, 1, 1000, 3 * 65536 + 7};

/* MPI_Allreduce: within the rounding bound of any grouping of the K terms,
 * (K - 1) eps sum_r |b_r|, the same bits on every rank, and for K = 2 exactly
 * fl(b0 + b1), since IEEE addition is commutative. */
static void test_dist_mpi_sum_f64(void)
{
    for (int s = 0; s < 4; s++) {
        size_t n = sum_sizes[s];
        double *buf = rank_terms(n);
        if (!buf) return;
        CHECK_EQ_INT(th_dist_sum_f64(buf, n), TH_OK);
        int bad = 0, inexact = 0;
        for (size_t i = 0; i < n; i++) {
            double reference = fold_in_rank_order(i, world_size), magnitude = 0.0;
            for (int r = 0; r < world_size; r++) magnitude += fabs(term(r, i));
            double bound = (double)(world_size - 1) * DBL_EPSILON * magnitude;
            if (!(fabs(buf[i] - reference) <= bound)) bad++;
            if (buf[i] != reference) inexact++;
        }
        CHECK_EQ_INT(bad, 0);
        if (world_size == 2) CHECK_EQ_INT(inexact, 0);
        CHECK(same_bits_on_all_ranks(buf, n * sizeof *buf));
        free(buf);
    }
}

/* The ordered sum is the rank-order fold bit for bit, on every rank. Element
 * 0 is built so that the grouping shows: b0 = 1e16, b1 = -1e16, the rest 1.
 * In rank order (1e16 - 1e16) + 1 + ... = K - 2; a sum that added b2 to b1
 * first would lose it (-1e16 + 1 rounds back to -1e16, the spacing of
 * doubles there being 2). */
static void test_dist_mpi_sum_ordered(void)
{
    for (int s = 0; s < 4; s++) {
        size_t n = sum_sizes[s];
        double *buf = rank_terms(n);
        if (!buf) return;
        CHECK_EQ_INT(th_dist_sum_f64_ordered(buf, n), TH_OK);
        int differ = 0;
        for (size_t i = 0; i < n; i++)
            if (buf[i] != fold_in_rank_order(i, world_size)) differ++;
        CHECK_EQ_INT(differ, 0);
        CHECK(same_bits_on_all_ranks(buf, n * sizeof *buf));
        free(buf);
    }
    double cancel = world_rank == 0 ? 1e16 : world_rank == 1 ? -1e16 : 1.0;
    CHECK_EQ_INT(th_dist_sum_f64_ordered(&cancel, 1), TH_OK);
    CHECK(cancel == (double)(world_size - 2));
}

/* The layer talks on its own communicator: a message the program left
 * pending on MPI_COMM_WORLD, with the same tag the ordered sum uses, is
 * neither taken by the sum nor disturbs it. */
static void test_dist_mpi_private_communicator(void)
{
    double pending = 12345.0, received = 0.0;
    MPI_Request request = MPI_REQUEST_NULL;
    if (world_rank == 0) MPI_Isend(&pending, 1, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, &request);
    double value = (double)(world_rank + 1);
    CHECK_EQ_INT(th_dist_sum_f64_ordered(&value, 1), TH_OK);
    CHECK(value == (double)world_size * (double)(world_size + 1) / 2.0);
    if (world_rank == 1)
        MPI_Recv(&received, 1, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (world_rank == 0) MPI_Wait(&request, MPI_STATUS_IGNORE);
    if (world_rank == 1) CHECK(received == 12345.0);
}

/* Counters beyond 2^53, where a sum in doubles would round: exact. */
static void test_dist_mpi_sum_u64(void)
{
    uint64_t counts[3] = {(UINT64_C(1) << 60) + (uint64_t)world_rank * 3 + 1,
                          (uint64_t)world_rank, 0};
    CHECK_EQ_INT(th_dist_sum_u64(counts, 3), TH_OK);
    uint64_t k = (uint64_t)world_size;
    /* sum_r (2^60 + 3r + 1) = K 2^60 + 3 K (K - 1) / 2 + K */
    CHECK(counts[0] == k * (UINT64_C(1) << 60) + 3 * k * (k - 1) / 2 + k);
    CHECK(counts[1] == k * (k - 1) / 2);
    CHECK(counts[2] == 0);
}

/* The maximum: the largest rank's value, -inf loses to anything, and a NaN
 * on one rank survives (MPI_MAX alone may drop it). The NaN sits once on
 * the first rank and once on the last, so that whichever side of the
 * reduction it arrives on, a maximum that compares without isnan loses it
 * in one of the two. */
static void test_dist_mpi_max_f64(void)
{
    const int last = world_size - 1;
    double v[5] = {(double)world_rank, -(double)world_rank,
                   world_rank == 0 ? (double)NAN : 0.5, world_rank == last ? (double)NAN : 0.5,
                   world_rank == 0 ? -(double)INFINITY : -1e300};
    CHECK_EQ_INT(th_dist_max_f64(v, 5), TH_OK);
    CHECK(v[0] == (double)(world_size - 1));
    CHECK(v[1] == 0.0);
    CHECK(isnan(v[2]));
    CHECK(isnan(v[3]));
    CHECK(v[4] == -1e300);
}

/* ------------------------------------------------------------- broadcast */

/* A buffer of 100003 bytes from the last rank, and the size-then-bytes
 * pattern from rank 0 that a model load follows; a root outside the ranks
 * is refused on every rank before any message is sent. */
static void test_dist_mpi_bcast(void)
{
    const size_t bytes = 100003;
    unsigned char *buf = malloc(bytes);
    if (!buf) {
        CHECK(0);
        return;
    }
    const int root = world_size - 1;
    for (size_t i = 0; i < bytes; i++)
        buf[i] = world_rank == root ? (unsigned char)(i * 7 + 3) : 0xAB;
    CHECK_EQ_INT(th_dist_bcast(buf, bytes, root), TH_OK);
    int wrong = 0;
    for (size_t i = 0; i < bytes; i++)
        if (buf[i] != (unsigned char)(i * 7 + 3)) wrong++;
    CHECK_EQ_INT(wrong, 0);
    free(buf);

    uint64_t size = world_rank == 0 ? 40 : 0;
    CHECK_EQ_INT(th_dist_bcast(&size, sizeof size, 0), TH_OK);
    CHECK(size == 40);
    double *model = calloc(size / sizeof(double), sizeof(double));
    if (!model) {
        CHECK(0);
        return;
    }
    if (world_rank == 0)
        for (int i = 0; i < 5; i++) model[i] = 0.1 * i;
    CHECK_EQ_INT(th_dist_bcast(model, size, 0), TH_OK);
    for (int i = 0; i < 5; i++) CHECK(model[i] == 0.1 * i);
    free(model);

    CHECK_EQ_INT(th_dist_bcast(&size, 1, world_size), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "broadcast root");
    CHECK_EQ_INT(th_dist_bcast(&size, 1, -1), TH_EINVAL);
    CHECK_EQ_INT(th_dist_barrier(), TH_OK);
}

/* --------------------------------------------------------------- errors */

/* One rank's failure reaches all: the failing rank keeps its status and
 * message, the others get the status of the lowest failing rank and
 * "rank R of K: <its message>". Each case ends without a hang, which is
 * itself the check that no rank is left waiting. */
static void test_dist_mpi_any_error(void)
{
    CHECK_EQ_INT(th_dist_any_error(TH_OK), TH_OK);

    /* Rank 1 fails in a real library call (a refused broadcast root). */
    int status = TH_OK;
    if (world_rank == 1) status = th_dist_bcast(NULL, 0, -7);
    char expected[64];
    snprintf(expected, sizeof expected, "rank 1 of %d: broadcast root = -7", world_size);
    int combined = th_dist_any_error(status);
    CHECK_EQ_INT(combined, TH_EINVAL);
    if (world_rank == 1)
        CHECK_STR_CONTAINS(th_last_error(), "broadcast root = -7");
    else
        CHECK_STR_CONTAINS(th_last_error(), expected);

    /* Ranks 0 and the last fail differently: the lowest (0) is reported;
     * the last keeps its own. */
    const int last = world_size - 1;
    status = TH_OK;
    if (world_rank == 0) status = th_dist_bcast(NULL, 0, 100);
    if (world_rank == last) status = TH_EDIVERGED;
    combined = th_dist_any_error(status);
    CHECK_EQ_INT(combined, world_rank == last ? TH_EDIVERGED : TH_EINVAL);
    if (world_rank != 0 && world_rank != last) {
        snprintf(expected, sizeof expected, "rank 0 of %d: broadcast root = 100", world_size);
        CHECK_STR_CONTAINS(th_last_error(), expected);
    }
    if (world_rank == 0) CHECK_STR_CONTAINS(th_last_error(), "broadcast root = 100");

    /* After a failure the ranks are still in step: a sum works. */
    double one = 1.0;
    CHECK_EQ_INT(th_dist_sum_f64(&one, 1), TH_OK);
    CHECK(one == (double)world_size);
    CHECK_EQ_INT(th_dist_any_error(TH_OK), TH_OK);
}

/* ------------------------------------------- the generator under MPI */

static float *mpi_images(size_t count, size_t nv)
{
    uint64_t seed = 77;
    float *img = malloc(count * nv * sizeof *img);
    for (size_t i = 0; i < count * nv; i++) img[i] = (float)test_uniform(&seed, -1.5, 1.5);
    return img;
}

static double max_abs_diff(const th_model *a, const th_model *b, double *scale)
{
    double worst = 0;
    *scale = 0;
    for (size_t i = 0; i < a->n * a->n; i++) {
        worst = fmax(worst, fabs(th_ptr_get(a->J, a->dtype, i) - th_ptr_get(b->J, b->dtype, i)));
        *scale = fmax(*scale, fabs(th_ptr_get(b->J, b->dtype, i)));
    }
    for (size_t i = 0; i < a->n; i++)
        worst = fmax(worst, fabs(th_ptr_get(a->b, a->dtype, i) - th_ptr_get(b->b, b->dtype, i)));
    return worst;
}

/* Gradient descent with the batch's paths shared among the ranks against
 * the same recipe run here by every rank alone, path by path (the gradient
 * summed over the batch, the step lr / batch times it): equal up to the
 * order of the sums (float64), and identical to the bit on every rank. */
static void test_gen_mpi_train_matches_one_process(void)
{
    th_gen_params p = test_gen_tiny_params(2);
    const size_t count = 4, B = 5, updates = 3;
    const double lr = 0.05;
    float *img = mpi_images(count, p.n_visible);
    int cls[4] = {0, 1, 1, 0};
    th_model *m = th_gen_model_alloc(&p, TH_F64), *ref = th_gen_model_alloc(&p, TH_F64);
    th_model *grad = th_gen_model_alloc(&p, TH_F64);
    th_gen_train_opts to = th_gen_train_opts_default();
    to.updates = updates;
    to.batch = B;
    to.learning_rate = lr;
    double loss[3];
    CHECK_EQ_INT(th_gen_train(m, &p, img, cls, count, &to, 0, loss), TH_OK);
    CHECK(same_bits_on_all_ranks(m->J.f64, m->n * m->n * sizeof(double)));

    for (size_t u = 0; u < updates; u++) {
        memset(grad->J.f64, 0, grad->n * grad->n * sizeof(double));
        memset(grad->b.f64, 0, grad->n * sizeof(double));
        double l = 0;
        for (size_t k = 0; k < B; k++) {
            uint64_t id = u * B + k;
            double lk = 0; /* th_gen_path_loss sets, not adds */
            CHECK_EQ_INT(th_gen_path_loss(ref, &p, img + (id % count) * p.n_visible,
                                          &cls[id % count], &id, 1, TH_KERNEL_REFERENCE, &lk,
                                          grad),
                         TH_OK);
            l += lk;
        }
        CHECK_REL(loss[u], l / (double)B, 1e-12);
        for (size_t i = 0; i < ref->n * ref->n; i++) ref->J.f64[i] -= lr / (double)B * grad->J.f64[i];
        for (size_t i = 0; i < ref->n; i++) ref->b.f64[i] -= lr / (double)B * grad->b.f64[i];
    }
    double scale = 0, worst = max_abs_diff(m, ref, &scale);
    CHECK(scale > 0);
    if (worst > 1e-10 * scale)
        fprintf(stderr, "  rank %d: trained models differ by %g (scale %g)\n", world_rank, worst,
                scale);
    CHECK(worst <= 1e-10 * scale);
    th_model_free(m);
    th_model_free(ref);
    th_model_free(grad);
    free(img);
}

/* The exact solver with the paths' statistics shared among the ranks: the
 * combined statistics give the objective that every rank computes alone over
 * all the paths, and their minimiser zeroes the gradient over all the paths. */
static void test_gen_mpi_exact_matches_one_process(void)
{
    th_gen_params p = test_gen_tiny_params(2);
    const size_t count = 4, paths = 7;
    float *img = mpi_images(count, p.n_visible);
    int cls[4] = {1, 0, 0, 1};
    th_gen_stats *s = NULL;
    CHECK_EQ_INT(th_gen_stats_accumulate(&p, TH_F64, img, cls, count, paths, 2, 1, NULL, NULL,
                                         &s),
                 TH_OK);
    if (!s) return;
    CHECK(th_gen_stats_paths(s) == paths);
    th_model *m = th_gen_model_alloc(&p, TH_F64), *zero = th_gen_model_alloc(&p, TH_F64);
    uint64_t seed = 3;
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, test_uniform(&seed, -0.5, 0.5));
    double from_stats = 0, direct = 0;
    CHECK_EQ_INT(th_gen_stats_loss(s, m, &from_stats), TH_OK);
    for (size_t q = 0; q < paths; q++) {
        uint64_t id = q;
        double lq = 0;
        CHECK_EQ_INT(th_gen_path_loss(m, &p, img + (q % count) * p.n_visible, &cls[q % count],
                                      &id, 1, TH_KERNEL_REFERENCE, &lq, NULL),
                     TH_OK);
        direct += lq;
    }
    CHECK_REL(from_stats, direct, 1e-10);

    th_solve_opts o = th_solve_opts_default();
    o.tolerance = 1e-12;
    CHECK_EQ_INT(th_gen_stats_solve(s, m, &o, NULL), TH_OK);
    CHECK(same_bits_on_all_ranks(m->J.f64, m->n * m->n * sizeof(double)));
    th_model *g_sol = th_gen_model_alloc(&p, TH_F64), *g_zero = th_gen_model_alloc(&p, TH_F64);
    for (size_t q = 0; q < paths; q++) {
        uint64_t id = q;
        double l = 0;
        const float *x = img + (q % count) * p.n_visible;
        CHECK_EQ_INT(th_gen_path_loss(m, &p, x, &cls[q % count], &id, 1, TH_KERNEL_REFERENCE, &l,
                                      g_sol), TH_OK);
        CHECK_EQ_INT(th_gen_path_loss(zero, &p, x, &cls[q % count], &id, 1, TH_KERNEL_REFERENCE,
                                      &l, g_zero), TH_OK);
    }
    double norm_zero = 0;
    for (size_t i = 0; i < g_zero->n * g_zero->n; i++)
        norm_zero = fmax(norm_zero, fabs(g_zero->J.f64[i]));
    double norm_sol = 0;
    for (size_t i = 0; i < g_sol->n * g_sol->n; i++) norm_sol = fmax(norm_sol, fabs(g_sol->J.f64[i]));
    CHECK(norm_zero > 0);
    CHECK(norm_sol <= 1e-6 * norm_zero);
    th_model_free(m);
    th_model_free(zero);
    th_model_free(g_sol);
    th_model_free(g_zero);
    th_gen_stats_free(s);
    free(img);
}

/* A time-dependent protocol (3 segments) under MPI: each segment's
 * statistics combined across the ranks equal the loss of that segment's
 * steps over all the paths (the per-path objective of a protocol that is
 * zero outside the segment, summed here alone); the stacked solve with the
 * neighbour penalty ends with the same bits on every rank; the protocol's
 * samples, heat and switching work spread over the ranks equal one
 * process's to the bit. */
static void test_gen_mpi_protocol(void)
{
    th_gen_params p = test_gen_tiny_params(0);
    p.t_f = 0.06;
    p.segments = 3;
    const size_t count = 4, paths = 7, n = th_gen_units(&p);
    float *img = mpi_images(count, p.n_visible);
    th_gen_stats *s = NULL;
    CHECK_EQ_INT(th_gen_stats_accumulate(&p, TH_F64, img, NULL, count, paths, 2, 1, NULL, NULL,
                                         &s), TH_OK);
    if (!s) return;
    th_gen_protocol *pr = th_gen_protocol_alloc(&p, TH_F64);
    uint64_t seed = 9;
    for (size_t seg = 0; seg < 3; seg++) {
        th_model *m = th_gen_protocol_segment(pr, seg);
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (th_model_groups_couple(m, i, j))
                    th_model_set_coupling(m, i, j, test_uniform(&seed, -0.5, 0.5));
    }
    double from_stats = 0, direct = 0;
    CHECK_EQ_INT(th_gen_stats_protocol_loss(s, pr, &from_stats), TH_OK);
    for (size_t q = 0; q < paths; q++) {
        uint64_t id = q;
        double lq = 0;
        CHECK_EQ_INT(th_gen_protocol_path_loss(pr, &p, img + (q % count) * p.n_visible, NULL, &id,
                                               1, TH_KERNEL_REFERENCE, &lq, NULL), TH_OK);
        direct += lq;
    }
    CHECK_REL(from_stats, direct, 1e-10);
    th_solve_opts o = th_solve_opts_default();
    o.tolerance = 1e-10;
    o.ridge = 1;
    CHECK_EQ_INT(th_gen_stats_protocol_solve(s, pr, 5.0, &o, NULL), TH_OK);
    for (size_t seg = 0; seg < 3; seg++)
        CHECK(same_bits_on_all_ranks(th_gen_protocol_segment(pr, seg)->J.f64,
                                     n * n * sizeof(double)));
    enum { N = 7 };
    float x1[N * 5], xk[N * 5];
    double q1[N], qk[N], w1[N], wk[N];
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.readout_window = 4;
    so.work = w1;
    CHECK_EQ_INT(th_gen_protocol_sample(pr, &p, N, &so, x1, q1), TH_OK);
    so.work = wk;
    CHECK_EQ_INT(th_gen_protocol_sample_dist(pr, &p, N, &so, xk, qk), TH_OK);
    CHECK(memcmp(x1, xk, sizeof x1) == 0);
    CHECK(memcmp(q1, qk, sizeof q1) == 0);
    CHECK(memcmp(w1, wk, sizeof w1) == 0);
    th_gen_protocol_free(pr);
    th_gen_stats_free(s);
    free(img);
}

int main(int argc, char **argv)
{
    if (th_dist_init(&argc, &argv) != TH_OK) {
        fprintf(stderr, "test_dist: %s\n", th_last_error());
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (world_size < 2) {
        if (world_rank == 0)
            fprintf(stderr, "test_dist: run under mpirun -np K with K >= 2 (got %d)\n",
                    world_size);
        th_dist_finalize();
        return 1;
    }
    RUN_TEST(test_dist_mpi_rank_size);
    RUN_TEST(test_dist_mpi_share_covers);
    RUN_TEST(test_dist_mpi_sum_f64);
    RUN_TEST(test_dist_mpi_sum_ordered);
    RUN_TEST(test_dist_mpi_private_communicator);
    RUN_TEST(test_dist_mpi_sum_u64);
    RUN_TEST(test_dist_mpi_max_f64);
    RUN_TEST(test_dist_mpi_bcast);
    RUN_TEST(test_dist_mpi_any_error);
    RUN_TEST(test_gen_mpi_train_matches_one_process);
    RUN_TEST(test_gen_mpi_exact_matches_one_process);
    RUN_TEST(test_gen_mpi_protocol);
    th_dist_finalize();
    if (world_rank == 0) printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
