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
int th__gen_noising_paths(const th_gen_params *p, const float *images, const int *classes,
                          const uint64_t *path_ids, size_t B, th_dtype dtype,
                          th__path_block_fn fn, void *ctx);

/* Receives transitions of the B noising paths: rows x (rows, n) and the
 * states y (rows, n) one step later, step-major (all B paths at one step,
 * then the next): row r is the transition of noising step first_step +
 * (r / B) * step_stride. A nonzero return stops the generation and is
 * passed on. */
typedef int (*th__path_rows_fn)(th_ptr x, th_ptr y, size_t rows, size_t B, size_t first_step,
                                size_t step_stride, void *ctx);

/* A noiser runs batch after batch of B noising paths with its memory
 * allocated once (the exact solver's many batches), the paths split among
 * the threads (noising.c). With stride s it keeps, block by block, only the
 * transitions from the steps k with k mod s = 0, the rows of the exact
 * solver's statistics. NULL on failure (th_last_error says why). */
typedef struct th__noiser th__noiser;
th__noiser *th__gen_noiser_alloc(const th_gen_params *p, size_t B, size_t stride,
                                 th_dtype dtype);
void th__gen_noiser_free(th__noiser *z);
/* The B paths of images (B, n_visible), of classes (or NULL) and ids
 * path_ids, as th__gen_noising_paths makes them, handed to fn a block's
 * chosen transitions at a time. */
int th__gen_noiser_rows(th__noiser *z, const float *images, const int *classes,
                        const uint64_t *path_ids, th__path_rows_fn fn, void *ctx);

/* th_gen_protocol_path_loss, with the models' th_model_validate only when
 * check_models is nonzero: training validates its model once and then
 * changes it only by finite steps along a symmetric gradient (train.c). */
int th__gen_protocol_path_loss(const th_gen_protocol *pr, const th_gen_params *p,
                               const float *images, const int *classes,
                               const uint64_t *path_ids, size_t B, th_kernel kernel,
                               double *loss, const th_gen_protocol *grad, int check_models);

/* The generator's units with their on-site terms and no couplings: the
 * reference process of the noising paths and the wells of the noise phase. */
th_model *th__gen_uncoupled(const th_gen_params *p, th_dtype dtype);

/* TH_EINVAL unless m has the generator's groups and coupling pattern for p;
 * what names m in the message ("the model"). */
int th__gen_check_architecture(const th_model *m, const th_gen_params *p, const char *what);

/* TH_EINVAL unless a conditional generator has a class in range for each of
 * B paths (an unconditional one needs none). */
int th__gen_check_classes(const th_gen_params *p, const int *classes, size_t B);
/* The same for samples: classes below th_gen_classes (their styles are drawn). */
int th__gen_check_sample_classes(const th_gen_params *p, const int *classes, size_t B);

/* Sets the label units of the B states x (B, units) to the one-hot code of
 * their class, and, with clamped non-NULL (units), marks the label units as
 * clamped. Nothing to do for an unconditional generator. */
void th__gen_clamp_labels(const th_gen_params *p, th_dtype dtype, const int *classes,
                          size_t B, th_ptr x, unsigned char *clamped);

/* Whether unit i's bias is trained: the hidden units' of an unconditional
 * generator (visible biases are fixed at 0 in the paper, and a conditional
 * generator's label couplings play the hidden biases' part). */
static inline int th__gen_bias_trained(const th_gen_params *p, size_t i)
{
    if (i < p->n_visible) return p->visible_bias != 0;
    return p->n_classes == 0 && i < p->n_visible + p->n_hidden;
}

/* The reference twin of the blocked objective: for one block of states
 * (T+1, B, n), adds to *loss the objective of its T steps of each path and,
 * when grad is non-NULL, the gradient (see th_gen_path_loss), with plain
 * loops per step and per unit. */
int th__gen_block_loss_reference(const th_model *m, const th_gen_params *p, th_ptr states,
                                 size_t T, size_t B, double *loss, th_model *grad);

/* A protocol (protocol.c): S models; owned: whether freeing the protocol
 * frees them (a view of a caller's single model does not). */
struct th_gen_protocol {
    size_t segments;
    th_model **seg;
    int owned;
};

/* A one-segment protocol that borrows m (slot holds the pointer): the
 * th_model-based calls run as their protocol twins through it. */
static inline th_gen_protocol th__gen_protocol_view(th_model **slot, const th_model *m)
{
    *slot = (th_model *)m;
    return (th_gen_protocol){.segments = 1, .seg = slot, .owned = 0};
}

/* TH_EINVAL unless pr has p->segments segments, each of the generator's
 * architecture for p, one dtype and segment 0's on-site terms. */
int th__gen_protocol_check(const th_gen_protocol *pr, const th_gen_params *p, const char *what);

/* TH_EINVAL unless p->segments is 1: the th_model-based call fn cannot run a
 * protocol of several segments. */
int th__gen_single_segment(const th_gen_params *p, const char *fn);

/* Called after each update of th__gen_protocol_train with the protocol;
 * nonzero stops training as on_update does. */
typedef int (*th__gen_update_fn)(size_t update, double loss, const th_gen_protocol *pr,
                                 void *ctx);
/* th_gen_protocol_train with a hook after each update, after opts'. */
int th__gen_protocol_train(th_gen_protocol *pr, const th_gen_params *p, const float *images,
                           const int *classes, size_t count, const th_gen_train_opts *opts,
                           size_t first_update, double *loss, th__gen_update_fn hook,
                           void *hook_ctx);

#endif
