/* thermo.h - simulate and train thermodynamic computers.
 *
 * A thermodynamic computer is a set of N real-valued units x_i that fluctuate in
 * a heat bath at temperature kT under overdamped Langevin dynamics
 *
 *     dx_i/dt = -mu dV/dx_i + sqrt(2 mu kT) eta_i(t),
 *     V(x)    = sum_i (J2_i x_i^2 + J4_i x_i^4 + b_i x_i) + sum_{i<j} J_ij x_i x_j,
 *
 * integrated by Euler-Maruyama (science.md section 1). Units are split into
 * groups (for example "visible" and "hidden"); a symmetric pattern says which
 * pairs of groups may couple, and the force on a batch of trajectories is one
 * matrix product per coupled block row.
 *
 * A worked example: 64 units in two groups, 128 trajectories, 1000 steps.
 *
 *     size_t sizes[2] = {32, 32};
 *     th_model *m = th_model_alloc(2, sizes, TH_F32);
 *     th_model_couple(m, 0, 1);                    // visible-hidden only
 *     m->kT = 0.1;
 *     th_model_set_coupling(m, 0, 40, 0.25);       // J_{0,40} = J_{40,0}
 *     th_batch *s = th_batch_alloc(m, 128, 42);    // seed 42, streams 0..127
 *     th_run r = th_run_default();
 *     r.n_steps = 1000;
 *     r.dt = 1e-3;
 *     int rc = th_langevin_run(m, s, &r);
 *     if (rc != TH_OK) fprintf(stderr, "%s\n", th_last_error());
 *     // s->x.f32 is (128, 64); s->heat[k] is trajectory k's heat in kT
 *     th_batch_free(s);
 *     th_model_free(m);
 *
 * Conventions: public symbols th_, macros and enum values TH_; arrays are flat,
 * row-major, with their shape in a comment; anything sized by the problem has
 * _alloc/_free (free accepts NULL). Recoverable failures return a negative TH_E*
 * code and leave a message for th_last_error(); broken contracts (NULL where an
 * object is required, an index out of range) stop the program through an assert
 * that stays on in release builds. The library never prints.
 */
#ifndef THERMO_H
#define THERMO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TH_VERSION_MAJOR 0
#define TH_VERSION_MINOR 1
#define TH_VERSION_PATCH 0
#define TH_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ errors */

enum th_status {
    TH_OK = 0,
    TH_EINVAL = -1,    /* an argument or parameter is out of its domain */
    TH_ENOMEM = -2,    /* allocation failed */
    TH_EDIVERGED = -3, /* a simulation left its bounded region (dt too large?) */
    TH_ECANCELED = -4, /* a progress callback asked to stop */
    TH_EIO = -5,       /* reading or writing a file failed */
    TH_EFORMAT = -6    /* a file's content is malformed */
};

/* A fixed description of a status code ("invalid argument"). */
const char *th_strerror(int status);

/* The detailed message of the most recent failure in this thread, naming the
 * parameter, step or file involved; "" if none. Valid until the next failing
 * call in the same thread. */
const char *th_last_error(void);

const char *th_version(void);

/* The OpenBLAS core type ("SkylakeX", "Haswell") this CPU should use when the
 * loaded OpenBLAS fell back to its generic kernels for want of recognising
 * it; NULL when OpenBLAS chose well. It takes effect only through the
 * environment variable OPENBLAS_CORETYPE set before OpenBLAS loads (the thermo
 * tool does this and re-executes itself). */
const char *th_blas_core_hint(void);

/* The micro-kernel of thermo's own matrix products: "avx512", "avx2" or
 * "scalar", the best this CPU runs unless THERMO_GEMM names another. Every
 * kernel gives the same bits (the sum behind each element is fixed: one fused
 * multiply-add per term, in order), so results do not depend on it, on the
 * thread count, on the batch size, or on OPENBLAS_CORETYPE. */
const char *th_matmul_kernel(void);

/* ------------------------------------------------------- random numbers */

/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11): a counter-based generator.
 * out = bijection of the 128-bit counter ctr under the 64-bit key. */
void th_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* thermo's streams: key = seed; counter = (block lo, block hi, stream lo,
 * stream hi). Block q of stream s yields four 32-bit words, hence four
 * standard normals. Any block can be generated directly, so a trajectory's
 * noise depends only on (seed, stream, step) and never on threads. */
typedef struct th_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t block;   /* next block to draw */
    uint32_t buf[4];  /* words of block - 1 */
    unsigned used;    /* words of buf already handed out (4 = empty) */
} th_rng;

void th_rng_init(th_rng *r, uint64_t seed, uint64_t stream);
uint32_t th_rng_u32(th_rng *r);
double th_rng_uniform(th_rng *r); /* uniform in (0, 1), 53-bit resolution */

/* n standard normals from blocks first_block, first_block+1, ... of stream
 * (seed, stream): value i comes from block first_block + i/4, word i%4, by the
 * Box-Muller transform of word pairs (0,1) and (2,3). The float and double
 * versions give the same values up to float rounding. */
void th_normal_fill_f32(uint64_t seed, uint64_t stream, uint64_t first_block,
                        float *out, size_t n);
void th_normal_fill_f64(uint64_t seed, uint64_t stream, uint64_t first_block,
                        double *out, size_t n);

/* ------------------------------------------------------------- the model */

typedef enum th_dtype { TH_F32 = 0, TH_F64 = 1 } th_dtype;

/* A typed view of an array whose element type is a th_dtype. */
typedef union th_ptr {
    void *v;
    float *f32;
    double *f64;
} th_ptr;

#define TH_MAX_GROUPS 8

