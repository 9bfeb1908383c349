/* thermo/gen.h - generative computers (Whitelam, PRL 2026): noising paths, the reverse-path objective, gradient descent and the exact solver, sampling.
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_GEN_H
#define THERMO_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "thermo/core.h"
#include "thermo/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================ generative computers (gen) */

/* Whitelam's generative thermodynamic computer (PRL 136, 037101, 2026;
 * science.md section 2): visible units (the pixels) and hidden units, with
 * visible-hidden and hidden-hidden couplings and trainable hidden biases,
 * trained so that its own time-independent Langevin dynamics runs the time
 * reverse of a noising process, then used to turn thermal noise into images. */

/* How the noising process drives the hidden units (science.md section 2). */
typedef enum th_hidden_drive {
    TH_HIDDEN_COPY = 0,       /* hidden unit a is driven by pixel (a mod n_visible): default */
    TH_HIDDEN_PROJECTION = 1  /* by (P^T s)_a with a fixed P_ia ~ N(0, 1/n_visible) */
} th_hidden_drive;

typedef struct th_gen_params {
    size_t n_visible;        /* 784 */
    size_t n_hidden;         /* 512 */
    double kT;               /* 0.1 */
    double J2, J4;           /* 1, 1 (on-site, every unit) */
    double mu;               /* 1 */
    double dt;               /* 1e-3 */
    double t_f;              /* 2.5: length of the preparation, the noising path and generation */
    double drive;            /* 2: the image force is drive * s during preparation, a(0) s after */
    double ramp_fraction;    /* 0.75: a(t) falls linearly to 0 at ramp_fraction * t_f */
    th_hidden_drive hidden_drive;
    uint64_t seed;           /* noise of every path and sample, and the projection P */
    size_t block_steps;      /* steps of a path held in memory at once: 250 */
    /* 0: unconditional (the paper). C > 0: class-conditional. A third group
     * of C label units, clamped at the one-hot code of the class, is coupled
     * to the hidden units, so that label-hidden coupling J_{c,a} is a learned
     * bias on hidden unit a for class c; the objective stays a convex
     * quadratic, and the hidden units' own biases are not trained (they would
     * duplicate the label couplings). */
    size_t n_classes;
    /* Conditional generators: 1 also couples the label units to the visible
     * units (a learned per-class bias on every pixel, beyond the paper's
     * hidden-only biases); 0: hidden only. */
    size_t label_visible;
    /* 1: the visible units' biases are trained too (the paper keeps them at
     * 0). With every visible bias 0 the potential is even in the visible
     * units up to the hidden biases, V(-x) = V(x), so a sample and its
     * contrast-inverted copy are nearly equally likely; pixel biases break
     * that symmetry. Not with label_visible, whose per-class pixel biases
     * already include them. 0 (the paper). */
    size_t visible_bias;
    /* Time-dependent protocols: the couplings and trained biases are
     * piecewise constant over `segments` segments of the generation time
     * (1 to 64, at most th_gen_steps). Segment s (0-based, in generation
     * order) covers generation steps [floor(s K / S), floor((s+1) K / S)) of
     * the K = th_gen_steps(p) steps; noising transition k (x_k -> x_{k+1})
     * is the time reverse of generation step K-1-k, so it trains that
     * step's segment. 1: the paper's time-independent computer (default). */
    size_t segments;
    /* 1: the hidden units sit in double wells, on-site -J2 x^2 + J4 x^4
     * (minima at +-sqrt(J2 / (2 J4)), a barrier of J2^2 / (4 J4)): each
     * hidden unit then holds one of two states, a binary latent code that
     * the noise phase draws at random. 0: every unit in the even single
     * well J2 x^2 + J4 x^4 (the paper). */
    size_t hidden_double_well;
    /* Style codes (README "Style codes"): 0 or 1, one label unit a class;
     * K >= 2, each class has K label units, one per style (a balanced
     * k-means cluster of its training images, th_gen_training_set_styles),
     * so n_classes = classes x K, and the label code of class c in style s
     * is c K + s. A sample asked for class c takes a uniformly drawn style
     * (th_gen_style_code). Written to the model file only when set. */
    size_t styles;
} th_gen_params;

/* Label units a generator may have (n_classes): at most 1000. */
#define TH_GEN_MAX_LABELS 1000
/* The Philox stream of the style draws: sample k's style is word 0 of block
 * k of this stream (th_gen_style_code); k-means seeding of class c uses
 * stream TH_GEN_STYLE_STREAM + c. Above the sample streams (below 2^34). */
#define TH_GEN_STYLE_STREAM ((uint64_t)1 << 40)

/* The classes a sample can be asked for: n_classes, or n_classes / styles
 * with style codes. */
size_t th_gen_classes(const th_gen_params *p);
/* The label code that sample index `sample` (its global index: first + k)
 * asked for class cls clamps: cls without style codes; with K styles,
 * cls K + s, s = floor(w K / 2^32) for the Philox word w of (p->seed,
 * TH_GEN_STYLE_STREAM, block sample): the same for any batch, thread or
 * rank. */
int th_gen_style_code(const th_gen_params *p, int cls, uint64_t sample);

/* The prl2026 preset above. */
th_gen_params th_gen_params_default(void);

/* Checks every field; TH_EINVAL naming the first bad one. */
int th_gen_params_validate(const th_gen_params *p);

/* Units of the model: n_visible + n_hidden + n_classes. The first
 * n_visible + n_hidden move; the label units are clamped. */
