/* gen_internal.h - what the generator's files share. */
#ifndef THERMO_GEN_INTERNAL_H
#define THERMO_GEN_INTERNAL_H

#include "core/internal.h"

/* Receives one block of the B noising paths: states (T+1, B, n) in the
 * dtype given to th__gen_noising_paths, holding x_{k0}, ..., x_{k0+T} of
 * every path, where k0 = first_step. Consecutive blocks share their boundary
 * state. A nonzero return stops the generation and is passed on. */
typedef int (*th__path_block_fn)(th_ptr states, size_t T, size_t B, size_t first_step,
                                 void *ctx);

/* Prepares and noises the B paths of images (B, n_visible) (see
 * th_gen_path_loss) and hands them out in blocks of at most p->block_steps
 * steps, so memory is bounded for any t_f. */
int th__gen_noising_paths(const th_gen_params *p, const float *images,
                          const uint64_t *path_ids, size_t B, th_dtype dtype,
                          th__path_block_fn fn, void *ctx);

/* The reference twin of the blocked objective: for one block of states
 * (T+1, B, n), adds to *loss the objective of its T steps of each path and,
 * when grad is non-NULL, the gradient (see th_gen_path_loss), with plain
 * loops per step and per unit. */
int th__gen_block_loss_reference(const th_model *m, const th_gen_params *p, th_ptr states,
                                 size_t T, size_t B, double *loss, th_model *grad);

#endif
