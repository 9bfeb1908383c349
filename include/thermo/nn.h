/* thermo/nn.h - digital networks (the judge, the PNAS teacher) and the quality metrics of generated images.
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_NN_H
#define THERMO_NN_H

#include <stddef.h>
#include <stdint.h>

#include "thermo/core.h"
#include "thermo/io.h"
#include "thermo/gen.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==================================================== digital networks (nn) */

/* Dense feed-forward networks in float32, trained by minibatch gradient
 * descent on the softmax cross-entropy: the digital side of thermo. They
 * serve as the earlier judge of generated images (src/eval/; the judge is
 * now the convolutional th_cnn below) and as the teacher whose activations
 * a thermodynamic classifier learns to imitate (Whitelam, PNAS 2026;
 * science.md section 3). Every product is thermo's
 * own (th_matmul_f32); training is seeded (Philox) and gives the same
 * numbers for any number of threads and on any CPU. */

#define TH_MLP_MAX_LAYERS 8

typedef enum th_activation { TH_ACT_TANH = 0, TH_ACT_RELU = 1 } th_activation;

/* How raw 0..255 images become network inputs.
 *  TH_INPUT_STANDARDISED: each image to zero mean and unit variance over its
 *    pixels (th_dataset_standardize; the scale of the generator's visible
 *    units, science.md section 2);
 *  TH_INPUT_PNAS: pixel/255, then (v - 0.13066)/0.30811, then each image
 *    rescaled to the common L2 norm input_norm (the largest norm in the
 *    training set; science.md section 3). */
typedef enum th_image_input { TH_INPUT_STANDARDISED = 0, TH_INPUT_PNAS = 1 } th_image_input;

/* The MNIST training-set pixel statistics of TH_INPUT_PNAS (science.md section 3). */
#define TH_PNAS_PIXEL_MEAN 0.13066
#define TH_PNAS_PIXEL_STD 0.30811

/* A dense feed-forward network. Layer l maps width[l] -> width[l+1]; hidden
 * layers apply act, the last layer is linear (the logits). */
typedef struct th_mlp {
    int n_layers;                        /* weight layers, 1..TH_MLP_MAX_LAYERS */
    size_t width[TH_MLP_MAX_LAYERS + 1]; /* width[0] = inputs, width[n_layers] = outputs */
    th_activation act;
    float *W[TH_MLP_MAX_LAYERS];         /* layer l: (width[l+1], width[l]) row-major */
    float *b[TH_MLP_MAX_LAYERS];         /* layer l: (width[l+1]) */
    th_image_input input;                /* the preprocessing its inputs must have */
    double input_norm;                   /* TH_INPUT_PNAS: the common L2 norm */
} th_mlp;

/* All weights and biases 0, input TH_INPUT_STANDARDISED, input_norm 0. NULL
 * on failure (see th_last_error): n_layers outside 1..TH_MLP_MAX_LAYERS, a
 * width of 0, an unknown activation, no memory. */
th_mlp *th_mlp_alloc(int n_layers, const size_t *width, th_activation act);
void th_mlp_free(th_mlp *net);

/* Weights drawn from N(0, gain / width[l]) with gain 2 for ReLU (He) and 1
 * for tanh (LeCun), layer l from Philox stream l of seed; biases 0. */
void th_mlp_init(th_mlp *net, uint64_t seed);

/* Forward pass of n inputs X (n, width[0]), already preprocessed. logits
 * (n, width[n_layers]) may be NULL; hidden may be NULL, or an array of
 * n_layers - 1 pointers, each NULL or receiving layer l's activations
 * (n, width[l+1]), after the nonlinearity. Works in chunks of rows, so
 * memory stays bounded for any n. TH_ENOMEM only. */
int th_mlp_forward(const th_mlp *net, const float *X, size_t n, float *logits,
                   float *const *hidden);

/* Writes images first .. first+n-1 of d preprocessed the way net expects:
 * X (n, rows * cols). TH_EINVAL when d's image size is not width[0], the
 * range lies outside d, or a TH_INPUT_PNAS net has no positive input_norm. */
int th_mlp_prepare(const th_mlp *net, const th_dataset *d, size_t first, size_t n, float *X);

/* The largest L2 norm over d's images after the pixel/255 and mean/std steps
 * of TH_INPUT_PNAS: the input_norm a PNAS network trained on d uses. */
