/* thermo/classify.h - thermodynamic classifiers (PNAS 2026) and neurons trained by a genetic algorithm (Nat. Commun. 2026).
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_CLASSIFY_H
#define THERMO_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "thermo/core.h"
#include "thermo/io.h"
#include "thermo/nn.h"
#include "thermo/energy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================== thermodynamic classifiers (classify) */

/* Whitelam's classifier trained by gradient descent (PNAS 2026; science.md
 * section 3): n_input units clamped to a preprocessed image (TH_INPUT_PNAS),
 * n_hidden hidden and n_output output units in J2 x^2 + J4 x^4 wells, with
 * couplings input-hidden, input-output, hidden-hidden, hidden-output and
 * output-output and biases on hidden and output units. Trained as a student:
 * a digital teacher's activations define an idealised trajectory of
 * non-interacting units, and the student's parameters maximise the
 * Onsager-Machlup probability of that trajectory under its own dynamics. It
 * classifies by the argmax of its output units at t_f, averaged over
 * independent trajectories.
 *
 * The free units (hidden then output, n_free = n_hidden + n_output) carry
 * targets a_i in [-1, 1] (th_student_targets): hidden unit h takes the
 * teacher's hidden activation (h mod H) of its hidden layers concatenated
 * (H = 32 + 32 for the 784-32-32-10 teacher: units 0-31 the first layer,
 * 32-63 the second); output unit c takes 2 P_c - 1 with P_c the teacher's
 * softmax probability of class c at temperature output_temperature. */
typedef struct th_student_params {
    size_t n_input;   /* 784 */
    size_t n_hidden;  /* 64 */
    size_t n_output;  /* 10 */
    double kT;        /* 1 */
    double J2, J4;    /* 1, 1 (every unit) */
    double mu;        /* 1 */
    double dt;        /* 1e-3 */
    double t_f;       /* 0.2: 200 steps */
    /* The idealised trajectory drives free unit i by the constant force
     * gain * a_i: 200. The paper's text gives biases proportional to the
     * activations but not the factor; 200 puts the units deep in their
     * quartic wells within t_f (noise small beside the signal, heat near the
     * paper's 2.3e4 kT per trajectory). 0 = automatic: the force under which
     * a noise-free unit starting at 0 ends at x(t_f) = 1 (7.7 for the
     * preset), a regime where the thermal noise dominates the outputs. */
    double gain;
    /* The output targets are 2 P_c - 1 with P = softmax(logits / T): 4. The
     * paper's targets are the teacher's outputs (T = 1), whose probability
     * sits almost entirely on one class; at T = 4 the targets also rank the
     * other classes, which the student learns from: top-1 92.1% -> 92.9%,
     * top-2 96.4% -> 96.9% (README, section classify). */
    double output_temperature;
    uint64_t seed;    /* noise of idealised paths, shuffling, and classification */
} th_student_params;

/* The pnas2026 preset above. */
th_student_params th_student_params_default(void);
/* Checks every field; TH_EINVAL naming the first bad one. */
int th_student_params_validate(const th_student_params *p);
/* round(t_f / dt). */
size_t th_student_steps(const th_student_params *p);
/* The force per unit target of the idealised path: p->gain, or the
 * automatic one when p->gain is 0 (bisection on the noise-free Euler path). */
double th_student_gain(const th_student_params *p);

/* Groups 0 input, 1 hidden, 2 output with the PNAS coupling pattern;
 * on-site J2, J4, kT, mu from p; parameters 0 (the paper's start). Also the
 * gradient's container. */
th_model *th_student_model_alloc(const th_student_params *p, th_dtype dtype);
/* TH_EINVAL unless m has p's groups, coupling pattern and constants. */
int th_student_check_model(const th_model *m, const th_student_params *p);

/* The targets a (B, n_free) of images X (B, n_input), preprocessed for the
 * teacher, as described above. The teacher must have n_input inputs,
 * n_output outputs and at least one hidden layer. */