size_t th_gen_units(const th_gen_params *p);

/* A model of the generator's architecture: group 0 "visible" (n_visible
 * units), group 1 "hidden", and with n_classes > 0 group 2 "label" coupled
 * to the hidden group only; couplings visible-hidden and hidden-hidden;
 * on-site J2, J4, kT, mu from p; all couplings and biases 0 (the paper's
 * starting point). Also serves as the gradient's container. */
th_model *th_gen_model_alloc(const th_gen_params *p, th_dtype dtype);

/* The number of steps of each phase: round(t_f / dt). */
size_t th_gen_steps(const th_gen_params *p);

/* ------------------------------------------- time-dependent protocols */

/* The most segments a protocol may have. */
#define TH_GEN_MAX_SEGMENTS 64

/* The first generation step of segment s (0 <= s <= p->segments; s =
 * segments gives th_gen_steps(p)): floor(s K / S). */
size_t th_gen_segment_begin(const th_gen_params *p, size_t s);
/* The segment that generation step g (0 <= g < K) belongs to. Noising
 * transition k trains segment th_gen_segment_of_step(p, K - 1 - k). */
size_t th_gen_segment_of_step(const th_gen_params *p, size_t g);

/* A time-dependent protocol: S models of one generator architecture that
 * share the on-site terms (J2, J3, J4, kT, mu) and differ in their couplings
 * and biases; segment s's model acts during segment s of the generation
 * time. A protocol of one segment is the paper's computer, and every
 * th_model-based call of this header is the one-segment case of its
 * th_gen_protocol_* twin. Opaque: reach the models through
 * th_gen_protocol_segment. */
typedef struct th_gen_protocol th_gen_protocol;

/* p->segments models as th_gen_model_alloc makes them (all couplings and
 * biases 0). NULL on failure (th_last_error says why). */
th_gen_protocol *th_gen_protocol_alloc(const th_gen_params *p, th_dtype dtype);
/* S copies of the models given (S >= 1; all of one architecture and
 * dtype, with segment 0's on-site terms). NULL on failure. */
th_gen_protocol *th_gen_protocol_from_models(const th_model *const *models, size_t S);
void th_gen_protocol_free(th_gen_protocol *pr);
size_t th_gen_protocol_segments(const th_gen_protocol *pr);
/* Segment s's model (s < segments), owned by the protocol. Changing its
 * couplings and biases changes the protocol; its on-site terms must stay
 * those of segment 0. */
th_model *th_gen_protocol_segment(const th_gen_protocol *pr, size_t s);

/* A protocol as a model file: segment 0 is the model (th_model_save, under
 * the usual tensor names), segment s >= 1 adds tensors "J.seg<s>" (n, n)
 * and "b.seg<s>" (n). meta must hold the generator's settings
 * (th_gen_params_to_meta: "gen.segments" is there when S > 1) and say
 * as many segments as pr has. Atomic. A one-segment protocol writes the
 * same bytes as th_model_save of its model. */
int th_gen_protocol_save(const char *path, const th_gen_protocol *pr, const th_meta *meta);
/* Reads a generator's model file: the settings into *p
 * (th_gen_params_from_meta), the protocol of p->segments segments into
 * *out, the metadata into meta (NULL: dropped). TH_EFORMAT naming the file
 * and the tensor for a missing or misshapen segment tensor, or settings
 * that do not describe the model. */
int th_gen_protocol_load(const char *path, th_gen_protocol **out, th_gen_params *p,
                         th_meta *meta);

/* The drive field of the noising process for images s (B, n_visible) given
 * standardised (zero mean, unit variance): out (B, n) is -s on the visible
 * units and the hidden drive on the hidden ones, so that the potential term
 * a(t) out . x gives the force +a(t) s. The model's dtype. */
int th_gen_drive_field(const th_gen_params *p, const float *images, size_t B, th_ptr out,
                       th_dtype dtype);

/* The amplitude a(t) of the noising path: drive (1 - t / (ramp_fraction t_f))
 * before ramp_fraction t_f, 0 after. */
double th_gen_ramp(const th_gen_params *p, double t);

/* The reverse-path objective (science.md section 2) summed over the B noising
 * paths of images (B, n_visible), of classes (B) (NULL for an unconditional
 * model; each in 0..n_classes-1 for a conditional one, whose label units sit
 * at the class's one-hot code along the whole path): each path is prepared (x = 0, evolved for
 * t_f under the constant force drive * s with no couplings) and noised (t_f
 * under the force a(t) s, no couplings), with noise from stream
 * TH_GEN_PATH_STREAM + path_ids[k]; then
 *
 *     loss = sum_k sum_i (-Dx_{k,i} + mu dt dV/dx_i(x_{k+1}))^2 / (4 mu kT dt)
 *
 * over the steps k of each path and all units i, with V the model's potential
 * (the force at the step's end point). With grad non-NULL (a model of the
 * same architecture and dtype) it also adds the gradient: grad->b_i +=
 * sum_k r_{k,i} on hidden units (visible biases are not trained), grad->J_ij
 * = grad->J_ji += sum_k (r_{k,i} x_{k+1,j} + r_{k,j} x_{k+1,i}) on coupled
 * pairs, with r = (-Dx + mu dt dV/dx(x_{k+1})) / (2 kT). The path does not
 * depend on the model, so the same path_ids give the same paths.
 * TH_KERNEL_FAST evaluates blocks of block_steps steps with matrix products;
 * TH_KERNEL_REFERENCE is the plain per-step twin. */