double th_mlp_pnas_norm(const th_dataset *d);

/* Saved as safetensors: tensors W0, b0, W1, b1, ... (F32); metadata
 * "thermo.kind" = "mlp" (the file kind; files without it load when
 * "nn.kind" says "mlp"), "nn.kind" = "mlp", "nn.widths" ("784,32,32,10"), "nn.activation"
 * ("tanh"/"relu"), "nn.input" ("standardised"/"pnas"), "nn.input_norm",
 * "thermo.version", plus the caller's extra entries (what trained it: data,
 * epochs, accuracy). Atomic. */
int th_mlp_save(const char *path, const th_mlp *net);
int th_mlp_save_meta(const char *path, const th_mlp *net, const th_meta *extra);
/* Load validates every field and names the file and the one that is wrong
 * (TH_EFORMAT; TH_EIO when it cannot be read). extra_out may be NULL;
 * otherwise it receives all metadata. */
int th_mlp_load(const char *path, th_mlp **out);
int th_mlp_load_meta(const char *path, th_mlp **out, th_meta *extra_out);

/* The mean softmax cross-entropy of n examples X (n, width[0]) with classes
 * labels (n), each < width[n_layers]:
 *     loss = -(1/n) sum_k log softmax(z_k)[label_k],
 * and, with grad non-NULL (a net of the same widths), its gradient with
 * respect to every weight and bias written into grad (overwritten, not
 * added). TH_EINVAL for a label out of range; TH_ENOMEM. */
int th_mlp_loss_grad(const th_mlp *net, const float *X, const uint8_t *labels, size_t n,
                     double *loss, th_mlp *grad);

typedef enum th_optimizer {
    TH_OPT_ADAM = 0, /* Kingma & Ba 2015, with bias correction */
    TH_OPT_SGD = 1   /* with heavy-ball momentum */
} th_optimizer;

typedef struct th_mlp_train_params {
    size_t epochs;          /* passes over the data: 10 */
    size_t batch;           /* examples per update: 128 (the last one may be smaller) */
    th_optimizer optimizer; /* TH_OPT_ADAM */
    double learning_rate;   /* 1e-3 */
    int cosine;             /* 1: the rate follows a half cosine from learning_rate to 0
                               over all updates; 0: constant */
    double momentum;        /* SGD: 0.9 */
    double beta1, beta2;    /* Adam: 0.9, 0.999 */
    double epsilon;         /* Adam: 1e-8 */
    double weight_decay;    /* L2 penalty on the weights (not biases) added to the
                               gradient: 0 */
    uint64_t seed;          /* shuffling: the order of epoch e comes from stream e */
    /* Called after each update (done of total updates); a nonzero return
     * stops training with TH_ECANCELED. The tool's progress bar fits. */
    th_progress_fn progress;
    void *progress_ctx;
    /* Called after each epoch with its mean training loss; a nonzero return
     * stops training with TH_ECANCELED. */
    int (*on_epoch)(size_t epoch, double loss, const th_mlp *net, void *ctx);
    void *epoch_ctx;
} th_mlp_train_params;

th_mlp_train_params th_mlp_train_params_default(void);

/* Trains net in place from its current weights (call th_mlp_init first for a
 * fresh net) on n examples X (n, width[0]) with labels (n). epoch_loss
 * (epochs) may be NULL. TH_EINVAL naming the bad parameter or label,
 * TH_EDIVERGED naming the epoch and update where the loss or a weight stopped
 * being finite. The same seed gives the same weights for any thread count. */
int th_mlp_train(th_mlp *net, const float *X, const uint8_t *labels, size_t n,
                 const th_mlp_train_params *p, double *epoch_loss);

/* The class with the largest logit of each row (first on ties): logits
 * (n, classes), pred (n). */
void th_argmax_rows(const float *logits, size_t n, size_t classes, int *pred);

/* The share of rows whose label is among the k largest logits, ties going to
 * the lower class as in th_argmax_rows, so that k = 1 is the accuracy of
 * th_argmax_rows. */
double th_topk_accuracy(const float *logits, size_t n, size_t classes, const uint8_t *labels,
                        size_t k);