typedef struct th_model {
    th_dtype dtype;
    size_t n;                                   /* number of units */
    size_t n_groups;
    size_t group_start[TH_MAX_GROUPS + 1];      /* group g = units [start[g], start[g+1]) */
    unsigned char couples[TH_MAX_GROUPS][TH_MAX_GROUPS]; /* symmetric; 1 = block may be nonzero */
    double kT;                                  /* bath temperature (energy units); default 1 */
    double mu;                                  /* mobility; time is in units of 1/mu; default 1 */
    th_ptr J2;                                  /* (n) quadratic on-site coefficients; default 1 */
    th_ptr J4;                                  /* (n) quartic on-site coefficients; default 1 */
    th_ptr b;                                   /* (n) biases; default 0 */
    th_ptr J;                                   /* (n, n) couplings: symmetric, zero diagonal,
                                                   zero outside coupled blocks; default 0 */
} th_model;

/* n_groups groups of the given sizes, no couplings allowed yet. NULL on
 * failure (see th_last_error). */
th_model *th_model_alloc(size_t n_groups, const size_t *group_sizes, th_dtype dtype);
void th_model_free(th_model *m);

/* Allow couplings between every unit of group g and every unit of group h
 * (g == h: all pairs within the group). */
int th_model_couple(th_model *m, size_t g, size_t h);

/* Sets J_ij = J_ji = value. TH_EINVAL for i == j or a pair whose groups do not
 * couple. */
int th_model_set_coupling(th_model *m, size_t i, size_t j, double value);
double th_model_get_coupling(const th_model *m, size_t i, size_t j);
int th_model_groups_couple(const th_model *m, size_t i, size_t j); /* by unit index */
size_t th_model_group_of(const th_model *m, size_t unit);

/* Every unit gets the same on-site coefficients. */
void th_model_set_onsite(th_model *m, double J2, double J4);

/* Element access for code that does not care about precision. */
double th_get(th_ptr p, th_dtype dtype, size_t i);
void th_set(th_ptr p, th_dtype dtype, size_t i, double value);
size_t th_dtype_size(th_dtype dtype);

/* Checks kT > 0, mu > 0, finite parameters, J4 >= 0, J symmetric with zero
 * diagonal and zeros outside the coupling pattern. TH_EINVAL with a message
 * naming the first offending parameter. */
int th_model_validate(const th_model *m);

/* Number of nonzero-allowed ordered pairs (i, j), i != j: the multiply-adds of
 * one coupling-force evaluation for one trajectory. */
size_t th_model_coupling_pairs(const th_model *m);

/* ------------------------------------------------------ trajectory batch */

/* B independent trajectories of a model: states, noise streams, and their
 * thermodynamic ledger. Trajectory k draws its noise from stream
 * stream[k] (default first_stream + k) of the batch's seed. */
typedef struct th_batch {
    th_dtype dtype;
    size_t n;          /* units per trajectory */
    size_t b;          /* trajectories */
    th_ptr x;          /* (b, n) current states; initially 0 */
    double *heat;      /* (b) heat given to the bath so far, in units of kT */
    double *work;      /* (b) work done on the system by the drive, in units of kT */
    uint64_t seed;
    uint64_t *stream;  /* (b) noise stream of each trajectory */
    uint64_t step;     /* steps taken so far; the position in every stream */
    double t;          /* time reached */
    th_ptr work_force; /* (b, n) workspace: coupling forces */
    th_ptr work_next;  /* (b, n) workspace: the noise, then the new states of a step */
} th_batch;

th_batch *th_batch_alloc(const th_model *m, size_t b, uint64_t seed);
void th_batch_free(th_batch *s);
/* Zero the states, heat and work, set step and time to 0. */
void th_batch_reset(th_batch *s);

/* --------------------------------------------------------------- running */

/* A time-dependent linear term amplitude(t) * sum_i field_i x_i added to V.
 * field has the model's dtype and shape (n), or (b, n) when per_trajectory.
 * The PRL noising protocol, force a(t) s_i, is amplitude = a and field = -s. */
typedef struct th_drive {
    double (*amplitude)(double t, void *ctx);
    void *ctx;
    th_ptr field;
    int per_trajectory;
} th_drive;

typedef enum th_kernel {
    TH_KERNEL_FAST = 0,     /* matrix product per step, fused on-site update */
    TH_KERNEL_REFERENCE = 1 /* plain per-unit loops; the twin for tests */
} th_kernel;

typedef struct th_run {
    size_t n_steps;
    double dt;
    const unsigned char *clamped; /* (n) nonzero = unit held fixed; NULL = none */
    const th_drive *drive;        /* NULL = none */
    /* Snapshots: the states after snap_steps[j] steps of this run (0 = the
     * starting state) are copied to snap_out + j*b*n. snap_steps ascending. */
    const size_t *snap_steps;
    size_t n_snaps;
    th_ptr snap_out;              /* (n_snaps, b, n) in the model's dtype */
    th_kernel kernel;
    double blowup;                /* |x| beyond this means divergence; default 1e6 */
    /* Called every progress_every steps; a nonzero return stops the run
     * with TH_ECANCELED. */
    int (*progress)(size_t done, size_t total, void *ctx);
    void *progress_ctx;
    size_t progress_every;
} th_run;

th_run th_run_default(void);

/* Advance every trajectory of s by r->n_steps Euler-Maruyama steps:
 *     x <- x - mu dt dV/dx(x, t) + sqrt(2 mu kT dt) xi,
 * accumulating heat (Stratonovich, at the midpoint of each step) and work
 * (sum over steps of V(x_k, t_{k+1}) - V(x_k, t_k)) in units of kT, so that
 * work = V_end - V_start + heat up to O(dt). Results are identical for any
 * number of threads. On TH_EDIVERGED the message names the step, trajectory
 * and unit; no state is overwritten by a value beyond the bound, so every
 * trajectory holds a finite state (those that diverged, their last one within
 * the bound), and the heat and work are not completed. */
int th_langevin_run(const th_model *m, th_batch *s, const th_run *r);