#define TH_GEN_PATH_STREAM ((uint64_t)1 << 32)
int th_gen_path_loss(const th_model *m, const th_gen_params *p, const float *images,
                     const int *classes, const uint64_t *path_ids, size_t B, th_kernel kernel,
                     double *loss, th_model *grad);
/* The same for a protocol of p->segments segments: each transition's
 * residual is taken with the model of the segment it trains (noising step k:
 * that of generation step K-1-k) and its gradient goes to that segment of
 * grad (a protocol of the same shape, or NULL). */
int th_gen_protocol_path_loss(const th_gen_protocol *pr, const th_gen_params *p,
                              const float *images, const int *classes,
                              const uint64_t *path_ids, size_t B, th_kernel kernel,
                              double *loss, const th_gen_protocol *grad);

/* Training by gradient descent, the published recipe: update u uses the
 * batch paths with ids u*batch .. u*batch+batch-1, path id q noising image
 * q mod count (of class classes[q mod count] for a conditional model);
 * theta <- theta - learning_rate * gradient, the gradient summed over the
 * steps of a path and averaged over the batch's paths (batch 1 is the
 * paper's recipe). Each update depends only on the model and u, so a
 * run resumed from a checkpoint at update u is bit-identical to one that was
 * never interrupted. */
typedef struct th_gen_train_opts {
    size_t updates;          /* 100 */
    double learning_rate;    /* 4e-4 */
    size_t batch;            /* noising paths per update: 1 */
    /* Called after each update with its loss; a nonzero return stops
     * training with TH_ECANCELED after that update. */
    int (*on_update)(size_t update, double loss, const th_model *m, void *ctx);
    void *ctx;
    /* Called after each update, before on_update, with the updates done
     * (update + 1) of opts->updates; nonzero stops as on_update does. */
    th_progress_fn progress;
    void *progress_ctx;
    /* Hardware-aware training (thermo/hw.h, th_hw_train_device): when set,
     * update u takes its loss and gradient at the model device() makes of
     * the trained parameters m into out (same architecture), and applies the
     * gradient to m itself: the straight-through estimate. A nonzero return
     * stops training with that status. NULL: at m. */
    int (*device)(const th_model *m, size_t update, th_model *out, void *ctx);
    void *device_ctx;
} th_gen_train_opts;

th_gen_train_opts th_gen_train_opts_default(void);

/* Runs updates first_update .. opts->updates - 1 on m, writing each update's
 * loss to loss[update] (loss: (opts->updates)). images: (count,
 * n_visible), standardised. A diverging update (non-finite loss or
 * parameters) stops with TH_EDIVERGED naming the update. */
int th_gen_train(th_model *m, const th_gen_params *p, const float *images,
                 const int *classes, size_t count, const th_gen_train_opts *opts,
                 size_t first_update, double *loss);
/* The same for a protocol (th_gen_protocol_path_loss): every segment
 * descends along its own gradient; opts->on_update sees segment 0, and
 * opts->device makes each segment's device model in turn. */
int th_gen_protocol_train(th_gen_protocol *pr, const th_gen_params *p, const float *images,
                          const int *classes, size_t count, const th_gen_train_opts *opts,
                          size_t first_update, double *loss);

/* Exact training. The objective is a convex quadratic in the parameters
 * theta = {J on coupled pairs, trained biases} (science.md section 1): with
 * a = mu dt, y = x_{k+1} extended by a constant 1, and c_i = -Dx_i + a (2 J2
 * y_i + 4 J4 y_i^3) on the moving units,
 *
 *     loss(theta) = [ q + 2 a <K, H> + a^2 <K, K G> ] / (4 mu kT dt),
 *
 * where K = [J | b] restricted to the moving units' rows, and the sufficient
 * statistics are G = sum y y^T, H = sum c y^T and q = sum |c|^2 over every
 * step of every path. One streaming pass accumulates them (memory: two
 * (n+1)^2 matrices in double, whatever the number of paths); the minimiser
 * then solves the normal equations a proj(K G) = -proj(H) on the coupling
 * pattern by conjugate gradients with a Jacobi preconditioner. */
typedef struct th_gen_stats th_gen_stats;

/* Accumulates the statistics of paths ids 0..n_paths-1 (path q noises image
 * q mod count, of class classes[q mod count] when conditional), batch paths
 * at a time, the block products in the precision dtype (the paths are the
 * same as th_gen_path_loss's in that precision). With stride s > 1 only the
 * steps k with k mod s = 0 enter: the objective is then estimated from a
 * s-fold subsample of each path's steps, which costs s times fewer products,
 * so more paths (less correlated rows) fit the same time. Under MPI each
 * process takes a share of the paths and the sums are combined.
 * progress(done, total) counts paths. */
int th_gen_stats_accumulate(const th_gen_params *p, th_dtype dtype, const float *images,
                            const int *classes, size_t count, size_t n_paths, size_t batch,
                            size_t stride, th_progress_fn progress,
                            void *progress_ctx, th_gen_stats **out);
void th_gen_stats_free(th_gen_stats *s);
/* Paths and steps (rows) the statistics hold. */
size_t th_gen_stats_paths(const th_gen_stats *s);
size_t th_gen_stats_rows(const th_gen_stats *s);