/* Accuracy of net on images first .. first+n-1 of d (preprocessed by
 * th_mlp_prepare, in chunks), with the confusion matrix confusion
 * (classes, classes) counts [true][predicted] when non-NULL and top-2
 * accuracy when top2 is non-NULL. d must have labels. */
int th_mlp_evaluate(const th_mlp *net, const th_dataset *d, size_t first, size_t n,
                    double *accuracy, double *top2, size_t *confusion);

/* The MLPs thermo trains (fit.c, thermo classifier): the earlier judge
 * (--arch judge-mlp), a 784-512-256-10 ReLU network on standardised images
 * (98.4% on MNIST, 90.3% on Fashion-MNIST test images in 12 epochs), and the
 * PNAS teacher, 784-32-32-10 tanh on TH_INPUT_PNAS inputs (the paper's
 * network, 97.3% in the paper). */
typedef enum th_mlp_arch { TH_MLP_JUDGE = 0, TH_MLP_TEACHER = 1 } th_mlp_arch;

typedef struct th_mlp_preset {
    int n_layers;
    size_t width[TH_MLP_MAX_LAYERS + 1];
    th_activation act;
    th_image_input input;
    size_t epochs, batch;          /* Adam with a cosine rate */
    double learning_rate, weight_decay;
} th_mlp_preset;

/* Judge: 12 epochs, batch 128, rate 1e-3, no decay; teacher: 40, 64, 2e-3, 2e-3. */
th_mlp_preset th_mlp_preset_get(th_mlp_arch arch);

/* A fresh network of the preset's shape for images of train: its input
 * preprocessing (a PNAS network takes th_mlp_pnas_norm(train)) and weights
 * th_mlp_init(seed). TH_EINVAL when train's images do not have width[0]
 * pixels; NULL otherwise only for lack of memory. */
int th_mlp_build(const th_mlp_preset *a, const th_dataset *train, uint64_t seed, th_mlp **out);

/* Trains net on every image of train (prepared by th_mlp_prepare) with its
 * labels: th_mlp_train. */
int th_mlp_fit(th_mlp *net, const th_dataset *train, const th_mlp_train_params *p);

/* How th_mlp_fit trained, as metadata for th_mlp_save_meta: "train.images",
 * "train.epochs", "train.batch", "train.lr" (%.17g), "train.optimizer",
 * "train.seed". */
int th_mlp_train_meta(const th_mlp_train_params *p, size_t images, th_meta *meta);

/* A test of a network on a labelled dataset: accuracy, top-2 accuracy and
 * per class the images, the share classified right (NaN for a class without
 * images) and the confusion matrix [true][predicted]. */
typedef struct th_mlp_report {
    size_t count, classes;
    double accuracy, top2;
    size_t *confusion;      /* (classes, classes) */
    size_t *class_count;    /* (classes) images of each true class */
    double *class_accuracy; /* (classes) */
} th_mlp_report;

int th_mlp_report_compute(const th_mlp *net, const th_dataset *test, th_mlp_report *r);
void th_mlp_report_free(th_mlp_report *r);

/* -------------------------------------- convolutional networks (src/nn/) */

/* A small convolutional network in float32: the judge of thermo eval. Each
 * block is a square convolution of odd side `kernel` with zero padding
 * kernel/2 (the image keeps its size), a ReLU and, when pool[l] is set, a
 * 2x2 max pool of stride 2 (an odd side loses its last row or column); then
 * one dense ReLU layer of `hidden` units (the features of the Frechet
 * distance) and a linear layer to the logits. Inputs are single-channel
 * images standardised per image (TH_INPUT_STANDARDISED, the scale of the
 * generator's visible units). Activations are stored pixel-major with the
 * channels innermost, (image, y, x, channel), so that a convolution is one
 * matrix product: the (dy, dx, channel) patches of every output pixel as
 * rows (im2col) times the kernels (th_matmul_f32's chain, backend.h), and
 * the results are the same bits for any number of threads. */

#define TH_CNN_MAX_CONV 4

typedef struct th_cnn_shape {
    size_t rows, cols;                /* input image, one channel */
    size_t kernel;                    /* odd, 1..15 */
    int n_conv;                       /* 1..TH_CNN_MAX_CONV */
    size_t channels[TH_CNN_MAX_CONV]; /* output channels of block l */
    int pool[TH_CNN_MAX_CONV];        /* 1: block l ends with a 2x2 max pool */
    size_t hidden;                    /* the dense ReLU layer */
    size_t classes;
} th_cnn_shape;