int th_student_targets(const th_student_params *p, const th_mlp *teacher, const float *X,
                       size_t B, float *targets);

/* Idealised trajectories (science.md section 3): free unit i of path k
 * starts at 0 and follows, for th_student_steps(p) Euler-Maruyama steps,
 *     x <- x - mu dt (2 J2 x + 4 J4 x^3 - gain a_{k,i}) + sqrt(2 mu kT dt) xi,
 * with xi from stream TH_STUDENT_PATH_STREAM + path_ids[k] of p->seed,
 * step s using blocks s * ceil(n_free / 4) onwards (value i of the step is
 * unit i's noise). targets: (B, n_free); paths: (B, steps + 1, n_free). */
#define TH_STUDENT_PATH_STREAM ((uint64_t)1 << 34)
int th_student_ideal_paths(const th_student_params *p, const float *targets,
                           const uint64_t *path_ids, size_t B, double *paths);

/* The training objective summed over the B idealised paths of images
 * (B, n_input) with targets (B, n_free): the Onsager-Machlup
 *     loss = sum_k sum_{i free} (Dx_{k,i} + mu dt dV/dx_i(x_k))^2 / (4 mu kT dt),
 * Dx_k = x_{k+1} - x_k, the force at the step's start point x_k, the input
 * units held at the image. With grad non-NULL (a student model of the same
 * architecture) it adds the gradient: with r = (Dx + mu dt dV/dx(x_k)) / (2 kT),
 * grad->b_i += sum_k r_{k,i}; grad->J_ij = grad->J_ji += sum_k (r_{k,i} x_{k,j}
 * + r_{k,j} x_{k,i}) for coupled free pairs and sum_k r_{k,i} s_j for input j.
 * TH_KERNEL_FAST uses matrix products over (paths x steps);
 * TH_KERNEL_REFERENCE is the plain-loop twin. Computed in double for either
 * dtype. */
int th_student_path_loss(const th_model *m, const th_student_params *p, const float *images,
                         const float *targets, const uint64_t *path_ids, size_t B,
                         th_kernel kernel, double *loss, th_model *grad);

/* Adam on minibatches of idealised paths. Epoch e visits the images in the
 * order of a permutation drawn from (p->seed, epoch); image q in epoch e has
 * path id e * count + q, so every epoch sees fresh noise. The gradient is the
 * objective's per path (divided by the minibatch size). Results depend only
 * on the seed, not on the number of threads. */
typedef struct th_student_train_opts {
    size_t epochs;           /* 1 */
    size_t batch;            /* paths per update: 20 */
    double learning_rate;    /* 0.1 */
    double beta1, beta2;     /* 0.9, 0.999 */
    double epsilon;          /* 1e-8 */
    int cosine;              /* 1: the rate follows a half cosine from learning_rate
                                to 0 over all updates; 0: constant */
    /* Called after each update with its loss per path; a nonzero return
     * stops training with TH_ECANCELED. */
    int (*on_update)(size_t update, size_t total, double loss, void *ctx);
    void *ctx;
} th_student_train_opts;

th_student_train_opts th_student_train_opts_default(void);

/* Trains m (a student model of p's architecture) on images (count,
 * n_input) with targets (count, n_free). epoch_loss (epochs) or NULL
 * receives each epoch's mean loss per path. A non-finite loss or parameter
 * stops with TH_EDIVERGED naming the update. */
int th_student_train(th_model *m, const th_student_params *p, const float *images,
                     const float *targets, size_t count, const th_student_train_opts *o,
                     double *epoch_loss);

/* Exact training (student_solve.c): the objective above is a convex
 * quadratic in the couplings and biases, so its minimiser over a set of
 * paths follows from sufficient statistics (two (n+1)^2 matrices in double,
 * n = n_input + n_free) by one streaming pass and a conjugate-gradient solve
 * of the normal equations. Path q noises image q mod count with path id q,
 * so n_paths = epochs * count holds the paths that th_student_train's
 * epochs visit. progress(done, total) counts paths. */
