/* nn_internal.h - what the files of src/nn share: the forward and backward
 * passes over a block of rows held in a workspace, used both by the public
 * one-shot calls (mlp.c) and by the training loop (train.c), which allocates
 * its workspace once. */
#ifndef THERMO_NN_INTERNAL_H
#define THERMO_NN_INTERNAL_H

#include "core/internal.h"


/* Buffers for the forward and backward pass of up to `rows` examples. */
typedef struct th__mlp_work {
    size_t rows;                    /* capacity in examples */
    float *A[TH_MLP_MAX_LAYERS];    /* layer l's output (rows, width[l+1]); the last = logits */
    float *delta[2];                /* (rows, max width): dLoss/dZ, ping-pong */
    double *row_loss;               /* (rows) cross-entropy of each example */
} th__mlp_work;

/* TH_OK or TH_ENOMEM. */
int th__mlp_work_alloc(const th_mlp *net, size_t rows, th__mlp_work *w);
void th__mlp_work_free(th__mlp_work *w);

/* Forward pass of rows examples X (rows, width[0]) into w->A. */
void th__mlp_forward_rows(const th_mlp *net, const float *X, size_t rows, th__mlp_work *w);

/* After th__mlp_forward_rows: the cross-entropy of each row into
 * w->row_loss, and the gradient of scale * sum_rows(loss) added into grad
 * (accumulate = 1) or written over it (accumulate = 0). Labels must be
 * checked by the caller. Returns the sum of the rows' losses, added in row
 * order so that it does not depend on threads. */
double th__mlp_backward_rows(const th_mlp *net, const float *X, const uint8_t *labels,
                             size_t rows, double scale, th__mlp_work *w, th_mlp *grad,
                             int accumulate);

/* TH_EINVAL naming the first label >= the number of outputs. */
int th__mlp_check_labels(const th_mlp *net, const uint8_t *labels, size_t n);

/* Total number of weights and biases of layer l. */
static inline size_t th__mlp_layer_weights(const th_mlp *net, int l)
{
    return net->width[l + 1] * net->width[l];
}

#endif
