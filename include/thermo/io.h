/* thermo/io.h - files in and out: folders, IDX datasets, safetensors tensors and model files, PNG pictures and charts, Matrix Market matrices.
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_IO_H
#define THERMO_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "thermo/core.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* The atomic writer behind every file thermo writes, for programs of your
 * own too: th_atomic_open makes a temporary file beside path (creating
 * path's folder if needed), th_atomic_stream is where to write, and
 * th_atomic_commit flushes it to disk and renames it over path (TH_OK, or
 * TH_EIO naming path, the previous file untouched); th_atomic_abort drops
 * it. Commit and abort free the handle. */
typedef struct th_atomic_file th_atomic_file;
th_atomic_file *th_atomic_open(const char *path); /* NULL: TH_EIO/TH_ENOMEM */
FILE *th_atomic_stream(th_atomic_file *f);
int th_atomic_commit(th_atomic_file *f);
void th_atomic_abort(th_atomic_file *f);
/* text (a newline added when it lacks one) to path, atomically. */
int th_write_text_atomic(const char *path, const char *text);

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

/* ------------------------------------- dataset files and their checks */

/* SHA-256 of n bytes, or of a file's bytes, as 64 lowercase hex digits and a
 * NUL. th_sha256_file: TH_EIO naming the file when it cannot be read. */
void th_sha256(const void *data, size_t n, char hex[65]);
int th_sha256_file(const char *path, char hex[65]);

/* A file of a published dataset and the SHA-256 of its uncompressed bytes. */
typedef struct th_dataset_file {
    const char *name;
    const char *sha256;
} th_dataset_file;

/* MNIST's four IDX files, uncompressed (science.md section 7): training
 * images and labels, then test images and labels. */
#define TH_MNIST_FILES 4
extern const th_dataset_file th_mnist_files[TH_MNIST_FILES];

/* Whether the TH_MNIST_FILES files are in dir with their published SHA-256:
 * TH_OK; TH_EIO naming a file that is missing or unreadable; TH_EFORMAT
 * naming a file whose bytes differ, with both hashes. hex (TH_MNIST_FILES
 * rows, may be NULL) receives the hashes computed. */
int th_mnist_verify(const char *dir, char hex[][65]);

/* Puts MNIST into dir (created if needed) from the folder src holding the
 * four files, each raw or gzip compressed (src/NAME, else src/NAME.gz):
 * each is written uncompressed to a temporary file beside its target while
 * its SHA-256 is computed, and only when all four match are they renamed
 * into place, so a failure leaves dir as it was. TH_EIO (a file missing,
 * unreadable or unwritable) or TH_EFORMAT (a hash that differs, a corrupt
 * gzip stream) naming the file. hex as for th_mnist_verify. */
int th_mnist_install(const char *src, const char *dir, char hex[][65]);

/* Puts the files names (n) of folder src into dir (created if needed), each
 * as a symbolic link, or a copy where the file system has none, made under a
 * temporary name and renamed into place. TH_EIO naming the file. */
int th_dataset_link(const char *src, const char *dir, const char *const *names, size_t n);

/* What `thermo data info` reports about a split. */
typedef struct th_dataset_stats {
    size_t label_count[256]; /* images per label; all 0 without labels */
    size_t n_classes;        /* labels that occur */
    double mean_grey;        /* over every pixel, 0..255 */
} th_dataset_stats;

void th_dataset_stats_compute(const th_dataset *d, th_dataset_stats *out);

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
/* Sets every entry of src in dst, in src's order (th_meta_set each: an
 * existing key is replaced). dst may be NULL: nothing to do. */
int th_meta_merge(th_meta *dst, const th_meta *src);
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

/* ---------------------------------------------------------------- charts */

/* Every chart thermo draws (error against time, heat histograms, loss and
 * fit curves) goes through th_chart_draw: a title, two axes with titles,
 * ticks and numbers, linear or log scales, and series drawn as lines
 * (solid or dashed, with markers and error bars), histogram bars, or
 * horizontal and vertical reference lines, with a legend of the series that
 * have a label. Text uses a built-in 5 x 7 pixel font (printable ASCII), so
 * no font library is needed. */
typedef enum th_chart_scale {
    TH_CHART_LINEAR = 0,
    TH_CHART_LOG = 1 /* base 10: a tick, number and grid line per decade */
} th_chart_scale;