typedef struct th_cnn {
    th_cnn_shape shape;
    size_t n_params;
    float *params; /* every weight and bias in one array, in the order of the tensors below */
    float *conv_W[TH_CNN_MAX_CONV]; /* (channels[l], kernel, kernel, in channels) */
    float *conv_b[TH_CNN_MAX_CONV]; /* (channels[l]) */
    float *fc_W[2];                 /* (hidden, flat) with flat = (y, x, channel) of the last
                                       block; (classes, hidden) */
    float *fc_b[2];                 /* (hidden); (classes) */
} th_cnn;

/* The judge's shape for images of rows x cols: 5x5 kernels, 32 then 64
 * channels, each pooled, 256 hidden units, 10 classes. */
th_cnn_shape th_cnn_judge_shape(size_t rows, size_t cols);

/* All parameters 0. NULL on failure (th_last_error names the bad field:
 * an even or zero kernel, a block that would leave no pixels, no memory). */
th_cnn *th_cnn_alloc(const th_cnn_shape *shape);
void th_cnn_free(th_cnn *net);
/* The side of the image after the blocks (*h, *w) and the flat width h w c. */
size_t th_cnn_flat_width(const th_cnn_shape *shape, size_t *h, size_t *w);

/* He initialisation (variance 2 / fan-in) of every weight, tensor t from
 * Philox stream t of seed; biases 0. */
void th_cnn_init(th_cnn *net, uint64_t seed);

/* Forward pass of n standardised images X (n, rows * cols). logits
 * (n, classes) and features (n, hidden) may each be NULL. Works in blocks,
 * so memory stays bounded for any n. TH_ENOMEM only. */
int th_cnn_forward(const th_cnn *net, const float *X, size_t n, float *logits, float *features);

/* The mean softmax cross-entropy of n images with labels (each < classes)
 * and, with grad non-NULL (a network of the same shape), its gradient in
 * grad->params (overwritten). No dropout. TH_EINVAL for a bad label or
 * shape; TH_ENOMEM. */
int th_cnn_loss_grad(const th_cnn *net, const float *X, const uint8_t *labels, size_t n,
                     double *loss, th_cnn *grad);

/* Training: minibatches of the optimiser settings in opt (epochs, batch,
 * Adam or SGD, rate and cosine schedule, weight decay on the weights, seed,
 * progress; its on_epoch is not called), each image augmented afresh every
 * epoch from its own Philox stream (so the result depends on the seed
 * alone, not on threads):
 *  - moved by whole pixels dx, dy drawn uniformly from -shift..shift, the
 *    uncovered border filled with the background grey 0;
 *  - standardised, then with probability noise_share given Gaussian pixel
 *    noise of standard deviation drawn uniformly from [0, noise] (the
 *    thermal jitter of generated visible units) and standardised again;
 *  - dropout of the hidden units at rate dropout (inverted scaling). */
typedef struct th_cnn_train_params {
    th_mlp_train_params opt; /* epochs 15, batch 64, Adam, rate 1e-3, cosine, seed 1 */
    size_t shift;            /* 2 */
    double noise;            /* 0.6 */
    double noise_share;      /* 0.5 */
    double dropout;          /* 0.25 */
    /* Called after each epoch with its mean training loss; a nonzero return
     * stops training with TH_ECANCELED. */
    int (*on_epoch)(size_t epoch, double loss, const th_cnn *net, void *ctx);
    void *epoch_ctx;
} th_cnn_train_params;

th_cnn_train_params th_cnn_train_params_default(void);

/* Trains net in place (th_cnn_init first for a fresh one) on every image of
 * train with its labels. epoch_loss (opt.epochs) may be NULL. TH_EINVAL
 * naming the bad parameter, TH_EDIVERGED naming the epoch and update. */
int th_cnn_train(th_cnn *net, const th_dataset *train, const th_cnn_train_params *p,
                 double *epoch_loss);

/* How th_cnn_train trained, as metadata: th_mlp_train_meta's keys and
 * "train.shift", "train.noise", "train.noise_share", "train.dropout". */
int th_cnn_train_meta(const th_cnn_train_params *p, size_t images, th_meta *meta);