typedef struct th_student_stats th_student_stats;
int th_student_stats_accumulate(const th_student_params *p, const float *images,
                                const float *targets, size_t count, size_t n_paths,
                                size_t batch, th_progress_fn progress,
                                void *progress_ctx, th_student_stats **out);
void th_student_stats_free(th_student_stats *s);
size_t th_student_stats_paths(const th_student_stats *s);
/* The objective of m over the accumulated paths, from the statistics alone
 * (th_student_path_loss summed over the same paths, up to rounding). */
int th_student_stats_loss(const th_student_stats *s, const th_model *m, double *loss);
/* Sets m's couplings and biases to the minimiser of loss + ridge |J|^2 / 2,
 * the ridge over every trained coupling (inputs' included: constant border
 * pixels make the unpenalised problem singular). CG starts from m. Here the
 * loss is summed over the paths and opts->ridge weighs against that sum;
 * th_student_fit takes a ridge per path and passes ridge x paths. */
int th_student_stats_solve(const th_student_stats *s, th_model *m, const th_solve_opts *opts,
                           th_solve_result *result);

/* Classification: every image runs `trajectories` independent trajectories
 * of th_student_steps(p) steps from 0 (free units) with its input units
 * clamped; trajectory j of image q uses stream TH_STUDENT_EVAL_STREAM +
 * (first + q) * trajectories + j of p->seed. The clamped inputs enter the
 * free units' force as the constant field s . J_in, so the simulation runs
 * th_langevin_run on the free units alone with that field as a drive of
 * constant amplitude: the same dynamics and heat as the full model with its
 * inputs clamped, at a tenth of the cost. */
#define TH_STUDENT_EVAL_STREAM ((uint64_t)1 << 35)
typedef struct th_student_eval_opts {
    size_t trajectories;  /* per image: 10 */
    size_t batch_rows;    /* trajectories simulated at once: 2048 */
    uint64_t first;       /* index of the first image (its streams): 0 */
    th_kernel kernel;     /* passed to th_langevin_run */
    th_progress_fn progress; /* images done */
    void *progress_ctx;
    /* Hardware (thermo/hw.h, th_hw_student_make): the device's bath of the
     * free units (hidden then output; NULL: ideal), and the readout of each
     * trajectory's output units before the average (an ADC; NULL: exact). */
    const th_device_bath *bath;
    void (*readout)(float *outputs, size_t n_output, const void *ctx);
    const void *readout_ctx;
} th_student_eval_opts;

th_student_eval_opts th_student_eval_opts_default(void);

/* images (count, n_input). mean_out (count, n_output): output units at t_f
 * averaged over the trajectories; first_out (count, n_output) or NULL: those
 * of trajectory 0 alone; heat (count) or NULL: heat per trajectory given to
 * the bath, in kT, averaged over the image's trajectories. */
int th_student_classify(const th_model *m, const th_student_params *p, const float *images,
                        size_t count, const th_student_eval_opts *o, float *mean_out,
                        float *first_out, double *heat);

/* The energy ledger (section energy): the arithmetic one classification
 * (trajectories runs of one image) costs
 * th_student_classify with the fast kernel: coupling_pairs the ordered
 * coupled pairs among the free units; coupling_macs = trajectories x pairs
 * x (steps + 1) + n_input x n_free for the input field, computed once per
 * image; onsite_macs and normals over the free units' steps of every
 * trajectory (one phase: no noise phase before it). */
int th_energy_student_ops(const th_model *m, const th_student_params *p, size_t trajectories,
                          th_energy_sim_ops *out);

/* Settings as model-file metadata ("student.kT", ...; doubles with 17
 * digits) and back; from_meta fails with TH_EFORMAT naming the key. */
int th_student_params_to_meta(const th_student_params *p, th_meta *meta);
int th_student_params_from_meta(const th_meta *meta, th_student_params *p);

