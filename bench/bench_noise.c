/* bench_noise.c - speed of the float32 normal fill (th_normal_fill_f32),
 * kernel by kernel: the hand-written AVX-512 and AVX2 kernels against the
 * portable reference, in the same run.
 *
 * The workload is the Langevin step's: each of B = 256 trajectories draws
 * n = 1296 normals per step (the PRL computer's 784 + 512 units, science.md
 * section 2) from its own stream, the rows split among the OpenMP threads as
 * the fused step splits them. Reported per kernel, for 1 thread and for 2:
 * nanoseconds per normal (wall time / normals, so with 2 threads it is the
 * pair's throughput) and the ratio to the portable kernel's time. The machine
 * is shared, so each figure is the best of several repetitions, and the
 * kernels are interleaved within each repetition so that a noisy spell hits
 * them alike; the ratios are the figures to read.
 *
 * Usage: bench_noise [--quick]   (--quick: fewer, shorter repetitions) */
#include "thermo.h"
#include "bench_common.h"

#include <math.h>
#include <omp.h>

#define ROWS 256
#define UNITS 1296
#define BLOCKS_PER_STEP ((UNITS + 3) / 4)
#define MAX_KERNELS 3

static float *rows_out; /* (ROWS, UNITS) */

/* steps steps of the batch's noise; seconds of wall time. */
static double time_fill(size_t steps)
{
    double t0 = bench_now_s();
    for (size_t s = 0; s < steps; s++) {
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < ROWS; r++)
            th_normal_fill_f32(7, r, s * BLOCKS_PER_STEP, rows_out + r * UNITS, UNITS);
    }
    return bench_now_s() - t0;
}

/* A checksum of the bits of one step, to show that the kernels agree. */
static uint64_t step_bits(void)
{
    time_fill(1);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < (size_t)ROWS * UNITS; i++) {
        uint32_t u;
        memcpy(&u, rows_out + i, sizeof u);
        h = (h ^ u) * 1099511628211ull;
    }
    return h;
}

int main(int argc, char **argv)
{
    /* Idle OpenMP threads spin by default, and on a shared machine a spinning
     * thread slowed the two-thread figures four-fold (the thermo tool makes
     * the same choice); the runtime reads the variable only as it loads. */
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT") &&
        setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
        execv("/proc/self/exe", argv);
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const int reps = quick ? 3 : 7;
    const double target_s = quick ? 0.1 : 0.3;
    rows_out = malloc((size_t)ROWS * UNITS * sizeof *rows_out);
    if (!rows_out) {
        fprintf(stderr, "bench_noise: out of memory\n");
        return 1;
    }
    const char *candidates[MAX_KERNELS] = {"portable", "avx2", "avx512"};
    const char *names[MAX_KERNELS];
    int nk = 0;
    const char *initial = th_normal_kernel();
    for (int i = 0; i < MAX_KERNELS; i++)
        if (th_normal_use(candidates[i]) == TH_OK) names[nk++] = candidates[i];
    char load[128];
    printf("bench_noise: th_normal_fill_f32, %d rows x %d normals per step, kernel by "
           "default: %s; load average %s\n",
           ROWS, UNITS, initial, bench_load_average(load, sizeof load));

    uint64_t bits[MAX_KERNELS];
    for (int k = 0; k < nk; k++) {
        th_normal_use(names[k]);
        bits[k] = step_bits();
    }

    const int threads[2] = {1, 2};
    double ns[2][MAX_KERNELS];
    for (int ti = 0; ti < 2; ti++) {
        omp_set_num_threads(threads[ti]);
        /* Steps per measurement from the portable kernel, the slowest. */
        th_normal_use("portable");
        size_t steps = 1;
        while (time_fill(steps) < target_s / 4) steps *= 2;
        steps *= 4;
        double best[MAX_KERNELS];
        for (int k = 0; k < nk; k++) best[k] = INFINITY;
        for (int r = 0; r < reps; r++)
            for (int k = 0; k < nk; k++) {
                th_normal_use(names[k]);
                best[k] = fmin(best[k], time_fill(steps));
            }
        for (int k = 0; k < nk; k++)
            ns[ti][k] = 1e9 * best[k] / ((double)steps * ROWS * UNITS);
    }
    th_normal_use(initial);

    printf("kernel   | 1 thread: ns/normal  vs portable | 2 threads: ns/normal  vs portable | "
           "same bits\n");
    for (int k = 0; k < nk; k++)
        printf("%-8s | %19.3f  %9.2fx | %20.3f  %9.2fx | %s\n", names[k], ns[0][k],
               ns[0][0] / ns[0][k], ns[1][k], ns[1][0] / ns[1][k],
               bits[k] == bits[0] ? "yes" : "NO");
    printf("(best of %d; ratios > 1: faster than the portable kernel; the PRL preset's phase 1 "
           "draws 3.24e9 normals)\n", reps);
    free(rows_out);
    for (int k = 0; k < nk; k++)
        if (bits[k] != bits[0]) return 1;
    return 0;
}