/* Accuracy, top-2 accuracy and confusion on images first .. first+n-1 of
 * d, as th_mlp_evaluate (th_judge_report_compute gives the whole report). */
int th_cnn_evaluate(const th_cnn *net, const th_dataset *d, size_t first, size_t n,
                    double *accuracy, double *top2, size_t *confusion);

/* Saved as safetensors: tensors conv_W0, conv_b0, ..., fc_W0, fc_b0, fc_W1,
 * fc_b1 (F32); metadata "thermo.kind" = "cnn", "cnn.input" ("28,28"),
 * "cnn.kernel", "cnn.channels" ("32,64"), "cnn.pool" ("1,1"),
 * "cnn.hidden", "cnn.classes", "thermo.version", plus the caller's extra
 * entries. Atomic. Load checks every field and names the file and the field
 * (TH_EFORMAT; TH_EIO when unreadable); extra_out may be NULL. */
int th_cnn_save_meta(const char *path, const th_cnn *net, const th_meta *extra);
int th_cnn_load_meta(const char *path, th_cnn **out, th_meta *extra_out);

/* ------------------------------------------------------------ judges */

/* The network thermo eval scores images with: a th_cnn (thermo classifier
 * train --arch judge) or the earlier th_mlp judge on standardised images
 * (--arch judge-mlp). Exactly one of cnn and mlp is set. */
typedef struct th_judge {
    th_cnn *cnn;
    th_mlp *mlp;
} th_judge;

/* Loads either kind, told apart by the file's "thermo.kind" ("cnn" or
 * "mlp"). An MLP must take standardised inputs and have a hidden layer.
 * meta_out may be NULL. TH_EFORMAT naming the file otherwise. */
int th_judge_load(const char *path, th_judge *out, th_meta *meta_out);
/* Frees the network and zeroes the struct. */
void th_judge_free(th_judge *judge);
const char *th_judge_kind(const th_judge *judge); /* "cnn" or "mlp" */
size_t th_judge_inputs(const th_judge *judge);
size_t th_judge_classes(const th_judge *judge);
size_t th_judge_features(const th_judge *judge); /* the penultimate layer's width */
/* logits (n, classes) and features (n, features) of n standardised images;
 * either may be NULL. */
int th_judge_forward(const th_judge *judge, const float *X, size_t n, float *logits,
                     float *features);
int th_judge_report_compute(const th_judge *judge, const th_dataset *test, th_mlp_report *r);

/* ------------------------------------- image-quality metrics (src/eval/) */

/* Measures of images generated by a thermodynamic computer, computed with a
 * judge network (th_judge: the th_cnn of thermo classifier train --arch
 * judge, or the earlier MLP) against a real dataset. */

/* The Frechet distance between the Gaussians N(m1, S1) and N(m2, S2):
 *     |m1 - m2|^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2}),
 * in float64, both square roots from LAPACK symmetric eigen-decompositions
 * (dsyevd); eigenvalues that rounding pushed below 0 count as 0. m: (d),
 * S: (d, d) symmetric positive semi-definite. TH_EINVAL for a non-finite
 * entry or a matrix that is not symmetric; TH_ENOMEM. */
int th_frechet_distance(const double *m1, const double *S1, const double *m2, const double *S2,
                        size_t d, double *out);

/* Mean (d) and covariance (d, d), divisor n - 1, of the n rows of F (n, d),
 * in double. TH_EINVAL for n < 2. */
int th_feature_moments(const float *F, size_t n, size_t d, double *mean, double *cov);

/* For each row a of A (na, d): the Euclidean distance to its nearest row of
 * B (nb, d), and that row's index when index is non-NULL (the lowest on
 * ties). The candidates come from |a|^2 + |b|^2 - 2 a.b with the products
 * a.b by matrix multiplication in float32; the winner's distance is then
 * recomputed exactly in double. Same result for any number of threads.
 * dist: (na). TH_ENOMEM. */
int th_nearest_distances(const float *A, size_t na, const float *B, size_t nb, size_t d,
                         double *dist, size_t *index);

/* Sample skewness m3 / m2^{3/2} (population moments) of x (n); 0 when x is
 * constant. A digit or garment is a minority of bright pixels on a dark
 * ground: positive skewness. Its contrast-inverted copy has the opposite. */
double th_stats_skewness(const float *x, size_t n);