/* A trained student with what classifying needs besides its model: the
 * teacher's PNAS input norm (the student's inputs are prepared as the
 * teacher's were) and the teacher's layer widths (the digital forward pass
 * its heat is compared with). */
typedef struct th_student {
    th_model *model;
    th_student_params params;
    double input_norm;                     /* > 0 */
    size_t widths[TH_MLP_MAX_LAYERS + 1];  /* the teacher's, inputs to outputs */
    size_t n_widths;                       /* 2 .. TH_MLP_MAX_LAYERS + 1 */
} th_student;

/* The file-kind marker: metadata "thermo.kind" of a student's file. */
#define TH_STUDENT_KIND "student"

/* A student as a model file (th_model_save): metadata "thermo.kind" =
 * "student", the settings (th_student_params_to_meta), "student.input_norm"
 * (%.17g), "student.teacher_widths" ("784,32,32,10"), "student.gain_used"
 * and descriptions of the targets, then the caller's extra entries (what
 * trained it) where they do not collide with those. Atomic. */
int th_student_save(const char *path, const th_student *s, const th_meta *extra);
/* Loads and checks a student file: its kind (a file without "thermo.kind",
 * written before the marker existed, passes when it holds student.*
 * settings), settings, model and teacher metadata, each failure TH_EFORMAT
 * naming the file, the field and the expectation. *s is filled (free with
 * th_student_clear); meta_out, when not NULL, receives all metadata (on
 * failure it is left as it was). */
int th_student_load(const char *path, th_student *s, th_meta *meta_out);
void th_student_clear(th_student *s);
/* Whether model-file metadata is a student's: "thermo.kind" = "student",
 * or no "thermo.kind" and the older marker "student.n_input". */
int th_student_meta_is(const th_meta *meta);

/* Split "train" or "t10k" of the IDX folder dir, cut to its first limit
 * images (SIZE_MAX: all); TH_EFORMAT when it has no labels. */
int th_student_dataset(const char *dir, const char *split, size_t limit, th_dataset **out);
/* The student's inputs X (n, n_input) of images first .. first + n - 1 of
 * d: the teacher's TH_INPUT_PNAS preprocessing with s->input_norm. */
int th_student_prepare(const th_student *s, const th_dataset *d, size_t first, size_t n,
                       float *X);
/* Both: *d (th_student_dataset) and its inputs *X (malloc'd, (count,
 * n_input)); on failure both are NULL. */
int th_student_images(const th_student *s, const char *dir, const char *split, size_t limit,
                      th_dataset **d, float **X);

/* Training a student from its teacher end to end (student_fit.c): the
 * teacher's prepared images and targets, then the exact solve or Adam. */
typedef enum th_student_solver { TH_STUDENT_EXACT = 0, TH_STUDENT_ADAM = 1 } th_student_solver;

typedef struct th_student_fit_opts {
    th_student_solver solver;   /* TH_STUDENT_EXACT */
    /* Exact: the ridge per path, lambda in loss / P + lambda |J|^2 / 2 over
     * the P = epochs * count paths, the same meaning as the generator's
     * --ridge; the solve uses lambda P on the summed objective. 1000 / 60000:
     * 1000 in all for MNIST's 60000 training images at one path each, the
     * value the exact solve was tuned with. */
    double ridge;
    size_t stats_batch;         /* exact: paths per accumulation batch: 128 */
    /* Epochs (exact: paths per image), Adam's batch, rate and callback. */
    th_student_train_opts train;
    /* Exact: paths accumulated (done of total), then CG iterations; a
     * nonzero return stops with TH_ECANCELED. */
    th_progress_fn on_paths;
    int (*on_iteration)(size_t iteration, double residual, void *ctx);
    void *ctx;                  /* passed to both */
    th_solve_opts solve;        /* exact: tolerance, iterations (ridge is set from above) */
} th_student_fit_opts;

th_student_fit_opts th_student_fit_opts_default(void);