/* The objective of model m over the accumulated paths, from the statistics
 * alone (equal to th_gen_path_loss over the same paths up to rounding).
 * One segment only; see th_gen_stats_protocol_loss. */
int th_gen_stats_loss(const th_gen_stats *s, const th_model *m, double *loss);

/* Statistics of a protocol of p->segments segments (th_gen_params.segments)
 * hold G, H, q per segment, each from the transitions that train it (noising
 * step k goes to the segment of generation step K-1-k). */
size_t th_gen_stats_segments(const th_gen_stats *s);
size_t th_gen_stats_segment_rows(const th_gen_stats *s, size_t seg);
/* The objective of model m over segment seg's transitions, and the
 * protocol's objective over all (the sum over segments). */
int th_gen_stats_segment_loss(const th_gen_stats *s, size_t seg, const th_model *m,
                              double *loss);
int th_gen_stats_protocol_loss(const th_gen_stats *s, const th_gen_protocol *pr,
                               double *loss);

/* The exact solve's settings (th_gen_stats_solve, th_student_stats_solve). */
typedef struct th_solve_opts {
    /* lambda >= 0: minimise loss + lambda |J|^2 / 2 over the couplings
     * between moving units (and, where the caller says so, between moving
     * and clamped units); biases and the generator's label couplings (the
     * class biases) are not penalised, as biases usually are not: 0 */
    double ridge;
    double tolerance;        /* stop at |residual| <= tolerance |rhs|: 1e-6 */
    size_t max_iterations;   /* 3000 */
    /* Called every iteration with the relative residual; nonzero stops
     * with TH_ECANCELED. Not a th_progress_fn: an iterative solve has no
     * known total, and the residual is what tells how far it has come. */
    int (*progress)(size_t iteration, double residual, void *ctx);
    void *progress_ctx;
    /* >= 0: the ridge on the couplings between moving and clamped units
     * where the ridge above does not cover them: the generator's label
     * couplings, its class biases (per class and unit). A small one lets
     * the class pick the shape's family without pinning every pixel to the
     * class mean. th_gen_stats_fit and th_gen_stats_protocol_fit read it per
     * path and scale it with the paths, as they do the ridge: 0 */
    double clamped_ridge;
    /* >= 0: the ridge on the trained biases, read per path and scaled the
     * same way. A small one on trained pixel biases (visible_bias) breaks
     * the x -> -x symmetry without pinning the samples to the mean image: 0 */
    double bias_ridge;
} th_solve_opts;

th_solve_opts th_solve_opts_default(void);

typedef struct th_solve_result {
    size_t iterations;
    double residual;         /* relative residual reached */
    int converged;           /* residual <= tolerance */
} th_solve_result;

/* Sets m's couplings and trained biases to the minimiser (starting CG from
 * m's values). m: the generator's architecture for the statistics' settings. */
int th_gen_stats_solve(const th_gen_stats *s, th_model *m, const th_solve_opts *opts,
                       th_solve_result *result);

/* Sets the protocol's couplings and trained biases to the minimiser of
 *
 *     sum_s [ loss_s(theta_s) + w_s ridge |J_s|^2 / 2 ]
 *         + (penalty / 2) sum_s |theta_{s+1} - theta_s|^2,
 *
 * theta_s segment s's couplings (each pair once) and trained biases, w_s
 * segment s's share of the rows (the ridges add up to the one-segment
 * ridge, as the data terms add up to the one-segment objective). With
 * penalty 0 the segments are independent and solved one by one (iterations:
 * their sum, residual: the largest); with penalty > 0 by conjugate
 * gradients over the stacked system (memory: 6 S (n^2 + n) doubles). As
 * penalty grows, every segment tends to the one-segment solution. */
int th_gen_stats_protocol_solve(const th_gen_stats *s, th_gen_protocol *pr, double penalty,
                                const th_solve_opts *opts, th_solve_result *result);

/* Generation (science.md section 2): from x = 0 the uncoupled units
 * equilibrate for t_f (pure noise; or their equilibrium is drawn exactly,
 * opts->phase1), then the trained couplings and biases
 * are switched on and the computer runs for t_f; the visible units are the
 * sample. Sample k uses noise stream TH_GEN_SAMPLE_STREAM + first + k, so any
 * sample can be regenerated alone. heat[k] is the heat (in kT) given to the
 * bath during the second, computing phase. */
