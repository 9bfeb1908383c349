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

/* ----------------------------------------- shared by the MLP and the CNN */

/* Softmax cross-entropy of rows logits (rows, classes) with labels: the
 * loss of each row into row_loss and scale * (softmax - onehot) into dZ
 * (rows, classes). Returns the sum of the rows' losses in row order. */
double th__softmax_xent_rows(const float *logits, const uint8_t *labels, size_t rows,
                             size_t classes, double scale, float *dZ, double *row_loss);

/* out[j] (+)= sum over rows of D[r * cols + j], in row order (double). */
void th__column_sums(const float *D, size_t rows, size_t cols, int accumulate, float *out);

/* One optimiser step (train.c) on count parameters theta with gradient g
 * and state s1, s2 (zeros at the start); decay is the L2 weight decay. */
void th__nn_update(const th_mlp_train_params *p, float *theta, const float *g, float *s1,
                   float *s2, size_t count, double lr, double decay, double bc1, double bc2);
/* The learning rate of update t (1-based) of total, and Adam's two bias
 * corrections. */
double th__nn_rate(const th_mlp_train_params *p, size_t t, size_t total, double *bc1,
                   double *bc2);
/* The order of epoch e: a Fisher-Yates shuffle driven by Philox stream e. */
void th__nn_shuffle(size_t *order, size_t n, uint64_t seed, uint64_t epoch);
/* TH_EINVAL naming the first bad field of the optimiser settings. */
int th__nn_check_train_params(const th_mlp_train_params *p);

/* Accuracy, top-2 accuracy and confusion of any classifier on images first
 * .. first+n-1 of d: prepare writes rows of inputs, logits runs the net. */
typedef int (*th__prepare_fn)(const void *net, const th_dataset *d, size_t first, size_t n,
                              float *X);
typedef int (*th__logits_fn)(const void *net, const float *X, size_t n, float *logits);
int th__classifier_evaluate(const void *net, th__prepare_fn prepare, th__logits_fn logits,
                            size_t classes, const th_dataset *d, size_t first, size_t n,
                            double *accuracy, double *top2, size_t *confusion);
/* The same over the whole test split, with the per-class view. */
int th__classifier_report(const void *net, th__prepare_fn prepare, th__logits_fn logits,
                          size_t classes, const th_dataset *test, th_mlp_report *r);
/* Images first .. first+n-1 of d standardised per image: X (n, rows * cols). */
void th__standardise_images(const th_dataset *d, size_t first, size_t n, float *X);
/* x (n) to zero mean and unit variance (population variance, in double, as
 * th_dataset_standardize); a constant x becomes zeros. */
void th__standardise_floats(float *x, size_t n);

/* ------------------------------------------------------------ the CNN */

/* Sides and channels of a th_cnn's blocks: block l takes h[l] x w[l] images
 * of cin[l] channels, gives cout[l], and ph[l] x pw[l] after its pool. */
typedef struct th__cnn_geom {
    int n_conv;
    size_t k, pad;
    size_t h[TH_CNN_MAX_CONV], w[TH_CNN_MAX_CONV], cin[TH_CNN_MAX_CONV], cout[TH_CNN_MAX_CONV];
    size_t ph[TH_CNN_MAX_CONV], pw[TH_CNN_MAX_CONV], patch[TH_CNN_MAX_CONV];
    size_t flat, hidden, classes;
} th__cnn_geom;

/* Buffers for the passes of up to `rows` images. */
typedef struct th__cnn_work {
    size_t rows;
    th__cnn_geom g;
    float *cols[TH_CNN_MAX_CONV];    /* (rows h w, patch) the patches of block l */
    float *conv[TH_CNN_MAX_CONV];    /* (rows h w, cout) after the ReLU */
    float *pool[TH_CNN_MAX_CONV];    /* (rows ph pw, cout), NULL without a pool */
    uint32_t *arg[TH_CNN_MAX_CONV];  /* where each pooled maximum sits in its image */
    float *hid;                      /* (rows, hidden), after the ReLU and dropout */
    float *mask;                     /* (rows, hidden) dropout factors (backward only) */
    float *logits;                   /* (rows, classes) */
    float *d[2], *dcols;             /* gradients (backward only) */
    double *row_loss;
} th__cnn_work;

int th__cnn_work_alloc(const th_cnn *net, size_t rows, int backward, th__cnn_work *w);
void th__cnn_work_free(th__cnn_work *w);
/* Forward pass of rows standardised images X into w; dropout: multiply the
 * hidden units by w->mask. */
void th__cnn_forward_rows(const th_cnn *net, const float *X, size_t rows, th__cnn_work *w,
                          int dropout);
/* After th__cnn_forward_rows: the gradient of scale * the summed
 * cross-entropy into grad (added when accumulate); returns the summed loss. */
double th__cnn_backward_rows(const th_cnn *net, const uint8_t *labels, size_t rows,
                             double scale, th__cnn_work *w, th_cnn *grad, int accumulate,
                             int dropout);
int th__cnn_check_labels(const th_cnn *net, const uint8_t *labels, size_t n);
int th__cnn_same_shape(const th_cnn_shape *a, const th_cnn_shape *b);

/* The parameter tensors in file and params order: conv_W0, conv_b0, ...,
 * fc_W0, fc_b0, fc_W1, fc_b1; is_weight: decayed and initialised at random. */
#define TH__CNN_MAX_TENSORS (2 * TH_CNN_MAX_CONV + 4)
typedef struct th__cnn_tensor {
    float *data;
    size_t rows, cols; /* (out, fan-in) for weights, (out, 1) for biases */
    int is_weight;
} th__cnn_tensor;
size_t th__cnn_tensors(const th_cnn *net, th__cnn_tensor *t);
/* The same shapes (data NULL) from a shape alone, without allocating. */
size_t th__cnn_tensor_shapes(const th_cnn_shape *shape, th__cnn_tensor *t);
/* TH_EINVAL naming the first field of shape out of range. */
int th__cnn_check_shape(const th_cnn_shape *shape);
/* The F32 tensor name of f with shape (d0) (n_dims 1) or (d0, d1), or
 * TH_EFORMAT naming the file, the tensor and the metadata (source) that
 * asks for that shape. */
int th__nn_check_tensor(const char *path, const th_tensor_file *f, const char *name,
                        size_t n_dims, size_t d0, size_t d1, const char *source,
                        const th_tensor **out);
/* Image k of d as th_cnn_train feeds it at epoch e: moved, standardised,
 * perhaps noised and standardised again, from the image's own Philox
 * stream. x: (2 rows cols), the input and then scratch. */
void th__cnn_augment(const th_dataset *d, size_t k, const th_cnn_train_params *p, size_t epoch,
                     float *x);
/* th_mlp_report_compute for a CNN. */
int th__cnn_report(const th_cnn *net, const th_dataset *test, th_mlp_report *r);

#endif