typedef struct th_student_fit_report {
    size_t images;              /* training images */
    size_t paths;               /* exact: paths accumulated */
    th_solve_result solve;      /* exact: the CG solve */
    double objective_zero;      /* exact: objective per path at zero parameters */
    double objective;           /* per path at the end (Adam: the last epoch's mean) */
    double accumulate_seconds;  /* exact: wall time of the statistics' pass */
    double solve_seconds;       /* exact: wall time of the CG solve */
} th_student_fit_report;

/* The settings p with n_input and n_output taken from the teacher; TH_EINVAL
 * when the teacher does not take TH_INPUT_PNAS inputs or the settings are bad. */
int th_student_params_for_teacher(const th_mlp *teacher, th_student_params *p);

/* Trains a student of settings p (th_student_params_for_teacher) on the
 * images of d (labels unused) as o says, into out (free with
 * th_student_clear); epoch_loss (o->train.epochs) or NULL receives each
 * epoch's objective per path (exact: the minimiser's, every epoch). */
int th_student_fit(const th_mlp *teacher, const th_dataset *d, const th_student_params *p,
                   const th_student_fit_opts *o, th_student *out, th_student_fit_report *report,
                   double *epoch_loss);

/* How th_student_fit trained, as metadata for th_student_save:
 * "student.train" (images, paths or epochs, solver, ridge or Adam's
 * settings) and "student.final_objective" (%.17g). */
int th_student_fit_meta(const th_student_fit_opts *o, const th_student_fit_report *r,
                        th_meta *meta);

/* A student's test in numbers (student_report.c): th_student_classify of
 * images X (count, n_input) of d with settings p (the student's, its seed
 * possibly replaced) and o, then accuracy against d's labels, the heat, and
 * the teacher's digital forward pass for comparison. */
typedef struct th_student_report {
    size_t images, trajectories;
    double top1, top2;                 /* outputs averaged over the trajectories */
    double single_top1, single_top2;   /* trajectory 0 alone */
    th_heat_stats heat;                /* per trajectory, kT */
    double heat_class_kT;              /* per classification: all its trajectories */
    double kT_J, heat_class_J;         /* at the bath temperature */
    uint64_t teacher_macs;             /* one forward pass of the teacher */
    double digital_J;                  /* teacher_macs x mac_energy */
    int ratio_defined;                 /* the mean heat is positive */
    double ratio;                      /* digital_J / heat_class_J when defined */
} th_student_report;

int th_student_evaluate(const th_student *s, const th_student_params *p, const th_dataset *d,
                        const float *X, const th_student_eval_opts *o, double temperature_K,
                        double mac_energy_J, th_student_report *r);

/* end of section classify */

/* ================= thermodynamic neurons and the genetic algorithm (neuron) */

/* Nonlinear thermodynamic computing out of equilibrium (Whitelam & Casert,
 * Nat. Commun. 2026; science.md section 4). A thermodynamic neuron is one
 * unit in the well
 *
 *     U(x) = J2 x^2 + J3 x^3 + J4 x^4 - I x
 *
 * under the overdamped Langevin dynamics of science.md section 1; its mean
 * <x> is a nonlinear function of its input I (linear near I = 0, growing like
 * (I / 4 J4)^(1/3) for large |I|). A network stacks n_layers layers of width
 * neurons with couplings between adjacent layers only:
 *
 *     V(x) = sum_i U0(x_i) - sum_i b_i x_i - z sum_{i in layer 0} W_i x_i
 *            - sum_l sum_{i in l, j in l+1} w^(l)_ij x_i x_j,
 *
 * U0 the well without its input, so that neuron i feels the input
 * I_i = b_i + [layer 0] W_i z + sum of w times its neighbours' states (the
 * couplings enter with a minus sign: w = -J in science.md's notation). Every
 * run starts from x = 0; the output at time t is the linear readout
 * y(z, t) = sum_{i in last layer} f_i <x_i(t)>, the average over R
 * independent runs (replicas). Trained by a genetic algorithm to compute
 * cos(2 pi z) for z in [0, 1] at a chosen observation time t_f. */