/* The entropy -sum p ln p (nats) of the distribution counts / sum(counts);
 * 0 for all-zero counts. */
double th_entropy_counts(const size_t *counts, size_t k);

/* The q-quantile (0 <= q <= 1) of values (n >= 1) by linear interpolation
 * between order statistics at position q (n - 1) (Hyndman & Fan type 7);
 * values is left unchanged. */
double th_stats_quantile(const double *values, size_t n, double q);

/* Whether an image (rows, cols) is contrast-inverted: the mean of its
 * border, the outermost ring of 2 (rows + cols) - 4 pixels, lies above the
 * mean of the whole image. Digits and garments are bright figures on a dark
 * ground that reaches the border; inverted, the ground is the brightest part.
 * Of the real training images, 0 of 60,000 MNIST digits and 8 of 60,000
 * Fashion-MNIST garments count as inverted; pixel skewness, the earlier
 * criterion, called 21% of Fashion-MNIST inverted (garments that fill the
 * frame). An image too small to have an inside (a side below 3) is never
 * inverted. */
int th_image_inverted(const float *x, size_t rows, size_t cols);

/* Within-class diversity of n images X (n, n_pix) with classes labels (n;
 * entries outside 0..n_classes-1 are skipped): for each class, the first
 * per_class of its images (at most), each standardised to zero mean and
 * unit variance over its pixels, and
 *     d_c = 1 - mean over pairs i < j of r_ij,
 * r_ij = (1/n_pix) sum_p z_ip z_jp the Pearson correlation of the two
 * images; the diversity is the mean of d_c over the classes with at least
 * two images. Identical images give 0, independent noise about 1, a class
 * mixing images and their negatives more than 1. per_class_out
 * (n_classes, may be NULL) receives d_c, NaN where a class has fewer than
 * two images. Sums in double, in a fixed order. TH_EINVAL when no class has
 * two images; TH_ENOMEM. */
int th_class_diversity(const float *X, size_t n, size_t n_pix, const int *labels,
                       size_t n_classes, size_t per_class, double *diversity,
                       double *per_class_out);

/* The 3 x 3 box blur of each of n images x (n, rows * cols): every pixel
 * becomes the mean of its 3 x 3 neighbourhood, the border repeated beyond
 * the edge, into out (n, rows * cols; not x). It removes pixel-scale
 * noise and keeps strokes: the diversity of blurred images counts the
 * differences of shape between images, not their independent pixel noise
 * (thermal jitter alone gives blurred images that are nearly identical). */
void th_image_blur3(const float *x, size_t n, size_t rows, size_t cols, float *out);

/* A samples file, as thermo sample writes it: safetensors with "images" F32
 * (n, n_pix), the generated visible states; optionally "classes" (n), the
 * class each sample was asked for, -1 for none (stored as F32 or F64 holding
 * whole numbers: thermo's safetensors reader handles float tensors only), and
 * "heat" F64 or F32 (n), the heat per sample in kT. */
typedef struct th_samples {
    size_t count;
    size_t n_pix;
    float *images;   /* (count, n_pix) */
    int *classes;    /* (count), or NULL */
    double *heat;    /* (count), or NULL */
} th_samples;

/* Reads and validates: images present with n_pix columns (the caller's
 * expectation, such as the judge's 784 inputs), classes whole numbers from -1
 * to n_classes - 1, shapes agreeing. TH_EFORMAT naming the file, the tensor
 * and the expectation. */
int th_samples_read(const char *path, size_t n_pix, size_t n_classes, th_samples **out);
/* Writes one (classes and heat may be NULL). Atomic. */
int th_samples_write(const char *path, const float *images, size_t count, size_t n_pix,
                     const int *classes, const double *heat);
void th_samples_free(th_samples *s);

#define TH_EVAL_MAX_CLASSES 64
#define TH_EVAL_QUANTILES 5 /* 0, 0.1, 0.5, 0.9, 1: min, 10%, median, 90%, max */

typedef struct th_eval_params {
    int uninvert;          /* negate contrast-inverted samples (th_image_inverted) first */
    size_t reference_count;/* real images for the floors; 0 = as many as samples */
    const th_judge *second;/* a second judge (the earlier MLP) whose verdicts are reported
                              beside the judge's; NULL = none */
    size_t diversity_count;/* images a class for the diversity; 0 = 100 */
    /* Called as the nearest-neighbour searches progress (done of total rows);
     * a nonzero return stops with TH_ECANCELED. */
    th_progress_fn progress;
    void *progress_ctx;
} th_eval_params;