#define TH_GEN_SAMPLE_STREAM ((uint64_t)1 << 33)
/* How the noise phase (phase 1) reaches the uncoupled wells' equilibrium. */
typedef enum th_gen_phase1 {
    /* t_f of Euler-Maruyama from x = 0, the paper's recipe (the default):
     * it ends O(dt) away from the Boltzmann density (th_well_em_moments) */
    TH_GEN_PHASE1_EULER = 0,
    /* each unit drawn from its well's Boltzmann density exactly
     * (th_batch_draw_wells, from sample k's stream); the computing phase
     * then uses the same noise as after the Euler phase */
    TH_GEN_PHASE1_EXACT = 1
} th_gen_phase1;
typedef struct th_gen_sample_opts {
    size_t batch;              /* trajectories simulated at once: 256 */
    uint64_t first;            /* index of the first sample: 0 */
    int phase1;                /* th_gen_phase1: TH_GEN_PHASE1_EULER */
    /* Snapshots of the first snap_traj samples at snap_steps of the
     * computing phase (0 = the noise it starts from), into snap_out
     * (n_snaps, snap_traj, n_visible). */
    const size_t *snap_steps;
    size_t n_snaps;
    size_t snap_traj;
    float *snap_out;
    /* Conditional models: the class of sample first + k is classes[k]
     * (count entries), or, with classes NULL, (first + k) mod n_classes, an
     * even mixture of the classes: unconditional sampling. Ignored by
     * unconditional models. */
    const int *classes;
    th_progress_fn progress; /* samples done */
    void *progress_ctx;
    /* The computing phase's coupling products: TH_PRECISION_NATIVE (the
     * default) or TH_PRECISION_BF16, couplings and states rounded to
     * bfloat16, sums in float32 (th_run.precision). The noise phase has no
     * products and is the same either way. */
    int precision;
    /* The device's bath in both phases (thermo/hw.h: th_hw_gen_sample);
     * NULL: the ideal one. */
    const th_device_bath *bath;
    /* The readout, a physically realisable measurement: 0 (the default) takes
     * the visible units' state at the end; W >= 1 (at most th_gen_steps)
     * their average over the states after each of the last W steps of the
     * computing phase (an integrating detector), summed in double in step
     * order and rounded to float. W = 1 is the state at the end. */
    size_t readout_window;
    /* The energy ledger of the computing phase (science.md section 2),
     * each (count) in kT, or NULL when not wanted: work, the work done on
     * the computer by switching its couplings and biases, at switch-on
     * (uncoupled wells -> segment 0: V_0(x) - V_wells(x)) and at every
     * segment boundary (V_{s+1}(x) - V_s(x)); potential_change, V_end -
     * V_start (V_start the wells' energy where the phase starts, V_end the
     * last segment's where it ends). With heat Q the first law holds per
     * trajectory: potential_change = work - heat, to rounding (the
     * integrator's heat and work are Crooks' discrete ones, th_langevin_run). */
    double *work;
    double *potential_change;
} th_gen_sample_opts;

th_gen_sample_opts th_gen_sample_opts_default(void);

/* out: (count, n_visible) visible states at the end (or the readout);
 * heat: (count) or NULL. p->segments must be 1: a protocol of several
 * segments samples with th_gen_protocol_sample. */
int th_gen_sample(const th_model *m, const th_gen_params *p, size_t count,
                  const th_gen_sample_opts *opts, float *out, double *heat);
/* The same for a protocol of p->segments segments: the computing phase runs
 * segment after segment (th_langevin_run on segment s's model for its
 * steps, the noise streams continuing), so a protocol whose segments are
 * all equal gives the samples of one segment to the bit. */
int th_gen_protocol_sample(const th_gen_protocol *pr, const th_gen_params *p, size_t count,
                           const th_gen_sample_opts *opts, float *out, double *heat);

/* Snapshots of B noising paths (path ids as in th_gen_path_loss) at steps
 * snap_steps (ascending, 0 = the prepared state, at most th_gen_steps(p)) of
 * the noising phase: out (n_snaps, B, n_visible). */
int th_gen_noising_snapshots(const th_gen_params *p, const float *images,
                             const int *classes, const uint64_t *path_ids, size_t B, const size_t *snap_steps,
                             size_t n_snaps, float *out);

/* The generator's settings as model-file metadata ("gen.kT", "gen.dt", ...,
 * numbers written to round-trip exactly) and back. from_meta fails with
 * TH_EFORMAT naming the missing or malformed key, and validates. */
int th_gen_params_to_meta(const th_gen_params *p, th_meta *meta);
int th_gen_params_from_meta(const th_meta *meta, th_gen_params *p);

/* For each sample (count, n_pix), the reference image (n_refs, n_pix) with
 * the largest |Pearson correlation|, and that correlation with its sign (a
 * contrast-inverted copy correlates negatively). best, corr: (count). A
 * constant image has correlation 0 with everything. */
void th_nearest_by_correlation(const float *samples, size_t count, const float *refs,
                               size_t n_refs, size_t n_pix, size_t *best, double *corr);

/* ================================================= training runs (gen) */

/* What a training run needs beyond the physics of th_gen_params: the data,
 * the optimiser, and the generation after it. thermo train's presets are
 * recipes; the choice fields are int so that option parsers can set them. */
typedef enum th_gen_solver {
    TH_GEN_SOLVER_GD = 0,    /* gradient descent, the paper's recipe (th_gen_train) */
    TH_GEN_SOLVER_EXACT = 1  /* the exact least-squares minimiser (th_gen_stats_solve) */
} th_gen_solver;