/* The physics and the task (numbers: the defaults). */
typedef struct th_neuron_params {
    size_t n_layers;  /* 4 */
    size_t width;     /* 8 neurons a layer */
    double kT;        /* 0.1: thermal spread of a free neuron sqrt(kT / 2 J2) = 0.22 */
    double mu;        /* 1: time in units of 1/mu */
    double J2;        /* 1: relaxation time of a free neuron 1 / (2 mu J2) = 0.5 */
    double J3;        /* 0.5: an asymmetric single well (9 J3^2 < 32 J2 J4), so that
                         a neuron's response is not an odd function of its input */
    double J4;        /* 1 */
    double dt;        /* 0.01: 50 steps per relaxation time of a free neuron */
    double t_f;       /* 1: the observation time the network is trained for */
    size_t n_z;       /* 16 inputs z_j = j / (n_z - 1), j = 0 .. n_z - 1, on [0, 1] */
    size_t replicas;  /* 32 runs averaged for each input */
    double blowup;    /* 1e3: |x| beyond this means a diverging run */
} th_neuron_params;

th_neuron_params th_neuron_params_default(void);

/* Checks every field (sizes at least 1 and within the stream layout's limits,
 * positive finite kT, mu, dt, t_f, finite J's with J4 > 0, t_f at least one
 * step); TH_EINVAL naming the first bad one. */
int th_neuron_params_validate(const th_neuron_params *p);

/* Steps of a run to time t: round(t / dt). */
size_t th_neuron_steps(const th_neuron_params *p, double t);

/* The trainable parameters, stored contiguously in theta (n_params) in the
 * order W, b, w, f; the other pointers look into it. */
typedef struct th_neuron_net {
    size_t n_layers, width;
    size_t n_params;  /* width + n_layers width + (n_layers - 1) width^2 + width */
    double *theta;    /* (n_params) */
    double *W;        /* (width) input field on layer 0 */
    double *b;        /* (n_layers, width) biases */
    double *w;        /* (n_layers - 1, width, width) w[l][i][j] couples unit i of
                         layer l to unit j of layer l + 1 */
    double *f;        /* (width) readout weights on the last layer */
} th_neuron_net;

/* All parameters 0. NULL on failure (th_last_error). */
th_neuron_net *th_neuron_net_alloc(size_t n_layers, size_t width);
void th_neuron_net_free(th_neuron_net *net);

/* The number of inputs that feed the quantity parameter k acts on: the width
 * of the layer below for a coupling and for a readout weight, 1 for an input
 * field or a bias. Mutations of parameter k are scaled by
 * 1 / sqrt(fan_in(k)). */
size_t th_neuron_fan_in(const th_neuron_net *net, size_t k);

/* The task: z_j = j / (n_z - 1) (z = 0 when n_z = 1) and cos(2 pi z). */
double th_neuron_input(const th_neuron_params *p, size_t j);
double th_neuron_target(double z);

/* Runs replicas trajectories from x = 0 for each input z_j (n_z inputs) and
 * returns the means over replicas of the last layer's states after
 * snap_steps[s] steps (ascending; 0 = the start): means (n_snaps, n_z,
 * width). The run is th_langevin_run's, in double precision with float32
 * normals (TH_NOISE_F32, the same noise as before the move), on the
 * network written as a th_model: N = n_layers width units with on-site
 * J2, J3, J4, biases -b, couplings -w between adjacent layers, and the input
 * W z on layer 0 as a per-trajectory drive -W z of amplitude 1 (science.md
 * sections 1 and 4). Trajectory (j, r) is batch row j * replicas + r and
 * draws its noise from stream stream_base + j * replicas + r of seed, so
 * results do not depend on the threads. kernel picks the core's kernel
 * (TH_KERNEL_REFERENCE: its plain twin, for tests). TH_EDIVERGED, naming
 * the input, replica, step and neuron, when |x| exceeds p->blowup. */
