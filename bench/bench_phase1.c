/* bench_phase1.c - generation's noise phase (phase 1), drawn exactly or run
 * by Euler-Maruyama: how far the paper's 2500 steps land from the wells'
 * Boltzmann density, and what each costs.
 *
 * Phase 1 lets the uncoupled units relax from x = 0 for t_f in their wells
 * U(x) = J2 x^2 + J4 x^4 (science.md section 2: kT 0.1, J2 = J4 = 1,
 * dt 1e-3, 2500 steps). Every number of the accuracy tables is computed, not
 * sampled: the Boltzmann moments by quadrature (th_well_moments), the
 * Euler-Maruyama chain's own stationary density and its density after n
 * steps from 0 on a grid (th_well_em_moments). Printed:
 *   - against dt: EM's stationary <x^2> and <x^4> relative to Boltzmann's,
 *     and N*, the number of independent unit draws at which the bias of the
 *     pooled <x^2> reaches two standard errors, 4 Var(x^2) / bias^2: below
 *     N* no statistic of that kind can tell the two apart;
 *   - against the phase's length at dt = 1e-3 (the paper's 2.5, the
 *     conditional presets' 0.625): the relaxation still missing after t_f;
 *   - the time per sample (1296 units, a batch of 64) of the exact draw
 *     (th_batch_draw_wells) and of t_f of Euler-Maruyama on the uncoupled
 *     wells (th_langevin_run), best of a few repetitions.
 *
 * Usage: bench_phase1 [--quick]   (--quick: the coarser time steps only) */
#include "thermo.h"
#include "bench_common.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "bench_phase1: %s failed: %s\n", what, th_last_error());
    exit(1);
}

/* Seconds per sample of both ways to the wells' equilibrium. */
static void time_phase1(const th_gen_params *p, int reps)
{
    const size_t sizes[2] = {p->n_visible, p->n_hidden}, B = 64;
    th_model *m = th_model_alloc(2, sizes, TH_F32); /* uncoupled: no products */
    if (!m) die("th_model_alloc");
    th_model_set_onsite(m, p->J2, p->J4);
    m->kT = p->kT;
    th_batch *s = th_batch_alloc(m, B, p->seed);
    if (!s) die("th_batch_alloc");
    th_run r = th_run_default();
    r.dt = p->dt;
    r.n_steps = th_gen_steps(p);
    double t_em = INFINITY, t_exact = INFINITY;
    for (int rep = 0; rep < reps; rep++) {
        th_batch_reset(s);
        double t0 = bench_now_s();
        if (th_langevin_run(m, s, &r) != TH_OK) die("th_langevin_run");
        t_em = fmin(t_em, bench_now_s() - t0);
        t0 = bench_now_s();
        if (th_batch_draw_wells(m, s, NULL) != TH_OK) die("th_batch_draw_wells");
        t_exact = fmin(t_exact, bench_now_s() - t0);
    }
    printf("\ntime per sample (%zu units, batch %zu, %d threads, best of %d):\n",
           m->n, B, omp_get_max_threads(), reps);
    printf("  Euler-Maruyama, %zu steps %9.3f ms  (th_langevin_run, with its heat ledger)\n",
           r.n_steps, 1e3 * t_em / (double)B);
    printf("  exact draw               %9.3f ms  (th_batch_draw_wells): %.0f times faster\n",
           1e3 * t_exact / (double)B, t_em / t_exact);
    th_batch_free(s);
    th_model_free(m);
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const th_gen_params p = th_gen_params_default();
    const th_well w = {.J2 = p.J2, .J4 = p.J4, .kT = p.kT};
    double b[4];
    if (th_well_moments(&w, b) != TH_OK) die("th_well_moments");
    const double var_x2 = b[3] - b[1] * b[1];
    char load[64];
    printf("bench_phase1 (thermo %s): phase 1's wells U = %g x^2 + %g x^4 at kT %g, mu %g; "
           "load average: %s\n", th_version(), p.J2, p.J4, p.kT, p.mu,
           bench_load_average(load, sizeof load));
    printf("Boltzmann (quadrature): <x^2> = %.10g, <x^4> = %.10g, Var(x^2) = %.6g\n\n", b[1],
           b[3], var_x2);

    printf("Euler-Maruyama's stationary density against Boltzmann's:\n");
    printf("  %-8s %14s %14s %14s %16s\n", "dt", "<x^2> rel.", "<x^4> rel.",
           "after 2.5 / dt", "N* (2 SE)");
    static const double dts[] = {1e-2, 3e-3, 1e-3, 3e-4, 1e-4};
    const int n_dt = quick ? 3 : 5;
    for (int k = 0; k < n_dt; k++) {
        double e[4], f[4];
        const size_t steps = (size_t)llround(2.5 / dts[k]);
        if (th_well_em_moments(&w, p.mu, dts[k], 0, e) != TH_OK ||
            th_well_em_moments(&w, p.mu, dts[k], steps, f) != TH_OK)
            die("th_well_em_moments");
        const double bias = e[1] - b[1];
        printf("  %-8g %+14.4e %+14.4e %+14.4e %16.3g\n", dts[k], bias / b[1], e[3] / b[3] - 1,
               f[1] / b[1] - 1, 4 * var_x2 / (bias * bias));
        fflush(stdout);
    }
    printf("  (<x^2> rel.: stationary EM / Boltzmann - 1; after 2.5 / dt: the same for the "
           "density after t_f = 2.5 from x = 0)\n\n");

    printf("relaxation at dt = %g: <x^2> after t_f from x = 0, relative to Boltzmann's:\n",
           p.dt);
    static const double tfs[] = {0.25, 0.625, 1.25, 2.5};
    for (int k = 0; k < 4; k++) {
        double f[4];
        const size_t steps = (size_t)llround(tfs[k] / p.dt);
        if (th_well_em_moments(&w, p.mu, p.dt, steps, f) != TH_OK) die("th_well_em_moments");
        printf("  t_f %-6g (%4zu steps)  <x^2> %+.4e  <x^4> %+.4e\n", tfs[k], steps,
               f[1] / b[1] - 1, f[3] / b[3] - 1);
    }
    time_phase1(&p, quick ? 1 : 3);
    return 0;
}