typedef struct th_gen_recipe {
    const char *name;        /* the preset it started from, recorded as train.preset */
    const char *data;        /* folder of IDX files (th_dataset_load_dir, split "train") */
    size_t images;           /* 0: the paper's first 0, 1 and 2; N: the first N images */
    size_t pool;             /* images averaged over pool x pool blocks: 1 */
    int classes;             /* class-conditional: label units and the dataset's labels */
    int class_visible;       /* with classes: the labels also bias the pixels */
    int visible_bias;        /* the pixels' biases trained (th_gen_params.visible_bias) */
    /* with classes: the class is a latent code of the computer, not a
     * request: sample k's label units take class k mod C (an even mixture)
     * and the samples are recorded as unconditional (class -1), recorded in
     * the model file as sample.latent_classes */
    int latent_classes;
    int hidden_double_well;  /* th_gen_params.hidden_double_well */
    int solver;              /* th_gen_solver */
    size_t updates;          /* gradient descent: updates, 100 */
    double learning_rate;    /* 4e-4 */
    size_t batch;            /* paths per update (exact solver: per accumulation batch) */
    size_t checkpoint_every; /* a checkpoint after every this many updates: 10 */
    size_t paths;            /* exact solver: noising paths; 0 = one per image */
    size_t stride;           /* exact solver: every stride-th step of a path enters */
    double ridge;            /* exact solver: ridge lambda per path */
    double class_ridge;      /* exact solver: ridge per path on the class biases
                                (th_solve_opts.clamped_ridge): 0 */
    double bias_ridge;       /* exact solver: ridge per path on the trained biases
                                (th_solve_opts.bias_ridge): 0 */
    size_t samples;          /* generated after training: 1000 */
    uint64_t seed;           /* th_gen_params.seed */
    double t_f;              /* th_gen_params.t_f */
    size_t hidden;           /* th_gen_params.n_hidden */
    int hidden_drive;        /* th_hidden_drive */
    /* The noise schedule (th_gen_params.drive, ramp_fraction): how hard the
     * image holds the prepared state, and when the noising ramp ends. */
    double drive;            /* 2 */
    double ramp_fraction;    /* 0.75 */
    size_t segments;         /* th_gen_params.segments: 1 */
    /* exact solver: neighbour penalty per path between segments'
     * parameters (th_gen_stats_protocol_fit): 0, segments solved apart */
    double segment_penalty;
    size_t readout_window;   /* samples' th_gen_sample_opts.readout_window: 0 */
    /* with classes: K >= 2 styles a class (th_gen_training_set_styles,
     * th_gen_params.styles); 0, one code a class */
    size_t styles;
} th_gen_recipe;

/* The presets' names, NULL-terminated, the paper's "prl2026" first:
 * prl2026, tiny, mnist10, mnist10-cond, fashion10-cond. */
const char *const *th_gen_recipe_names(void);
/* Fills r with the named preset; TH_EINVAL for a name not in the list. */
int th_gen_recipe_preset(const char *name, th_gen_recipe *r);

/* The images a generator is trained on: the paper's three digits (the first
 * 0, 1 and 2 of a dataset's training split, science.md section 2) or the
 * first N images, each averaged over pool x pool blocks and standardised. */
typedef struct th_gen_training_set {
    size_t count, rows, cols; /* images and their shape after pooling */
    size_t pool;
    float *images;            /* (count, rows * cols): zero mean, unit variance each */
    int *labels;              /* (count) classes when asked for; else NULL */
    size_t n_classes;         /* with labels: 1 + the largest label; else 0 */
    uint64_t fnv1a64;         /* FNV-1a of the raw pixels of the chosen images */
    size_t index[3];          /* the paper's digits: where in the split they are */
    size_t styles;            /* 0; K after th_gen_training_set_styles */
} th_gen_training_set;

/* From dataset d (named name in messages): images = 0 takes the first image
 * of each class 0, 1, 2, N > 0 the first N; labels nonzero keeps the labels.
 * TH_EINVAL when d has no labels, its sides do not divide by pool, N exceeds
 * its count, or a class is missing. */
int th_gen_training_set_from_dataset(const th_dataset *d, const char *name, size_t images,
                                     size_t pool, int labels, th_gen_training_set **out);
/* The same from the training split of the folder dir. */
int th_gen_training_set_load(const char *dir, size_t images, size_t pool, int labels,
                             th_gen_training_set **out);
void th_gen_training_set_free(th_gen_training_set *ts);
/* Style codes: splits each class of a labelled training set into `styles`
 * balanced k-means clusters of its images (in double, k-means++ seeding
 * from Philox streams of seed, at most 50 Lloyd rounds, each assigning
 * images greedily from the nearest pair to clusters of n_c / K or one more
 * images), then relabels image i of class c in cluster s as c K + s and
 * sets n_classes to C K and ts->styles to K. styles 0 or 1: nothing.
 * TH_EINVAL without labels, for a class with fewer images than styles, or
 * above TH_GEN_MAX_LABELS label units. The same bits for any thread count. */
int th_gen_training_set_styles(th_gen_training_set *ts, size_t styles, uint64_t seed);

/* Image k of d with its pixels summed over pool x pool blocks (the average,
 * up to a factor that standardising removes), then standardised to zero mean
 * and unit (population) variance over its pixels; a constant image gives
 * zeros. out: (rows / pool * cols / pool). */
void th_gen_pool_standardise(const th_dataset *d, size_t k, size_t pool, float *out);

/* The generator recipe r trains on ts: th_gen_params_default with ts's
 * pixels as visible units and r's hidden units, t_f, seed, hidden drive and
 * classes; validated (TH_EINVAL naming the field). */
int th_gen_recipe_params(const th_gen_recipe *r, const th_gen_training_set *ts,
                         th_gen_params *p);

/* Every setting of a run as metadata, in a fixed order (the model file's
 * bytes depend on it): the generator's "gen.*", then "train.*" of the
 * optimiser r->solver uses, then "data.*" (r->data, which images, their
 * FNV-1a, shape and pooling). A checkpoint records them, and resuming
 * demands the same. */
int th_gen_recipe_to_meta(const th_gen_recipe *r, const th_gen_params *p,
                          const th_gen_training_set *ts, th_meta *meta);