int th_neuron_run(const th_neuron_params *p, const th_neuron_net *net, const double *z,
                  size_t n_z, size_t replicas, uint64_t seed, uint64_t stream_base,
                  const size_t *snap_steps, size_t n_snaps, th_kernel kernel, double *means);

/* y = sum_i f_i means_i for each of count rows of means (count, width);
 * y: (count). */
void th_neuron_readout(const th_neuron_net *net, const double *means, size_t count, double *y);

/* The loss at the observation time t_f: the mean over the n_z inputs of
 * (y(z_j, t_f) - cos(2 pi z_j))^2, y averaged over p->replicas runs with
 * noise streams from stream_base; y_out (n_z) receives y, or NULL. With a
 * finite number of replicas the loss includes the sampling variance of the
 * average, f^T C f / R (C the covariance of the last layer's states). */
int th_neuron_loss(const th_neuron_params *p, const th_neuron_net *net, uint64_t seed,
                   uint64_t stream_base, double *loss, double *y_out);

/* The same loss at each of n_times observation times times[k] > 0
 * (ascending), from one run of replicas trajectories per input up to the
 * largest time, noise streams from 0: loss (n_times). With the same seed and
 * replicas, its value at t_f is th_neuron_loss's with stream_base 0. */
int th_neuron_loss_curve(const th_neuron_params *p, const th_neuron_net *net, size_t replicas,
                         uint64_t seed, const double *times, size_t n_times, double *loss);

/* The genetic algorithm. Generation 0 draws every parameter of each of the
 * population individuals from N(0, init_sd^2) (init_sd = 0.1: variance
 * 1e-2). Each generation evaluates every individual's loss (th_neuron_loss,
 * a fresh noise stream per generation and individual, individuals spread
 * over OpenMP threads), ranks them (ties by index), keeps the elite best
 * unchanged, and replaces the others by children of an elite parent chosen
 * uniformly, each parameter k mutated by N(0, (mutation_sd^2 / fan_in(k))).
 * Elites are evaluated again, with new noise, in the next generation, so a
 * lucky draw does not keep an individual alive. An individual whose run
 * diverges gets an infinite loss. All randomness comes from Philox streams
 * keyed by (seed, generation, individual): the result is the same for any
 * number of threads. */
typedef struct th_ga_opts {
    size_t population;    /* 64 */
    size_t elite;         /* 8 */
    size_t generations;   /* 150 */
    double init_sd;       /* 0.1: variance 1e-2, the paper's N(0, 1e-2) */
    double mutation_sd;   /* 0.6: large enough to grow couplings of order 1 from
                             the small start within a few hundred generations */
    uint64_t seed;        /* 1 */
    /* Called after each generation with the best and the median loss of
     * that generation; a nonzero return stops with TH_ECANCELED. */
    int (*on_generation)(size_t generation, double best, double median, void *ctx);
    void *ctx;
} th_ga_opts;

th_ga_opts th_ga_opts_default(void);
int th_ga_opts_validate(const th_ga_opts *o);

/* What a run of the genetic algorithm left: per generation (generations),
 * the best and median loss and the number of diverged individuals. */
typedef struct th_ga_history {
    double *best;
    double *median;
    size_t *diverged;
} th_ga_history;

/* The three arrays for generations generations (TH_ENOMEM), and back. */
int th_ga_history_alloc(th_ga_history *h, size_t generations);
void th_ga_history_free(th_ga_history *h);

/* Runs the algorithm and writes the best individual of the last generation
 * into net (allocated by the caller for p's layers and width). history may
 * be NULL; its arrays, when given, hold opts->generations values. */
int th_ga_train(const th_neuron_params *p, const th_ga_opts *opts, th_neuron_net *net,
                th_ga_history *history);