/* Potential energy V(x, t) of each trajectory, drive included when given,
 * computed in double with plain loops. x: (b, n) in the model's dtype;
 * out: (b). */
void th_potential(const th_model *m, const th_drive *drive, double t,
                  th_ptr x, size_t b, double *out);

/* ============================================================== files (io) */

/* Every reader validates what it reads and fails with TH_EIO (cannot open or
 * read) or TH_EFORMAT (malformed content), and th_last_error() names the file
 * and what was wrong. Every writer is atomic: it writes a temporary file in
 * the same folder, flushes it to disk and renames it over the target, so a
 * crash never leaves a half-written file under the target's name. */

/* Creates the folder path and any missing parents, as mkdir -p does; an
 * existing folder is fine. TH_EIO names the part that could not be created
 * (or exists as something other than a folder) and why. */
int th_mkdir_p(const char *path);
/* The same for the folder that holds the file path ("runs/a/x.png": runs/a);
 * nothing to do for a bare file name. */
int th_mkdir_parent(const char *path);

/* ---------------------------------------------------- datasets (IDX files) */

/* Images of one size with optional class labels (MNIST, Fashion-MNIST). */
typedef struct th_dataset {
    size_t count;     /* images */
    size_t rows;      /* image height */
    size_t cols;      /* image width */
    uint8_t *pixels;  /* (count, rows * cols) grey levels 0..255, row-major */
    uint8_t *labels;  /* (count) class of each image, or NULL */
} th_dataset;

/* Reads one IDX file of unsigned bytes (type code 0x08), raw or gzip
 * compressed (detected from the content, not the name). *dims receives up to
 * 4 dimensions; *data is allocated (free with free()). */
int th_idx_read_u8(const char *path, size_t dims[4], size_t *n_dims, uint8_t **data);

/* Images (3 dimensions) and labels (1 dimension) whose counts must agree;
 * labels_path may be NULL. */
int th_dataset_load(const char *images_path, const char *labels_path, th_dataset **out);

/* The standard file names in a folder: <split>-images-idx3-ubyte and
 * <split>-labels-idx1-ubyte, each raw or with .gz; split is "train" or
 * "t10k". */
int th_dataset_load_dir(const char *dir, const char *split, th_dataset **out);
void th_dataset_free(th_dataset *d);

/* Image k as floats with zero mean and unit variance over its pixels (the
 * normalisation of science.md section 2); out: (rows * cols). */
void th_dataset_standardize(const th_dataset *d, size_t k, float *out);

/* ------------------------------------------------- tensors (safetensors) */

/* A named tensor; data has the element type dtype (TH_F32 or TH_F64) and
 * prod(shape) elements. */
typedef struct th_tensor {
    char name[64];
    th_dtype dtype;
    size_t n_dims;          /* 0 to 4 */
    size_t shape[4];
    th_ptr data;
} th_tensor;

/* String metadata (the safetensors "__metadata__" map). */
typedef struct th_meta {
    size_t count;
    char **keys;
    char **values;
} th_meta;

/* Copies key and value; replaces an existing key. */
int th_meta_set(th_meta *meta, const char *key, const char *value);
int th_meta_setf(th_meta *meta, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* NULL when absent. */
const char *th_meta_get(const th_meta *meta, const char *key);
void th_meta_clear(th_meta *meta); /* frees the strings; the struct is reusable */

typedef struct th_tensor_file {
    size_t count;
    th_tensor *tensors;     /* (count) data owned by the file object */
    th_meta meta;
} th_tensor_file;

/* Writes a safetensors file: 8-byte little-endian header length, the JSON
 * header (dtype "F32"/"F64", shape, data_offsets, and __metadata__), then the
 * raw little-endian tensors. Atomic. */
int th_safetensors_write(const char *path, const th_tensor *tensors, size_t count,
                         const th_meta *meta);
/* Reads and validates: header length within the file, JSON well formed,
 * known dtypes, offsets inside the data area, matching their shape and not
 * overlapping, every value finite. */
int th_safetensors_read(const char *path, th_tensor_file **out);
const th_tensor *th_tensor_file_find(const th_tensor_file *f, const char *name);
void th_tensor_file_free(th_tensor_file *f);

/* A model as a safetensors file: tensors J2, J4, b (n) and J (n, n) in the
 * model's dtype; metadata "thermo.version", "model.groups" (sizes, comma
 * separated), "model.couples" (pairs "g-h", comma separated), "model.kT",
 * "model.mu", plus any extra entries the caller passes (training settings,
 * dt, t_f, the data hash). Loading checks that shapes agree with the
 * metadata and validates the model (th_model_validate). extra_out may be
 * NULL; otherwise it receives all metadata. */
int th_model_save(const char *path, const th_model *m, const th_meta *extra);
int th_model_load(const char *path, th_model **out, th_meta *extra_out);

/* ------------------------------------------------------------- pictures */

/* An 8-bit RGB canvas; pictures are composed on it, then written as PNG. */
typedef struct th_canvas {
    size_t width, height;
    uint8_t *rgb; /* (height, width, 3) */
} th_canvas;

th_canvas *th_canvas_alloc(size_t width, size_t height, uint8_t grey);
void th_canvas_free(th_canvas *c);
/* Writes the canvas magnified by an integer factor (1 = as is). Atomic. */
int th_png_write(const char *path, const th_canvas *c, size_t magnify);

/* A grid of grey images, grid_cols across, gap pixels between them (and
 * around), values mapped linearly from [lo, hi] to black..white and clipped.
 * images: (count, rows, cols). NULL on failure. */
th_canvas *th_picture_grid(const float *images, size_t count, size_t rows, size_t cols,
                           size_t grid_cols, size_t gap, float lo, float hi);

/* Trajectory strips: snaps (n_snaps, n_traj, rows, cols) drawn with
 * snapshots across and trajectories down. */
th_canvas *th_picture_strips(const float *snaps, size_t n_snaps, size_t n_traj, size_t rows,
                             size_t cols, size_t gap, float lo, float hi);

/* Signed fields (for example one hidden unit's couplings to the pixels) in a
 * diverging colour map, blue (negative) - white (0) - red (positive), on a
 * range symmetric about 0: [-max|v|, +max|v|] over each field.
 * fields: (count, rows, cols). */
th_canvas *th_picture_fields(const float *fields, size_t count, size_t rows, size_t cols,
                             size_t grid_cols, size_t gap);

/* A terminal preview of one grey image with Unicode shading (one character
 * per 2 x 1 pixels, from ' ' through light, medium and dark shade to full
 * block), lines ending in '\n'. Returns a malloc'd UTF-8 string. */
char *th_preview_utf8(const float *image, size_t rows, size_t cols, float lo, float hi);

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
} th_gen_params;

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
} th_gen_train_opts;

