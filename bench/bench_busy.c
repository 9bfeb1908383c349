/* bench_busy.c - what a busy core costs thermo: 200 samples of the PRL
 * generator (784 visible + 512 hidden units, float32, 2 x 2500 steps each)
 * on an idle machine, then again while another process spins on one core.
 *
 * OpenMP threads that spin while they wait fight that process for the core
 * that is left; threads that sleep give it back. The wait policy is fixed
 * when the OpenMP runtime loads, so `make bench` runs this program twice: with
 * OMP_WAIT_POLICY unset (the runtime's default) and with thermo's default,
 * OMP_WAIT_POLICY=passive, which the thermo tool sets when the user has not
 * chosen. The figure to read is busy / idle in one run; the target
 * is at most 2.2 with thermo's default.
 *
 * Usage: bench_busy [--quick] [--idle]   (--quick: 50 samples; --idle: no
 * busy core, for comparing builds) */
#include "thermo.h"

#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_busy: %s: %s\n", what, rc ? th_last_error() : "failed");
    exit(1);
}

/* Seconds for count samples. */
static double time_samples(const th_model *m, const th_gen_params *p, size_t count, float *out)
{
    th_gen_sample_opts so = th_gen_sample_opts_default();
    const double t0 = now();
    int rc = th_gen_sample(m, p, count, &so, out, NULL);
    if (rc != TH_OK) die("th_gen_sample", rc);
    return now() - t0;
}

int main(int argc, char **argv)
{
    int quick = 0, idle_only = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0) quick = 1;
        else if (strcmp(argv[a], "--idle") == 0) idle_only = 1;
        else die("usage: bench_busy [--quick] [--idle]", 0);
    }
    const size_t count = quick ? 50 : 200;
    const th_gen_params p = th_gen_params_default();
    th_model *m = th_gen_model_alloc(&p, TH_F32);
    if (!m) die("th_gen_model_alloc", TH_ENOMEM);
    /* couplings N(0, 0.01^2) on every allowed pair, stream i for row i */
    double z[2048];
    for (size_t i = 0; i < m->n && m->n <= 2048; i++) {
        th_normal_fill_f64(20260101u, i, 0, z, m->n);
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j)) th_model_set_coupling(m, i, j, 0.01 * z[j]);
    }
    float *out = malloc(count * p.n_visible * sizeof(float));
    if (!out) die("malloc", 0);
    const char *policy = getenv("OMP_WAIT_POLICY");
    printf("bench_busy: %zu PRL samples, %d threads, OMP_WAIT_POLICY=%s\n", count,
           omp_get_max_threads(), policy && *policy ? policy : "(unset: the runtime's default)");

    time_samples(m, &p, count / 10 + 1, out); /* warm up */
    const double idle = time_samples(m, &p, count, out);
    if (idle_only) {
        printf("  idle %.2f s\n", idle);
        free(out);
        th_model_free(m);
        return 0;
    }

    const pid_t spinner = fork();
    if (spinner < 0) die("fork", 0);
    if (spinner == 0) {
        volatile unsigned long x = 0;
        for (;;) x++;
    }
    struct timespec settle = {0, 200000000};
    nanosleep(&settle, NULL);
    const double busy = time_samples(m, &p, count, out);
    kill(spinner, SIGKILL);
    waitpid(spinner, NULL, 0);

    printf("  idle %.2f s, one core busy %.2f s: busy / idle = %.2f\n", idle, busy, busy / idle);
    free(out);
    th_model_free(m);
    return 0;
}