/* A loss of th_gen_path_loss per step and moving unit: loss divided by
 * th_gen_steps(p) (n_visible + n_hidden), about 1/2 for a model that
 * predicts nothing (science.md section 2). */
double th_gen_loss_per_unit(const th_gen_params *p, double loss);

/* loss.csv: a header "update,loss,loss_per_step_and_unit" and one row per
 * update of loss (n). Atomic. */
int th_gen_loss_csv_write(const char *path, const th_gen_params *p, const double *loss,
                          size_t n);

/* Checkpoints of gradient descent. The state of the published recipe is the
 * model and the number of updates done (th_gen_train draws update u's paths
 * from u alone, and plain gradient descent has no other state); the losses
 * so far ride along so that a resumed run writes the whole curve. The file
 * is a model file (atomic) whose metadata holds settings, "train.done" and
 * "train.loss" (%.17g, comma separated: exact). */
int th_gen_checkpoint_save(const char *path, const th_model *m, const th_meta *settings,
                           size_t done, const double *loss);
/* Reads a checkpoint written with the same settings (TH_EINVAL naming the
 * first key that differs), at most updates updates into the run: the model
 * into *m, the updates done into *done and their losses into loss[0..done). */
int th_gen_checkpoint_load(const char *path, const th_meta *settings, size_t updates,
                           th_model **m, size_t *done, double *loss);
/* The same for a protocol (a protocol model file, th_gen_protocol_save;
 * settings must hold the generator's "gen.*"). A one-segment protocol's
 * checkpoint is th_gen_checkpoint_save's file to the byte. */
int th_gen_protocol_checkpoint_save(const char *path, const th_gen_protocol *pr,
                                    const th_meta *settings, size_t done, const double *loss);
int th_gen_protocol_checkpoint_load(const char *path, const th_meta *settings, size_t updates,
                                    th_gen_protocol **pr, size_t *done, double *loss);

typedef struct th_gen_checkpoint_opts {
    const char *path;        /* the checkpoint file */
    size_t every;            /* after every this many updates, except the last: >= 1 */
    const th_meta *settings; /* recorded in it (th_gen_recipe_to_meta) */
    /* Called on every process after the checkpoint of `done` updates was
     * written; nonzero stops training with TH_ECANCELED. NULL: none. */
    int (*written)(size_t done, void *ctx);
    void *ctx;
} th_gen_checkpoint_opts;

/* th_gen_train with a checkpoint after every ck->every updates. Under MPI
 * the first process writes it and every process learns whether that
 * worked, so that all stop together when it did not (TH_EIO naming the
 * update and why). */
int th_gen_train_checkpointed(th_model *m, const th_gen_params *p, const float *images,
                              const int *classes, size_t count,
                              const th_gen_train_opts *opts,
                              const th_gen_checkpoint_opts *ck, size_t first_update,
                              double *loss);
int th_gen_protocol_train_checkpointed(th_gen_protocol *pr, const th_gen_params *p,
                                       const float *images, const int *classes, size_t count,
                                       const th_gen_train_opts *opts,
                                       const th_gen_checkpoint_opts *ck, size_t first_update,
                                       double *loss);

/* The exact solver's outcome; losses per step and moving unit over the
 * statistics' paths. */
typedef struct th_gen_exact_report {
    size_t paths, iterations;
    double residual;        /* relative residual reached */
    int converged;
    double loss_zero;       /* every parameter 0 */
    double loss_solved;     /* the minimiser */
    double loss_compare;    /* the compared model; NAN without one */
} th_gen_exact_report;

/* Solves s for m (th_gen_stats_solve with opts, its ridge replaced by
 * ridge_per_path times the paths, since the data term grows with them) and
 * reports the loss before and after; with compare non-NULL also that of the
 * model file compare on the same paths. */
int th_gen_stats_fit(const th_gen_stats *s, const th_gen_params *p, double ridge_per_path,
                     const char *compare, const th_solve_opts *opts, th_model *m,
                     th_gen_exact_report *report);
/* The same for a protocol: th_gen_stats_protocol_solve with the ridge and
 * the neighbour penalty each per path times the paths. The compared model
 * file may be a protocol of the same segments, or of one segment (then held
 * constant over all). */
int th_gen_stats_protocol_fit(const th_gen_stats *s, const th_gen_params *p,
                              double ridge_per_path, double penalty_per_path,
                              const char *compare, const th_solve_opts *opts,
                              th_gen_protocol *pr, th_gen_exact_report *report);

/* th_gen_sample spread over the processes of the data-parallel layer: each
 * draws its share of the count samples (sample k keeps its noise stream
 * whichever process draws it) and every process ends with all of them, and
 * with the snapshots of the first opts->snap_traj, bit-identical to one
 * process's. One process: th_gen_sample. progress counts this process's
 * samples. */
int th_gen_sample_dist(const th_model *m, const th_gen_params *p, size_t count,
                       const th_gen_sample_opts *opts, float *out, double *heat);
/* The same for a protocol (th_gen_protocol_sample); opts->work and
 * opts->potential_change, when given, are gathered like the heat. */
int th_gen_protocol_sample_dist(const th_gen_protocol *pr, const th_gen_params *p,
                                size_t count, const th_gen_sample_opts *opts, float *out,
                                double *heat);

/* heat.csv: a header "sample,heat_kT" and one row per sample first + k of
 * heat (n). Atomic. */