th_gen_train_opts th_gen_train_opts_default(void);

/* Runs updates first_update .. opts->updates - 1 on m, writing each update's
 * loss to loss[update] (loss: (opts->updates)). images: (count,
 * n_visible), standardised. A diverging update (non-finite loss or
 * parameters) stops with TH_EDIVERGED naming the update. */
int th_gen_train(th_model *m, const th_gen_params *p, const float *images,
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
                            size_t stride,
                            int (*progress)(size_t done, size_t total, void *ctx),
                            void *progress_ctx, th_gen_stats **out);
void th_gen_stats_free(th_gen_stats *s);
/* Paths and steps (rows) the statistics hold. */
size_t th_gen_stats_paths(const th_gen_stats *s);
size_t th_gen_stats_rows(const th_gen_stats *s);

/* The objective of model m over the accumulated paths, from the statistics
 * alone (equal to th_gen_path_loss over the same paths up to rounding). */
int th_gen_stats_loss(const th_gen_stats *s, const th_model *m, double *loss);

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
     * with TH_ECANCELED. */
    int (*progress)(size_t iteration, double residual, void *ctx);
    void *progress_ctx;
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

/* Generation (science.md section 2): from x = 0 the uncoupled units
 * equilibrate for t_f (pure noise), then the trained couplings and biases
 * are switched on and the computer runs for t_f; the visible units are the
 * sample. Sample k uses noise stream TH_GEN_SAMPLE_STREAM + first + k, so any
 * sample can be regenerated alone. heat[k] is the heat (in kT) given to the
 * bath during the second, computing phase. */
#define TH_GEN_SAMPLE_STREAM ((uint64_t)1 << 33)
typedef struct th_gen_sample_opts {
    size_t batch;              /* trajectories simulated at once: 256 */
    uint64_t first;            /* index of the first sample: 0 */
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
    int (*progress)(size_t done, size_t total, void *ctx); /* samples done */
    void *progress_ctx;
} th_gen_sample_opts;

th_gen_sample_opts th_gen_sample_opts_default(void);