th_eval_params th_eval_params_default(void);

typedef struct th_eval_report {
    size_t count;              /* samples */
    size_t n_classes;          /* the judge's outputs */
    double judge_accuracy;     /* the judge on the real test images: its own credibility */
    /* contrast */
    size_t inverted;           /* contrast-inverted samples (th_image_inverted) */
    double inverted_share;
    int uninverted;            /* 1: those were negated before everything below */
    /* what the judge sees */
    size_t predicted[TH_EVAL_MAX_CLASSES]; /* histogram of the judge's classes */
    double entropy;            /* of that histogram, nats */
    double entropy_share;      /* entropy / ln(n_classes): 1 = every class equally often */
    /* conditional generation (has_classes: some sample asked for a class) */
    int has_classes;
    size_t requested[TH_EVAL_MAX_CLASSES]; /* samples asked for class c */
    size_t granted[TH_EVAL_MAX_CLASSES];   /* of those, judged to be c */
    /* [a][j]: samples asked for class a that the judge put in class j */
    size_t confusion[TH_EVAL_MAX_CLASSES][TH_EVAL_MAX_CLASSES];
    double conditional_accuracy;           /* mean over requested classes of granted/requested */
    size_t unconditional;                  /* samples with class -1 */
    /* Frechet distance in the judge's penultimate features */
    size_t feature_dim;
    double frechet;            /* samples against the test set */
    double frechet_floor;      /* reference_count training images against the test set */
    size_t frechet_test_count;
    /* memorisation: distance (standardised pixels) to the nearest training image */
    size_t reference_count;    /* test images used for the reference statistics */
    double nearest_mean;       /* samples */
    double nearest_q[TH_EVAL_QUANTILES];
    double reference_mean;     /* real test images: how close unseen digits come */
    double reference_q[TH_EVAL_QUANTILES];
    /* heat */
    int has_heat;
    double heat_mean;          /* kT per sample */
    /* within-class diversity (th_class_diversity): samples grouped by the
     * class asked for, or by the judge's class where none was asked;
     * the real training images by their labels (NaN without labels) */
    size_t diversity_count;    /* images a class at most */
    int diversity_by_judge;    /* some samples were grouped by the judge's class */
    double diversity, diversity_real;
    double class_diversity[TH_EVAL_MAX_CLASSES];      /* NaN: fewer than 2 images */
    double class_diversity_real[TH_EVAL_MAX_CLASSES];
    /* The same of the images after th_image_blur3 (square images only; NaN
     * otherwise): the diversity of shapes, which pixel noise cannot raise. */
    double diversity_blur, diversity_blur_real;
    /* the second judge (p->second) on the same samples */
    int has_second;
    double second_accuracy;    /* on the real test images */
    size_t second_predicted[TH_EVAL_MAX_CLASSES];
    double second_entropy_share;
    size_t second_granted[TH_EVAL_MAX_CLASSES];
    double second_conditional_accuracy;
    double agreement;          /* share of samples both judges put in the same class */
    /* How far the verdicts differ, in percentage points: for conditional
     * samples |conditional accuracy - the second's|, otherwise the total
     * variation distance between the two class histograms, 50 sum_c
     * |p_c - q_c|. disagree: more than TH_EVAL_DISAGREE points. */
    double disagreement;
    int disagree;
} th_eval_report;

#define TH_EVAL_DISAGREE 5.0

/* Evaluates samples s against a judge (th_judge_load: the CNN, or an MLP
 * of at least 2 layers on standardised inputs, of s->n_pix pixels), the
 * training split train and the test split test (with labels). Each sample
 * is first standardised to zero mean and unit variance over its pixels (the
 * judge's input), after negation when p->uninvert and it is inverted
 * (th_image_inverted). p->second, when set, judges the same inputs too. */
int th_eval_samples(const th_judge *judge, const th_samples *s, const th_dataset *train,
                    const th_dataset *test, const th_eval_params *p, th_eval_report *out);

/* end of section nn */

#ifdef __cplusplus
}
#endif
#endif /* THERMO_NN_H */
