/* neuron_internal.h - what the thermodynamic-neuron files share: the layout
 * of the genetic algorithm's noise streams and a view of a parameter vector
 * as a network.
 *
 * Streams (64 bits): the top two bits say what the stream is for, so that no
 * two uses can meet whatever the seed:
 *     evaluation of individual i in generation g:  1 << 62 | g << 36 | i << 20,
 *         plus the trajectory index j * replicas + r (below 2^20),
 *     mutation of child i in generation g:         2 << 62 | g << 36 | i << 20,
 *     initial parameters of individual i:          3 << 62 | i.
 * Hence the limits: fewer than 2^26 generations, 2^16 individuals and 2^20
 * trajectories per evaluation. th_neuron_loss_curve uses streams from 0. */
#ifndef THERMO_NEURON_INTERNAL_H
#define THERMO_NEURON_INTERNAL_H

#include "core/internal.h"

#define TH__NEURON_MAX_GENERATIONS ((uint64_t)1 << 26)
#define TH__NEURON_MAX_POPULATION ((uint64_t)1 << 16)
#define TH__NEURON_MAX_TRAJECTORIES ((uint64_t)1 << 20)
/* Neurons in a network: 2^16 keeps the reference kernel's dense (N, N)
 * matrix and every size product far from overflow. */
#define TH__NEURON_MAX_UNITS ((size_t)1 << 16)

static inline uint64_t th__neuron_eval_stream(uint64_t generation, uint64_t individual)
{
    return ((uint64_t)1 << 62) | generation << 36 | individual << 20;
}

static inline uint64_t th__neuron_mutation_stream(uint64_t generation, uint64_t individual)
{
    return ((uint64_t)2 << 62) | generation << 36 | individual << 20;
}

static inline uint64_t th__neuron_init_stream(uint64_t individual)
{
    return ((uint64_t)3 << 62) | individual;
}

/* Points net's W, b, w, f into theta (net->n_params values) for the sizes
 * already in net. */
void th__neuron_net_view(th_neuron_net *net, double *theta);

/* The parameter count of a network of these sizes. */
size_t th__neuron_param_count(size_t n_layers, size_t width);

#endif