/* out: (count, n_visible) visible states at the end; heat: (count) or NULL. */
int th_gen_sample(const th_model *m, const th_gen_params *p, size_t count,
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

/* ============================================================ energy ledger */

/* The energy books of a generative thermodynamic computer against digital
 * computing (science.md sections 2 and 7): heat in units of kT converted to
 * joules at a chosen temperature, multiply-accumulate (MAC) counts of dense
 * networks and of the simulation itself priced at an energy per MAC, their
 * ratio to the heat, the CPU's own energy counters (Linux powercap/RAPL), and
 * the binning and drawing of a heat histogram. Pure arithmetic: the heat
 * itself comes from th_gen_sample (Stratonovich, th_langevin_run). */

/* Boltzmann's constant in J/K, exact by definition of the SI since 2019
 * (BIPM SI Brochure, 9th edition; CODATA 2018). */
#define TH_BOLTZMANN_J_PER_K 1.380649e-23

/* k_B T in joules for a temperature in kelvin (300 K: 4.141947e-21 J). */
double th_energy_kT_joules(double temperature_K);

/* MACs of steps forward passes of a dense network with layer widths
 * sizes[0], ..., sizes[n_sizes - 1]: steps * sum_l sizes[l] * sizes[l + 1],
 * one MAC per weight; biases and activation functions are not counted. The
 * PRL baseline, 784-128-128-784 for 10 steps, is 2,170,880. TH_EINVAL for
 * fewer than 2 widths, a width or steps of 0, or a count beyond 2^64 - 1. */
int th_energy_mlp_macs(const size_t *sizes, size_t n_sizes, size_t steps, uint64_t *macs);

/* Multiplications per unit per step in the fused Euler-Maruyama update of
 * th_langevin_run's fast kernel (langevin_kernel.inc, fused_row): 7 for the
 * on-site, bias and drive force, 2 for the step, 1 for the midpoint, 7 for the
 * force at the midpoint, 1 for the heat and 2 for the work. Each is counted as
 * one MAC. */
#define TH_ENERGY_ONSITE_MACS 20

/* The arithmetic one generated sample costs this simulation (th_gen_sample
 * with the fast kernel): steps = th_gen_steps(p) per phase. */
typedef struct th_energy_sim_ops {
    uint64_t steps;          /* steps of each phase (noise, then computing) */
    uint64_t coupling_pairs; /* th_model_coupling_pairs(m): MACs of one coupling force */
    uint64_t coupling_macs;  /* coupling_pairs * (steps + 1): one force a step of the
                                computing phase and one more at its end for the
                                coupling part of the heat; the uncoupled noise phase
                                has none */
    uint64_t onsite_macs;    /* TH_ENERGY_ONSITE_MACS * n * 2 steps: both phases */
    uint64_t normals;        /* Gaussian numbers drawn: n * 2 steps (not priced as MACs) */
} th_energy_sim_ops;

/* TH_EINVAL when m does not have p's n_visible + n_hidden units or a count
 * overflows. */
int th_energy_gen_ops(const th_model *m, const th_gen_params *p, th_energy_sim_ops *out);

/* ratio = digital_J / heat_J. The ratio of an energy to a heat that is zero
 * or negative (heat taken from the bath on average) means nothing: then
 * TH_EINVAL, *ratio = 0, and th_last_error() says the ratio is undefined. */
int th_energy_ratio(double digital_J, double heat_J, double *ratio);

/* Summary of the heat per sample (kT): mean, sample standard deviation (n - 1;
 * 0 for one sample), range, and the number of samples with heat < 0 (heat
 * taken from the bath). TH_EINVAL for n = 0 or a non-finite value. */
typedef struct th_heat_stats {
    size_t count;
    double mean, sd, min, max;
    size_t negative;
} th_heat_stats;

int th_heat_stats_compute(const double *heat, size_t n, th_heat_stats *out);

/* Equal-width bins over [lo, hi] = [min, max] of values (n): bin k holds
 * edge(k) <= v < edge(k + 1), the last bin also v = hi, with
 * edge(k) = lo + (hi - lo) * k / n_bins. When every value is the same the
 * range is [v - 0.5, v + 0.5]. counts: (n_bins), summing to n. TH_EINVAL for
 * n or n_bins = 0 or a non-finite value. */
int th_histogram_bin(const double *values, size_t n, size_t n_bins, double *lo, double *hi,
                     size_t *counts);

/* A bar chart of counts (n_bins) over [lo, hi] on a width x height canvas,
 * without text: white background, black axes along the left and the bottom
 * with a tick at every bin edge, bars in steel blue, the tallest count
 * filling the plot's height; marks (n_marks, in the units of lo and hi, may
 * be NULL) as vertical lines where they fall inside [lo, hi], marks[0] red,
 * the others dark grey. NULL on failure (too small a canvas for the bins). */
th_canvas *th_picture_histogram(const size_t *counts, size_t n_bins, double lo, double hi,
                                const double *marks, size_t n_marks, size_t width,
                                size_t height);

/* The CPU packages' energy counters of Linux powercap (Intel RAPL, also
 * exposed for AMD): the top-level zones root/intel-rapl:N whose name starts
 * with "package" (a platform "psys" zone would count the packages twice;
 * sub-zones such as core or dram are parts or siblings of a package and are
 * left out), each with energy_uj, which counts microjoules up to
 * max_energy_range_uj and then wraps to 0. */
#define TH_RAPL_MAX_ZONES 16
typedef struct th_rapl_reading {
    size_t count;                                 /* zones read */
    char zone[TH_RAPL_MAX_ZONES][32];             /* folder names: "intel-rapl:0" */
    char name[TH_RAPL_MAX_ZONES][32];             /* zone names: "package-0" */
    uint64_t energy_uj[TH_RAPL_MAX_ZONES];        /* counters, microjoules */
    uint64_t max_energy_range_uj[TH_RAPL_MAX_ZONES];
} th_rapl_reading;

/* Reads every package zone under root (normally "/sys/class/powercap").
 * TH_EIO when there is none or one cannot be read (no such folder, a
 * counter readable by root only), TH_EFORMAT for a malformed value; the
 * message names the file. */
int th_rapl_read(const char *root, th_rapl_reading *out);

/* Joules used between two readings of the same zones: the sum over zones of
 * after - before, or max_energy_range_uj - before + after when a counter
 * wrapped (at most one wrap can be seen: the usual range, 262,143 J, lasts
 * 22 minutes at 200 W). TH_EINVAL when the zones differ or a counter lies
 * beyond its range. */
int th_rapl_joules(const th_rapl_reading *before, const th_rapl_reading *after,
                   double *joules);

/* ==================================================== digital networks (nn) */

/* Dense feed-forward networks in float32, trained by minibatch gradient
 * descent on the softmax cross-entropy: the digital side of thermo. They
 * serve as the judge that measures generated images (src/eval/) and as the
 * teacher whose activations a thermodynamic classifier learns to imitate
 * (Whitelam, PNAS 2026; science.md section 3). Every product goes through
 * cblas_sgemm; training is seeded (Philox) and gives the same numbers for
 * any number of threads. */

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
 * "nn.kind" = "mlp", "nn.widths" ("784,32,32,10"), "nn.activation"
 * ("tanh"/"relu"), "nn.input" ("standardised"/"pnas"), "nn.input_norm",
 * "thermo.version", plus the caller's extra entries (what trained it: data,
 * epochs, accuracy). Atomic. */
int th_mlp_save(const th_mlp *net, const char *path);
int th_mlp_save_meta(const th_mlp *net, const char *path, const th_meta *extra);
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
    int (*progress)(size_t done, size_t total, void *ctx);
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

/* ------------------------------------- image-quality metrics (src/eval/) */

/* Measures of images generated by a thermodynamic computer, computed with a
 * judge network (a th_mlp on TH_INPUT_STANDARDISED images, trained by thermo
 * classifier train --arch judge) against a real dataset. */

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
double th_skewness(const float *x, size_t n);

/* The entropy -sum p ln p (nats) of the distribution counts / sum(counts);
 * 0 for all-zero counts. */
double th_entropy_counts(const size_t *counts, size_t k);

/* The q-quantile (0 <= q <= 1) of values (n >= 1) by linear interpolation
 * between order statistics at position q (n - 1) (Hyndman & Fan type 7);
 * values is left unchanged. */
double th_quantile(const double *values, size_t n, double q);

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
    int uninvert;          /* negate samples of negative skewness before judging */
    size_t reference_count;/* real images for the floors; 0 = as many as samples */
    /* Called as the nearest-neighbour searches progress (done of total rows);
     * a nonzero return stops with TH_ECANCELED. */
    int (*progress)(size_t done, size_t total, void *ctx);
    void *progress_ctx;
} th_eval_params;

