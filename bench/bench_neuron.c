/* bench_neuron.c - speed of the thermodynamic-neuron runs and of one
 * generation of the genetic algorithm (science.md section 4).
 *
 * The default network (4 layers of 8, th_neuron_params_default) with random
 * parameters of order 1, 16 inputs x 32 replicas x 100 steps (t_f = 1,
 * dt = 0.01): one loss evaluation of one individual. The neurons run on
 * the core integrator (th_langevin_run). Measured on one thread: its fast
 * kernel (the fused step: panels of trajectories, the coupling product
 * through the backend, float32 noise drawn steps ahead) and its reference
 * twin (plain loops over every pair), as ns per neuron-step and their ratio; then one GA
 * generation (population 64) on one thread and on all threads. Every figure
 * is the best of several repetitions, the kernels interleaved so that a
 * noisy spell hits both; the load average is printed to read them by.
 *
 * Usage: bench_neuron [--quick] */
#include "thermo.h"
#include "bench_common.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double loss_time(const th_neuron_params *p, const th_neuron_net *net, th_kernel kernel,
                        const double *z, double *means)
{
    const size_t steps = th_neuron_steps(p, p->t_f);
    double t0 = omp_get_wtime();
    int rc = th_neuron_run(p, net, z, p->n_z, p->replicas, 1, 0, &steps, 1, kernel, means);
    double t = omp_get_wtime() - t0;
    if (rc != TH_OK) {
        fprintf(stderr, "bench_neuron: %s\n", th_last_error());
        exit(1);
    }
    return t;
}

static double generation_time(const th_neuron_params *p, th_neuron_net *net, int threads)
{
    th_ga_opts o = th_ga_opts_default();
    o.generations = 1;
    omp_set_num_threads(threads);
    double t0 = omp_get_wtime();
    int rc = th_ga_train(p, &o, net, NULL);
    double t = omp_get_wtime() - t0;
    if (rc != TH_OK) {
        fprintf(stderr, "bench_neuron: %s\n", th_last_error());
        exit(1);
    }
    return t;
}

int main(int argc, char **argv)
{
    bench_use_blas_core(argv);
    int reps = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 2 : 5;
    const int all = omp_get_max_threads();
    th_neuron_params p = th_neuron_params_default();
    th_neuron_net *net = th_neuron_net_alloc(p.n_layers, p.width);
    double *z = malloc(p.n_z * sizeof *z), *means = malloc(p.n_z * p.width * sizeof *means);
    if (!net || !z || !means) return 1;
    uint64_t s = 12345;
    for (size_t k = 0; k < net->n_params; k++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        net->theta[k] = ((double)(s >> 11) * 0x1p-53 - 0.5) * 1.5;
    }
    for (size_t j = 0; j < p.n_z; j++) z[j] = th_neuron_input(&p, j);

    omp_set_num_threads(1);
    double fast = 1e30, ref = 1e30;
    for (int r = 0; r < reps; r++) {
        double f = loss_time(&p, net, TH_KERNEL_FAST, z, means);
        double g = loss_time(&p, net, TH_KERNEL_REFERENCE, z, means);
        fast = f < fast ? f : fast;
        ref = g < ref ? g : ref;
    }
    const double unit_steps = (double)(p.n_z * p.replicas * th_neuron_steps(&p, p.t_f) *
                                       p.n_layers * p.width);
    double gen1 = 1e30, genall = 1e30;
    for (int r = 0; r < reps; r++) {
        double a = generation_time(&p, net, 1), b = generation_time(&p, net, all);
        gen1 = a < gen1 ? a : gen1;
        genall = b < genall ? b : genall;
    }
    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
        fclose(f);
    }
    printf("bench_neuron (thermo %s): %zu layers of %zu, %zu inputs x %zu replicas x %zu steps, "
           "best of %d; load average %.2f\n", th_version(), p.n_layers, p.width, p.n_z,
           p.replicas, th_neuron_steps(&p, p.t_f), reps, load[0]);
    printf("  one evaluation, 1 thread: fast %.4g s (%.3g ns per neuron-step), reference %.4g s "
           "(%.3g ns): fast is %.2fx\n", fast, fast / unit_steps * 1e9, ref,
           ref / unit_steps * 1e9, ref / fast);
    printf("  one GA generation (population 64): %.4g s on 1 thread, %.4g s on %d threads "
           "(%.2fx)\n", gen1, genall, all, gen1 / genall);
    free(z);
    free(means);
    th_neuron_net_free(net);
    return 0;
}