/* A trained network as a safetensors file: tensors W (width), b (n_layers,
 * width), w (n_layers - 1, width, width), f (width), float64, and metadata
 * "neuron.*" with every field of p (numbers that round-trip exactly), the
 * file kind "thermo.kind" = "neuron" (loading also takes the older
 * "neuron-network"), plus any extra entries (GA settings). Loading checks shapes, finiteness and the
 * settings (th_neuron_params_validate) and names the file and the field at
 * fault; *net_out is allocated; extra_out may be NULL. */
int th_neuron_save(const char *path, const th_neuron_net *net, const th_neuron_params *p,
                   const th_meta *extra);
int th_neuron_load(const char *path, th_neuron_net **net_out, th_neuron_params *p,
                   th_meta *extra_out);

/* The evaluation of a trained network (neuron_eval.c): the loss against
 * the observation time at t = k t_f / 20 for k = 2 .. 60 (0.1 t_f to 3 t_f
 * in steps of 0.05 t_f; 0.5, 1 and 2 t_f are points of it) and the output
 * y(z) at t_f against cos(2 pi z), from replicas runs per input with the
 * noise of seed + TH_NEURON_EVAL_SEED_OFFSET, so that it never reuses the
 * training's noise. y is the curve's own y at t_f (same streams). */
#define TH_NEURON_EVAL_SEED_OFFSET 0x5eedULL
#define TH_NEURON_CURVE_POINTS 59
typedef struct th_neuron_eval {
    uint64_t seed;                          /* the noise's: seed + offset */
    size_t replicas;
    double times[TH_NEURON_CURVE_POINTS];   /* ascending */
    double loss[TH_NEURON_CURVE_POINTS];
    size_t best;                            /* the lowest loss (first on ties) */
    double loss_half, loss_tf, loss_double; /* at 0.5 t_f, t_f and 2 t_f */
    double t_f;                             /* the trained observation time */
    size_t n_z;
    double *z, *y, *target;                 /* (n_z) each, one allocation */
} th_neuron_eval;

/* TH_EINVAL (from th_neuron_params_validate) for replicas p does not take. */
int th_neuron_evaluate(const th_neuron_params *p, const th_neuron_net *net, size_t replicas,
                       uint64_t seed, th_neuron_eval *out);
void th_neuron_eval_free(th_neuron_eval *e);
/* Writes, atomically, into the folder dir: loss_vs_time.csv (t, t_over_tf,
 * loss) and loss_vs_time.png (the curve, t_f dashed), fit.csv (z, y,
 * cos_2pi_z) and, for n_z >= 2, fit.png (y in blue, the target in red);
 * 640 x 400 charts. TH_EIO naming the file that could not be written. */
int th_neuron_eval_write(const char *dir, const th_neuron_eval *e);
/* ga.csv-style text: generation, best_loss, median_loss per generation. */
int th_ga_history_write_csv(const char *path, const th_ga_history *h, size_t generations);

/* The genetic algorithm's settings and result as metadata for
 * th_neuron_save: "ga.population", "ga.elite", "ga.generations", "ga.seed"
 * (whole numbers), "ga.init_sd", "ga.mutation_sd" (%.17g) and
 * "ga.final_best_loss" (%.9g, the last generation's best). */
int th_ga_to_meta(const th_ga_opts *o, const th_ga_history *h, th_meta *meta);

/* A line chart of n_curves curves ys (n_curves, n_points) against x
 * (n_points, ascending), without text: white background, black axes with
 * 5 ticks each, a dark grey line at y = 0 when it lies in range, the curves
 * in steel blue, red, green, orange, purple (in that order); marks
 * (n_marks, may be NULL) as dashed grey vertical lines. Ranges: x from the
 * first to the last point, y from the smallest to the largest finite value,
 * widened by 5%. NULL on failure (too small a canvas, no finite value). */
th_canvas *th_picture_curves(const double *x, const double *ys, size_t n_curves,
                             size_t n_points, const double *marks, size_t n_marks,
                             size_t width, size_t height);

/* end of section neuron */

#ifdef __cplusplus
}
#endif
#endif /* THERMO_CLASSIFY_H */