typedef struct th_chart_axis {
    th_chart_scale scale;
    const char *title; /* written along the axis; NULL: none */
    int fixed;         /* 1: the range is [lo, hi]; 0: from the data */
    double lo, hi;
    /* Range from the data: log, whole decades around it; linear, smallest
     * to largest value widened by pad times the span on each side (a single
     * value by 0.5 each side). */
    double pad;
    size_t ticks;      /* linear: evenly spaced ticks, ends included (< 2: none) */
    int numbers;       /* 1: the value at each tick ("0.25"; log "1e-3") */
    int grid;          /* 1: a light grey line across the plot at each tick */
} th_chart_axis;

typedef enum th_chart_kind {
    /* (x[k], y[k]) joined in order; a point that cannot be shown (not
     * finite, or <= 0 on a log axis) breaks the line. */
    TH_CHART_LINE = 0,
    /* A histogram: bar k spans [x[k], x[k + 1]) (x has n + 1 entries) from
     * the bottom of the plot up to y[k]; a non-empty bar is at least a pixel
     * tall, and bars 3 or more pixels wide leave a white column between. */
    TH_CHART_BARS = 1,
    /* Reference lines across the plot at each x[k] (VLINE) or y[k] (HLINE)
     * inside the range; they do not widen a range taken from the data. */
    TH_CHART_VLINE = 2,
    TH_CHART_HLINE = 3
} th_chart_kind;

typedef struct th_chart_series {
    th_chart_kind kind;
    const double *x, *y; /* VLINE reads only x, HLINE only y */
    size_t n;
    uint8_t rgb[3];
    int dashed;          /* 8 pixels on, 6 off */
    int markers;         /* LINE: a 7 x 7 square centred on each point */
    const double *err;   /* LINE: an error bar from y - err[k] to y + err[k]; NULL: none */
    size_t pen;          /* line width in pixels: 0 = 2 */
    const char *label;   /* legend entry; NULL: not in the legend */
} th_chart_series;

/* Where the legend goes, inside the plot area. */
typedef enum th_chart_legend {
    TH_LEGEND_TOP_RIGHT = 0,
    TH_LEGEND_TOP_LEFT = 1,
    TH_LEGEND_BOTTOM_LEFT = 2,
    TH_LEGEND_BOTTOM_RIGHT = 3
} th_chart_legend;

typedef struct th_chart {
    size_t width, height;        /* of the canvas */
    const char *title;           /* centred above the plot; NULL: none */
    th_chart_axis x, y;
    const th_chart_series *series;
    size_t n_series;             /* drawn in order, later ones on top */
    th_chart_legend legend;
} th_chart;

/* The plot area a chart's layout gives, inclusive pixel bounds, and the
 * ranges it maps: x = lo at column left and hi at column right (log axes
 * map log10 linearly), y = lo at row bottom and hi at row top. The axes
 * lie one pixel outside: column left - 1 and row bottom + 1. Margins: 12
 * pixels, plus room for ticks (4), numbers, axis titles and the title. */
typedef struct th_chart_frame {
    long left, right, top, bottom;
    double x_lo, x_hi, y_lo, y_hi;
} th_chart_frame;

/* Computes the frame of chart (ranges from its series where not fixed).
 * TH_EINVAL naming the axis when there is nothing finite to show (or
 * nothing > 0 on a log axis), a range lo >= hi, more than 40 decades, or a
 * canvas leaving less than 8 x 8 pixels of plot. */
int th_chart_layout(const th_chart *chart, th_chart_frame *frame);
/* The canvas column and row of a data point, rounded to the nearest pixel
 * (possibly outside the plot area). */
long th_chart_column(const th_chart *chart, const th_chart_frame *f, double x);
long th_chart_row(const th_chart *chart, const th_chart_frame *f, double y);

/* Draws the chart on a white canvas; NULL on failure (th_chart_layout's
 * reasons, or no memory). */
th_canvas *th_chart_draw(const th_chart *chart);

/* text in the chart font, black, its top-left corner at (x, y); rotated
 * reads bottom to top with (x, y) its bottom-left corner. Pixels outside
 * the canvas are dropped. The width in pixels of text: th_chart_text_width. */
void th_canvas_text(th_canvas *c, long x, long y, const char *text, int rotated);
long th_chart_text_width(const char *text);

/* A terminal preview of one grey image with Unicode shading (one character
 * per 2 x 1 pixels, from ' ' through light, medium and dark shade to full
 * block), lines ending in '\n'. Returns a malloc'd UTF-8 string. */
char *th_preview_utf8(const float *image, size_t rows, size_t cols, float lo, float hi);

#ifdef __cplusplus
}
#endif
#endif /* THERMO_IO_H */
