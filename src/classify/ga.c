/* ga.c - the genetic algorithm that programs a network of thermodynamic
 * neurons (Whitelam & Casert, Nat. Commun. 2026; science.md section 4).
 *
 * The loss of a network is a noisy average over Langevin runs and has no
 * gradient the hardware could measure, so the parameters evolve instead: a
 * population is evaluated, the best few (the elite) survive unchanged, and
 * the rest of the next generation are mutated copies of them. Mutations are
 * Gaussian with a scale divided by sqrt(fan-in), so that a child's change to
 * the input of a neuron has about the same size whether it comes from one
 * bias or from the width couplings that feed the neuron.
 *
 * Every random number is a function of (seed, generation, individual)
 * (streams in neuron_internal.h); individuals are evaluated in parallel, and
 * what each writes depends only on its own stream, so the run is identical
 * for any number of threads. */
#include "classify/neuron_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

th_ga_opts th_ga_opts_default(void)
{
    th_ga_opts o = {
        .population = 64,
        .elite = 8,
        .generations = 150,
        .init_sd = 0.1,
        .mutation_sd = 0.6,
        .seed = 1,
        .on_generation = NULL,
        .ctx = NULL,
    };
    return o;
}

int th_ga_opts_validate(const th_ga_opts *o)
{
    TH_ASSERT(o != NULL);
    if (o->population < 2 || o->population > TH__NEURON_MAX_POPULATION)
        return th__fail(TH_EINVAL, "population = %zu: expected 2 to %llu", o->population,
                        (unsigned long long)TH__NEURON_MAX_POPULATION);
    if (o->elite < 1 || o->elite >= o->population)
        return th__fail(TH_EINVAL, "elite = %zu: expected 1 to population - 1 = %zu", o->elite,
                        o->population - 1);
    if (o->generations < 1 || o->generations > TH__NEURON_MAX_GENERATIONS)
        return th__fail(TH_EINVAL, "generations = %zu: expected 1 to %llu", o->generations,
                        (unsigned long long)TH__NEURON_MAX_GENERATIONS);
    if (!(isfinite(o->init_sd) && o->init_sd >= 0))
        return th__fail(TH_EINVAL, "init_sd = %g: expected a finite value >= 0", o->init_sd);
    if (!(isfinite(o->mutation_sd) && o->mutation_sd > 0))
        return th__fail(TH_EINVAL, "mutation_sd = %g: expected a finite value > 0",
                        o->mutation_sd);
    return TH_OK;
}

/* Ranking: by loss, ties (and infinities) by index, a total order, so that
 * qsort's instability cannot change the result. */
typedef struct ranked {
    double loss;
    size_t index;
} ranked;

static int by_loss(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->loss < y->loss) return -1;
    if (x->loss > y->loss) return 1;
    return (x->index > y->index) - (x->index < y->index);
}

int th_ga_train(const th_neuron_params *p, const th_ga_opts *opts, th_neuron_net *net,
                th_ga_history *history)
{
    TH_ASSERT(p != NULL && opts != NULL && net != NULL);
    int rc = th_neuron_params_validate(p);
    if (rc == TH_OK) rc = th_ga_opts_validate(opts);
    if (rc != TH_OK) return rc;
    if (net->n_layers != p->n_layers || net->width != p->width)
        return th__fail(TH_EINVAL, "network of %zu layers of %zu: expected %zu layers of %zu "
                        "(the settings)", net->n_layers, net->width, p->n_layers, p->width);

    const size_t P = opts->population, E = opts->elite, n = net->n_params;
    double *pop = th__alloc(P * n * sizeof *pop);   /* (P, n) this generation */
    double *next = th__alloc(P * n * sizeof *next); /* (P, n) the next one */
    double *scale = th__alloc(n * sizeof *scale);   /* (n) mutation_sd / sqrt(fan-in) */
    double *loss = th__alloc(P * sizeof *loss);     /* (P) */
    int *status = th__alloc(P * sizeof *status);    /* (P) th_neuron_loss's return */
    ranked *order = th__alloc(P * sizeof *order);   /* (P) best first */
    if (!pop || !next || !scale || !loss || !status || !order) {
        rc = th__fail(TH_ENOMEM, "out of memory for a population of %zu networks", P);
        goto done;
    }
    for (size_t k = 0; k < n; k++)
        scale[k] = opts->mutation_sd / sqrt((double)th_neuron_fan_in(net, k));

    /* Generation 0: every parameter from N(0, init_sd^2). */
    for (size_t i = 0; i < P; i++) {
        double *theta = pop + i * n;
        th_normal_fill_f64(opts->seed, th__neuron_init_stream(i), 0, theta, n);
        for (size_t k = 0; k < n; k++) theta[k] *= opts->init_sd;
    }

    for (size_t g = 0; g < opts->generations; g++) {
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t i = 0; i < P; i++) {
            th_neuron_net view = {.n_layers = net->n_layers, .width = net->width,
                                  .n_params = n};
            th__neuron_net_view(&view, pop + i * n);
            status[i] = th_neuron_loss(p, &view, opts->seed, th__neuron_eval_stream(g, i),
                                       &loss[i], NULL);
        }
        size_t diverged = 0;
        for (size_t i = 0; i < P; i++) {
            if (status[i] == TH_EDIVERGED) {
                /* A network that blows up computes nothing: last place. */
                loss[i] = INFINITY;
                diverged++;
            } else if (status[i] != TH_OK) {
                rc = th__fail(status[i], "generation %zu, individual %zu: %s", g, i,
                              th_strerror(status[i]));
                goto done;
            }
            order[i] = (ranked){loss[i], i};
        }
        qsort(order, P, sizeof *order, by_loss);
        const double best = order[0].loss, median = order[(P - 1) / 2].loss;
        if (history) {
            history->best[g] = best;
            history->median[g] = median;
            history->diverged[g] = diverged;
        }
        if (g + 1 == opts->generations) {
            if (!isfinite(best)) {
                rc = th__fail(TH_EDIVERGED, "generation %zu: every one of the %zu networks "
                              "diverged", g, P);
                goto done;
            }
            memcpy(net->theta, pop + order[0].index * n, n * sizeof *pop);
        } else {
            for (size_t e = 0; e < E; e++)
                memcpy(next + e * n, pop + order[e].index * n, n * sizeof *pop);
            for (size_t c = E; c < P; c++) {
                /* The child's stream: block 0 picks the parent, blocks 1.. its
                 * mutations. */
                const uint64_t stream = th__neuron_mutation_stream(g, c);
                th_rng rng;
                th_rng_init(&rng, opts->seed, stream);
                const double *parent = pop + order[th_rng_u32(&rng) % E].index * n;
                double *child = next + c * n;
                th_normal_fill_f64(opts->seed, stream, 1, child, n);
                for (size_t k = 0; k < n; k++) child[k] = parent[k] + scale[k] * child[k];
            }
            double *t = pop;
            pop = next;
            next = t;
        }
        if (opts->on_generation && opts->on_generation(g, best, median, opts->ctx)) {
            rc = th__fail(TH_ECANCELED, "stopped after generation %zu", g);
            if (g + 1 < opts->generations)
                memcpy(net->theta, next + order[0].index * n, n * sizeof *pop);
            goto done;
        }
    }
    rc = TH_OK;
done:
    th__free(pop);
    th__free(next);
    th__free(scale);
    th__free(loss);
    th__free(status);
    th__free(order);
    return rc;
}