th_eval_params th_eval_params_default(void);

typedef struct th_eval_report {
    size_t count;              /* samples */
    size_t n_classes;          /* the judge's outputs */
    double judge_accuracy;     /* the judge on the real test images: its own credibility */
    /* contrast */
    size_t inverted;           /* samples of negative skewness */
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
} th_eval_report;

/* Evaluates samples s against a judge (a th_mlp of at least 2 layers on
 * TH_INPUT_STANDARDISED inputs of s->n_pix pixels), the training split train
 * and the test split test (with labels). Each sample is first standardised
 * to zero mean and unit variance over its pixels (the judge's input), after
 * negation when p->uninvert and its skewness is negative. */
int th_eval_samples(const th_mlp *judge, const th_samples *s, const th_dataset *train,
                    const th_dataset *test, const th_eval_params *p, th_eval_report *out);

/* end of section nn */

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
                                size_t batch,
                                int (*progress)(size_t done, size_t total, void *ctx),
                                void *progress_ctx, th_student_stats **out);
void th_student_stats_free(th_student_stats *s);
size_t th_student_stats_paths(const th_student_stats *s);
/* The objective of m over the accumulated paths, from the statistics alone
 * (th_student_path_loss summed over the same paths, up to rounding). */
int th_student_stats_loss(const th_student_stats *s, const th_model *m, double *loss);
/* Sets m's couplings and biases to the minimiser of loss + ridge |J|^2 / 2,
 * the ridge over every trained coupling (inputs' included: constant border
 * pixels make the unpenalised problem singular). CG starts from m. */
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
    int (*progress)(size_t done, size_t total, void *ctx); /* images done */
    void *progress_ctx;
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
 * width). Trajectory (j, r) draws its noise from stream
 * stream_base + j * replicas + r of seed, block step * ceil(N / 4) (N the
 * neuron count), the layout of th_langevin_run, so results do not depend on
 * the threads (the inputs are spread over OpenMP threads when not called
 * from inside a parallel region). Euler-Maruyama with all neurons updated
 * synchronously (science.md section 1). TH_KERNEL_FAST works layer block by
 * layer block; TH_KERNEL_REFERENCE assembles the dense (N, N) coupling
 * matrix and loops over every pair, the twin for tests. TH_EDIVERGED, naming
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

/* Runs the algorithm and writes the best individual of the last generation
 * into net (allocated by the caller for p's layers and width). history may
 * be NULL; its arrays, when given, hold opts->generations values. */
int th_ga_train(const th_neuron_params *p, const th_ga_opts *opts, th_neuron_net *net,
                th_ga_history *history);

/* A trained network as a safetensors file: tensors W (width), b (n_layers,
 * width), w (n_layers - 1, width, width), f (width), float64, and metadata
 * "neuron.*" with every field of p (numbers that round-trip exactly) plus any
 * extra entries (GA settings). Loading checks shapes, finiteness and the
 * settings (th_neuron_params_validate) and names the file and the field at
 * fault; *net_out is allocated; extra_out may be NULL. */
int th_neuron_save(const char *path, const th_neuron_net *net, const th_neuron_params *p,
                   const th_meta *extra);
int th_neuron_load(const char *path, th_neuron_net **net_out, th_neuron_params *p,
                   th_meta *extra_out);

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

/* ==================================== thermodynamic linear algebra (linalg) */

/* Normal Computing's stochastic processing unit (SPU; Aifer et al. 2024,
 * Melanson et al., Nat. Commun. 2025; science.md section 5) simulated as a
 * linear stochastic differential equation
 *
 *     dz = -(M z - c) dt + G dW,      x = readout z,
 *
 * whose equilibrium encodes a matrix A: Cov(x) = cov_scale A^-1. Two models:
 *
 * - TH_SPU_RLC, the board: `cells` RLC unit cells, z = (i, v) (inductor
 *   currents, then node voltages), all-to-all coupled by capacitors:
 *       di = L^-1 v dt,  dv = -C^-1 R^-1 v dt - C^-1 i dt + C^-1 sqrt(2 kappa0) dW,
 *   C the Maxwell capacitance matrix. With R = r I, Cov(v) = kappa0 r C^-1.
 *   Time in seconds of simulated hardware.
 * - TH_SPU_OVERDAMPED, the idealisation dx = -(A x - b) dt + sqrt(2) dW, with
 *   equilibrium N(A^-1 b, A^-1). Time in units of 1/gamma, the cells'
 *   relaxation rate.
 *
 * All matrices are float64, row-major, with their shape in a comment. */

/* ------------------------------------------- Matrix Market files (io/mtx.c) */

/* Reads a Matrix Market file ("%%MatrixMarket matrix array|coordinate
 * real|integer|pattern general|symmetric|skew-symmetric") into a dense
 * row-major matrix *data (rows, cols), allocated (free with free()). Every
 * index, count and value is checked (finite, in range, no duplicate
 * coordinate entry, symmetric files give the lower triangle only); at most
 * 2^26 entries. TH_EIO / TH_EFORMAT with a message naming the file and line. */
int th_mtx_read(const char *path, double **data, size_t *rows, size_t *cols);

/* Writes data (rows, cols) as "matrix array real general" with 17
 * significant digits (exact round trip) and an optional comment line
 * (no newline in it). Atomic. */
int th_mtx_write(const char *path, const double *data, size_t rows, size_t cols,
                 const char *comment);

/* ----------------------------------------------- log-log charts (io/plot.c) */

/* One line of a chart: n points (x[k], y[k]); points with a non-positive or
 * non-finite coordinate are skipped (a log axis cannot show them). */
typedef struct th_plot_series {
    const double *x, *y;
    size_t n;
    uint8_t rgb[3];
    int dashed;  /* 1 = dashed line */
    int markers; /* 1 = a small square at each point */
} th_plot_series;