int th_gen_heat_csv_write(const char *path, const double *heat, size_t n, uint64_t first);
/* The same with a third column "work_kT" of work (n) when work is non-NULL
 * (a protocol's switching work, th_gen_sample_opts.work); NULL: the file
 * above to the byte. */
int th_gen_heat_work_csv_write(const char *path, const double *heat, const double *work,
                               size_t n, uint64_t first);

/* How a sample is drawn: its shape and the grey range mapped to black and
 * white. */
typedef struct th_gen_picture {
    size_t rows, cols;
    float lo, hi;
    int range_from_file;     /* lo, hi came from the metadata */
} th_gen_picture;

/* From a model file's metadata (path names it in messages): the shape from
 * "data.rows" and "data.cols" (28 x 28 when both are absent and there are
 * 784 visible units), the range from "picture.lo" and "picture.hi" when
 * present (range_from_file 1; else 0 and lo = hi = 0). TH_EFORMAT naming
 * the key for a malformed value, one key of a pair only, or a shape that
 * does not hold n_visible pixels. */
int th_gen_picture_from_meta(const char *path, const th_meta *meta, size_t n_visible,
                             th_gen_picture *pic);

/* pic's grey range from the q_lo and q_hi quantiles (linear between order
 * statistics) of pixels (count): a few outlying pixels then cannot wash out
 * the rest; a constant picture gets a range around its value. */
int th_gen_picture_percentiles(const float *pixels, size_t count, double q_lo, double q_hi,
                               th_gen_picture *pic);

/* The grey range of the prepared states (th_gen_noising_snapshots at step
 * 0) of noising paths 0 .. n_paths-1: the clean images as the units hold
 * them (the quartic wells compress the standardised pixels), so that digits
 * and samples show at full contrast. It includes 0. */
int th_gen_prepared_range(const th_gen_params *p, const float *images, const int *classes,
                          size_t n_paths, float *lo, float *hi);

/* Which reference each sample resembles (th_nearest_by_correlation): counts
 * as_ref[j] of correlation >= threshold with reference j, inverted[j] of
 * correlation <= -threshold (a contrast-inverted copy), *neither the rest.
 * as_ref, inverted: (n_refs). */
int th_gen_recognise(const float *samples, size_t count, const float *refs, size_t n_refs,
                     size_t n_pix, double threshold, size_t *as_ref, size_t *inverted,
                     size_t *neither);

/* The couplings J_{i,a} to the pixels of the count hidden units with the
 * largest coupling norm sum_i J_{i,a}^2, strongest first (ties: the lower
 * unit): fields (count, n_visible). count <= n_hidden. */
int th_gen_strongest_fields(const th_model *m, const th_gen_params *p, size_t count,
                            float *fields);

/* What thermo train shows of a trained generator: samples with their heat,
 * snapshots of the first generation trajectories and of noising paths 0, 1,
 * 2 of the training set at n_snaps times evenly spread over t_f, the
 * strongest hidden fields, and, with a threshold, which of the training
 * set's first three images each sample resembles (th_gen_recognise). The
 * sampling is spread over processes (th_gen_sample_dist); every process
 * ends with everything. */
typedef struct th_gen_showcase_opts {
    size_t samples;          /* 1000 */
    size_t n_snaps;          /* snapshot times, 0 and t_f included: 10 (>= 2) */
    size_t trajectories;     /* generation trajectories recorded: 10 (fewer with fewer samples) */
    size_t n_fields;         /* strongest hidden fields: 16 (fewer with fewer hidden units) */
    double threshold;        /* recognition threshold: 0.5; 0: no recognition */
    int phase1;              /* th_gen_phase1 of the sampling: TH_GEN_PHASE1_EULER */
    th_progress_fn progress; /* samples done */
    void *progress_ctx;
    int precision;           /* the sampling's th_gen_sample_opts.precision */
    size_t readout_window;   /* the sampling's th_gen_sample_opts.readout_window: 0 */
} th_gen_showcase_opts;

th_gen_showcase_opts th_gen_showcase_opts_default(void);

typedef struct th_gen_showcase {
    size_t count, n_visible;
    float *samples;          /* (count, n_visible) */
    double *heat;            /* (count), kT */
    double heat_mean, heat_sd; /* per sample (th_heat_stats_compute) */
    size_t n_snaps, trajectories, n_paths, n_fields;
    float *generation;       /* (n_snaps, trajectories, n_visible) */
    float *noising;          /* (n_snaps, n_paths, n_visible) */
    float *fields;           /* (n_fields, n_visible) */
    size_t recognised[3], inverted[3], unrecognised; /* with a threshold */
    /* A protocol of several segments: the switching work of each sample
     * (th_gen_sample_opts.work, kT) and its mean and sd; NULL and 0 for
     * one segment. */
    double *work;
    double work_mean, work_sd;
} th_gen_showcase;

int th_gen_showcase_make(const th_model *m, const th_gen_params *p,
                         const th_gen_training_set *ts, const th_gen_showcase_opts *opts,
                         th_gen_showcase **out);
/* The same for a protocol; the strongest fields are its last segment's (the
 * couplings that finish the samples). */
int th_gen_protocol_showcase_make(const th_gen_protocol *pr, const th_gen_params *p,
                                  const th_gen_training_set *ts,
                                  const th_gen_showcase_opts *opts, th_gen_showcase **out);
void th_gen_showcase_free(th_gen_showcase *s);

#ifdef __cplusplus
}
#endif
#endif /* THERMO_GEN_H */