/* A log-log line chart on a width x height white canvas: both axes span
 * whole decades around the data, with a grid line and a label ("1e-3") at
 * each decade. NULL on failure (no drawable point, too small a canvas). */
th_canvas *th_plot_loglog(const th_plot_series *series, size_t n_series, size_t width,
                          size_t height);

/* ------------------------------- exact Ornstein-Uhlenbeck transitions (ou) */

/* out = e^A for A (n, n): scaling and squaring with the [6/6] Pade
 * approximant, whose denominator is solved by LAPACK (dgesv). */
int th_expm(const double *A, size_t n, double *out);

/* Solves the Lyapunov equation M S + S M^T = Q for S (n, n) by Bartels and
 * Stewart: the real Schur form M = U T U^T (LAPACK dgees), then the
 * quasi-triangular Sylvester equation T Y + Y T^T = U^T Q U (dtrsyl), S =
 * U Y U^T. Correct for non-normal M. TH_EINVAL when some eigenvalue of M has
 * a real part <= 0 (no stationary state). S is symmetrised when Q is
 * symmetric. */
int th_lyap_solve(const double *M, const double *Q, size_t n, double *S);

typedef enum th_ou_method {
    TH_OU_LYAPUNOV = 0, /* Sigma(h) = S - e^{-Mh} S e^{-M^T h}, M S + S M^T = Q */
    TH_OU_VAN_LOAN = 1  /* one exponential of [[M, Q], [0, -M^T]] h (Van Loan 1978) */
} th_ou_method;

/* The exact transition over a time h of dz = -M z dt + G dW with Q = G G^T:
 * z(t + h) = F z(t) + N(0, Sigma), F = e^{-Mh}. F, Sigma: (n, n). */
int th_ou_transition(const double *M, const double *Q, size_t n, double h,
                     th_ou_method method, double *F, double *Sigma);

/* ------------------------------------------------------- the SPU (spu.c) */

typedef enum th_spu_model {
    TH_SPU_RLC = 0,       /* the underdamped circuit */
    TH_SPU_OVERDAMPED = 1 /* the idealisation dx = -(A x - b) dt + sqrt(2) dW */
} th_spu_model;

typedef struct th_spu_params {
    th_spu_model model;  /* TH_SPU_RLC */
    /* The RLC cell (SI units; illustrative values, not the board's): */
    double inductance;   /* H per cell: 1e-3 */
    double resistance;   /* ohm per cell: 1e3 (R sqrt(C/L) = 1: damped in a period) */
    double cap_max;      /* F: the largest total capacitance C_ii once A is scaled: 1e-9 */
    double kappa0;       /* A^2 s: noise current strength: 1e-14 (about 0.1 V rms) */
    /* Imprecision of the components (both models): */
    unsigned bits;       /* coupling capacitances rounded to one of 2^bits equally
                            spaced levels of [0, largest]: 0 = exact */
    double mismatch;     /* relative sd of every component (couplings, self
                            capacitances, L, R, kappa0): 0 */
    uint64_t copy;       /* which physical copy: keys the mismatch draw and the noise */
    uint64_t hw_seed;    /* seed of the mismatch draws: 1 */
} th_spu_params;

th_spu_params th_spu_params_default(void);

/* How a symmetric A is realised by positive capacitors. Positive coupling
 * capacitors give a Maxwell matrix C with C_ij <= 0 (i != j) and row sums
 * = self capacitances >= 0: a diagonally dominant M-matrix.
 * - DIRECT: A is such a matrix; C = alpha A.
 * - SCALED: A is an M-matrix (C_ij <= 0, positive definite) without
 *   dominant rows: C = alpha D A D with D = diag(u), u > 0, A u > 0, whose
 *   row sums u_i (A u)_i are positive; readout x = D v.
 * - DOUBLED: A has positive off-diagonal entries but its comparison matrix
 *   <A> (|A_ii| on the diagonal, -|A_ij| off it) is an M-matrix: 2d cells
 *   with C = alpha D' [[A_d + A_-, -A_+], [-A_+, A_d + A_-]] D', the
 *   difference readout x = D (v_1 - v_2) / sqrt(2) sees A (the
 *   antisymmetric modes) and its inverse exactly. */
typedef enum th_spu_mapping {
    TH_SPU_DIRECT = 0,
    TH_SPU_SCALED = 1,
    TH_SPU_DOUBLED = 2
} th_spu_mapping;

/* The realisability check. A (d, d) must be symmetric with a positive
 * diagonal. Sets *mapping and u (d, may be NULL) for the scaling D =
 * diag(u); TH_EINVAL when no capacitor network realises A, with a message
 * naming the first failing row and the diagonal shift s that would make
 * A + s I realisable (*shift, may be NULL; 0 when realisable). */
int th_spu_realise(const double *A, size_t d, th_spu_mapping *mapping, double *u,
                   double *shift);

/* The Maxwell capacitance matrix C (cells, cells) of self capacitances
 * self (cells) and coupling capacitances coupling (cells, cells; symmetric,
 * diagonal ignored): C_ii = self_i + sum_j coupling_ij, C_ij = -coupling_ij. */
void th_spu_maxwell(const double *self, const double *coupling, size_t cells, double *C);

/* One programmed SPU. */
typedef struct th_spu {
    th_spu_params params;
    th_spu_mapping mapping;
    size_t d;          /* problem dimension */
    size_t cells;      /* RLC cells (d, or 2d when DOUBLED); d when overdamped */
    size_t n;          /* state dimension: 2 cells (RLC), d (overdamped) */
    double *M;         /* (n, n) drift */
    double *c;         /* (n) constant drive (overdamped: b) */
    double *G;         /* (n, n) noise matrix; Q = G G^T */
    double *readout;   /* (d, n) x = readout z */
    double *b;         /* (d) right-hand side when given, else NULL */
    double *u;         /* (d) the scaling D = diag(u) (1 when DIRECT) */
    double *cap;       /* (cells, cells) Maxwell matrix as built, F (RLC); NULL otherwise */
    double *A_hw;      /* (d, d) overdamped: A as realised by imprecise parts */
    double alpha;      /* farads per unit of the scaled matrix (RLC) */
    double cov_scale;  /* Cov(x) = cov_scale A^-1 for exact parts: kappa0 r / alpha, or 1 */
    double tau;        /* slowest relaxation time: 1 / min Re eig(M) */
    double tau_fast;   /* fastest: 1 / max |eig(M)| */
    int general_drift; /* 1: built by th_spu_alloc_lyap (A need not be symmetric) */
} th_spu;

/* Programs A (d, d) symmetric positive definite (and b (d) or NULL) into an
 * SPU; with imprecise parts the hardware realises a nearby matrix. NULL on
 * failure: not realisable (RLC), not positive definite, bad parameters. */
th_spu *th_spu_alloc(const th_spu_params *p, const double *A, const double *b, size_t d);

/* The overdamped SPU for the Lyapunov equation A S + S A^T = D: drift A
 * (d, d), any matrix whose eigenvalues have positive real parts (symmetric
 * or not), noise G = chol(D), D (d, d) symmetric positive definite; its
 * stationary covariance is S. Component imprecision does not apply. */
th_spu *th_spu_alloc_lyap(const double *A, const double *D, size_t d);
void th_spu_free(th_spu *s);

/* The stationary mean (d) and covariance (d, d) of the readout of s, from a
 * Lyapunov solve: the infinite-time answer of this (possibly imprecise)
 * hardware. Either output may be NULL. */
int th_spu_stationary(const th_spu *s, double *mean, double *cov);

/* ------------------------------------ thermodynamic algorithms (tla.c) */

typedef enum th_tla_integrator {
    TH_TLA_EXACT = 0, /* exact OU transition over each sampling interval */
    TH_TLA_EULER = 1  /* Euler-Maruyama steps of dt */
} th_tla_integrator;

/* The protocol of one run, in the model's time unit (s, or 1/gamma). Zero
 * fields take defaults from the SPU's relaxation time tau. */
typedef struct th_tla_protocol {
    double time;            /* averaging time per chain (required, > 0) */
    double burn_in;         /* discarded start of each chain: 0 = 20 tau */
    double sample_interval; /* time between recorded states: 0 = tau / 2 */
    double dt;              /* Euler step: 0 = min(interval, tau_fast) / 20 */
    size_t chains;          /* independent chains side by side: 4 */
    size_t batches;         /* consecutive windows for batch means: 16 (>= 2) */
    th_tla_integrator integrator;
    uint64_t seed;          /* noise seed: 1 */
    size_t lambda_nodes;    /* logdet: Gauss-Legendre nodes in lambda: 12 */
    double a0;              /* logdet: reference A0 = a0 I: 0 = tr(A) / d */
} th_tla_protocol;

th_tla_protocol th_tla_protocol_default(void);

/* What an algorithm returns: the estimate, its batch-means standard error
 * entry by entry, and the simulated hardware time it took. */
typedef struct th_tla_result {
    size_t rows, cols;
    double *estimate;  /* (rows, cols) */
    double *std_error; /* (rows, cols) */
    double error;      /* sqrt(sum std_error^2): the estimated Frobenius error */
    double sim_time;   /* total simulated time: chains x (burn-in + time), summed over
                          lambda nodes and copies */
    size_t samples;    /* states averaged */
} th_tla_result;

void th_tla_result_free(th_tla_result *r); /* frees the arrays; NULL-safe */

/* Gaussian sampling: s programmed with the precision P = S^-1 of the target
 * N(m, S). samples (n_samples, d) or NULL receives x / sqrt(cov_scale) + m
 * (m (d) may be NULL = 0), taken every sample interval after the burn-in,
 * chain by chain at each time; r gets the sample covariance estimate of S. */
int th_tla_sample(const th_spu *s, const th_tla_protocol *p, const double *m,
                  size_t n_samples, double *samples, th_tla_result *r);

/* A x = b (s built with b): overdamped, the time average of x (first
 * moment); RLC, whose inductors pin the mean voltage at 0, the second
 * moment <x x^T> b / cov_scale. r: (d, 1). */
int th_tla_solve(const th_spu *s, const th_tla_protocol *p, th_tla_result *r);

/* A^-1 = <x x^T> / cov_scale (s built without b). r: (d, d). */
int th_tla_inverse(const th_spu *s, const th_tla_protocol *p, th_tla_result *r);

/* ln det A by thermodynamic integration (a free-energy difference) from
 * A0 = a0 I to A along A(lambda) = (1 - lambda) A0 + lambda A:
 * ln det A = d ln a0 + int_0^1 <x^T (A - A0) x>_lambda / cov_scale dlambda,
 * Gauss-Legendre in lambda, one SPU programmed per node. r: (1, 1). */
int th_tla_logdet(const th_spu_params *hw, const double *A, size_t d,
                  const th_tla_protocol *p, th_tla_result *r);

/* A S + S A^T = D from s = th_spu_alloc_lyap(A, D): S = <x x^T>. r: (d, d). */
int th_tla_lyap(const th_spu *s, const th_tla_protocol *p, th_tla_result *r);

/* Error mitigation: merges the results of k runs on independently
 * mismatched copies (same shape) into out: the mean estimate, and the
 * standard error from the spread between copies (which holds both the
 * noise and the copies' own errors) or from the runs' own errors when
 * larger; sim_time summed. */
int th_tla_merge(const th_tla_result *runs, size_t k, th_tla_result *out);

/* end of section linalg */

/* ================================================= data-parallel runs (par) */

/* end of section par */

#ifdef __cplusplus
}
#endif
#endif /* THERMO_H */
