/* tool.h - what the files of the thermo command share: the commands, the
 * option tables and their strict parser, the progress bar, exit codes.
 *
 * The tool is the only layer that prints or exits. A command parses its
 * options into a parameter struct, calls the library, renders the result and
 * returns an exit status; main() returns that status. */
#ifndef THERMO_TOOL_H
#define THERMO_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include "thermo.h"

/* Exit statuses: 2 is the convention for a command line the tool could not
 * understand, 1 for a run that failed. */
enum {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_FAIL = 1,
    TOOL_EXIT_USAGE = 2
};

/* ------------------------------------------------------------ commands */

/* A command receives argv[0] = its own name and the arguments after it. */
typedef int (*tool_command_fn)(int argc, char **argv);

int cmd_simulate(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_energy(int argc, char **argv);
int cmd_classifier(int argc, char **argv);
int cmd_eval(int argc, char **argv);
/* commands of section nn */
int cmd_classify(int argc, char **argv);
/* commands of section classify */
int cmd_neuron(int argc, char **argv);
/* commands of section neuron */
int cmd_linalg(int argc, char **argv);
/* commands of section linalg */
int cmd_spice(int argc, char **argv);
int cmd_hardware(int argc, char **argv);

/* ------------------------------------------------------- text files */

/* Creates the output folder dir and its missing parents (mkdir -p); 0, or
 * TOOL_EXIT_FAIL after printing "thermo CMD: DIR: cannot create ...". */
int tool_make_folder(const char *cmd, const char *dir);

/* Writes text to path atomically (th_write_text_atomic), ending it with a
 * newline when it has none. 0, or -1 with th_last_error() naming the file
 * and the reason. */
int tool_write_text(const char *path, const char *text);

/* The readout window of a generator's samples (files.c): text (an option's
 * value) when given, else the model file's "sample.readout_window" (0 when
 * absent); at most the steps of the computing phase. 0, or -1 after
 * printing why not, naming the option or the file. */
int tool_readout_window(const char *cmd, const char *model, const th_meta *meta,
                        const char *text, size_t steps, size_t *out);

/* ------------------------------------------------------- samples file */

/* Writes the samples file that thermo eval reads (samples_file.c): images
 * (n, n_visible), the class each was asked for (classes[k]; NULL: the
 * default mixture (first + k) mod n_classes; -1 when unconditional) and
 * heat (n, or NULL). Returns a library status. */
/* classes NULL: sample k of class (first + k) mod the classes; latent:
 * every sample recorded as unconditional (-1), its class a latent code. */
int tool_save_samples(const char *path, const th_gen_params *gp, const float *images,
                      size_t n, uint64_t first, const int *classes, const double *heat,
                      int latent);

/* ------------------------------------------------------------- options */

typedef enum tool_opt_kind {
    TOOL_OPT_FLAG,     /* int, set to 1; takes no value */
    TOOL_OPT_REAL,     /* double, any finite value */
    TOOL_OPT_POSITIVE, /* double > 0, finite */
    TOOL_OPT_NONNEG,   /* double >= 0, finite */
    TOOL_OPT_COUNT,    /* size_t >= 1 */
    TOOL_OPT_SIZE,     /* size_t >= 0 (0 usually meaning "the default") */
    TOOL_OPT_U64,      /* uint64_t, any */
    TOOL_OPT_CHOICE,   /* int: index into choices */
    TOOL_OPT_STRING    /* const char *, non-empty (a path, a name) */
} tool_opt_kind;

/* One option of a command. The table drives both the parser and the help,
 * so that every option the parser accepts is documented with its default. */
typedef struct tool_opt {
    const char *name;           /* without the leading "--" */
    const char *metavar;        /* value placeholder in the help; NULL for flags */
    tool_opt_kind kind;
    void *dest;                 /* the parameter struct field, typed by kind */
    const char *const *choices; /* TOOL_OPT_CHOICE: NULL-terminated names */
    const char *help;           /* one line: what the option means */
    const char *default_text;   /* shown instead of *dest's value; NULL = the value */
} tool_opt;

/* tool_parse's outcome besides TOOL_EXIT_OK and TOOL_EXIT_USAGE. */
#define TOOL_PARSE_HELP (-1)

/* Parses argv[1..argc-1] of command cmd ("simulate") against the table:
 * "--name value" and "--name=value", later occurrences win. Returns
 * TOOL_EXIT_OK, TOOL_PARSE_HELP for -h/--help, or TOOL_EXIT_USAGE after
 * printing a message that names the option (and, for an unknown option, how
 * to get help). Fields of options that are not given keep their values. */
int tool_parse(const char *cmd, const tool_opt *opts, size_t n_opts,
               int argc, char **argv);

/* Prints the option table with each option's meaning and current value as
 * its default; call it before parsing. */
void tool_print_options(const tool_opt *opts, size_t n_opts);

/* "thermo CMD: <message>" and the hint to run --help; returns
 * TOOL_EXIT_USAGE. */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "thermo CMD: <th_last_error()>" (or th_strerror(rc) when the library left no
 * message); returns TOOL_EXIT_FAIL. */
int tool_fail_lib(const char *cmd, int rc);

/* tool_parse, then for -h/--help the command's help(opts, n_opts). Returns 1
 * when the command goes on; 0 when it is done, with *exit_code what it
 * returns (TOOL_EXIT_OK after the help, or the parse error's status). */
int tool_parse_or_help(const char *cmd, const tool_opt *opts, size_t n_opts, int argc,
                       char **argv, void (*help)(const tool_opt *, size_t), int *exit_code);

/* The most threads --threads takes: more is a typo, not a machine. */
#define TOOL_MAX_THREADS 4096

/* The --threads and --quiet of the commands that run the library's long
 * calls, worded once so that every command's help says the same. */
#define TOOL_OPT_THREADS(dest)                                                     \
    {"threads", "T", TOOL_OPT_COUNT, (dest), NULL,                                 \
     "threads for OpenMP and OpenBLAS; results do not depend on it",               \
     "OMP_NUM_THREADS or all cores"}
#define TOOL_OPT_QUIET(dest)                                                       \
    {"quiet", NULL, TOOL_OPT_FLAG, (dest), NULL,                                   \
     "no progress bar (it is drawn only on a terminal anyway)", NULL}

/* OpenMP and OpenBLAS both run on threads (> 0; 0 leaves their defaults),
 * so that one option sizes both pools. */
void tool_set_threads(size_t threads);
/* --threads checked against TOOL_MAX_THREADS (a usage error naming it,
 * TOOL_EXIT_USAGE) and then set (tool_set_threads); TOOL_EXIT_OK. */
int tool_use_threads(const char *cmd, size_t threads);

/* Makes the folder of the output file path (and its parents) when missing,
 * then checks that it takes new files, before a long run, so that an
 * unusable output path fails at once. 0, or -1 after printing. */
int tool_folder_writable(const char *cmd, const char *path);

/* Strict conversions of a whole string: no leading or trailing characters,
 * no NaN or infinity, no overflow. 0 on success, -1 otherwise. */
int tool_to_double(const char *text, double *out);
int tool_to_u64(const char *text, uint64_t *out);

/* ------------------------------------------------------ hardware model */

/* The hardware options (thermo/hw.h) of sample, eval, classify eval, neuron
 * curve and hardware sweep, one table block (TOOL_OPTS_HW) parsed into a
 * tool_hw and turned into a th_hw by tool_hw_get. */
typedef struct tool_hw {
    size_t bits, adc_bits; /* 0: not given (exact) */
    int scaling;           /* th_hw_scaling */
    double mismatch, kT_offset, kT_drift, tau_c, adc_range;
    uint64_t device;
    th_hw hw;              /* what they say, set by tool_hw_get */
} tool_hw;

extern const char *const tool_hw_scalings[]; /* "block", "row" */
tool_hw tool_hw_default(void);               /* the ideal computer */

#define TOOL_OPTS_HW(h)                                                                   \
    {"bits", "B", TOOL_OPT_COUNT, &(h)->bits, NULL,                                       \
     "hardware: couplings and biases quantised to B bits (symmetric, zero included)",     \
     "exact"},                                                                            \
    {"scale", "block|row", TOOL_OPT_CHOICE, &(h)->scaling, tool_hw_scalings,              \
     "hardware: one quantiser scale per coupling block or per unit's row", NULL},         \
    {"mismatch", "S", TOOL_OPT_NONNEG, &(h)->mismatch, NULL,                              \
     "hardware: relative sd of every J2, J4, mu, coupling and bias", NULL},               \
    {"device", "D", TOOL_OPT_U64, &(h)->device, NULL,                                     \
     "hardware: device seed of the mismatch draw", NULL},                                 \
    {"dkT", "D", TOOL_OPT_REAL, &(h)->kT_offset, NULL,                                    \
     "hardware: temperature offset, kT_device = kT (1 + D), D > -1", NULL},               \
    {"kT-drift", "R", TOOL_OPT_REAL, &(h)->kT_drift, NULL,                                \
     "hardware: kT drifts by R kT per unit time (1/mu)", NULL},                           \
    {"tau-c", "T", TOOL_OPT_NONNEG, &(h)->tau_c, NULL,                                    \
     "hardware: coloured thermal noise of correlation time T (0 = white)", NULL},         \
    {"adc-bits", "B", TOOL_OPT_COUNT, &(h)->adc_bits, NULL,                               \
     "hardware: outputs read through an ADC of B bits", "exact"},                         \
    {"adc-range", "X", TOOL_OPT_POSITIVE, &(h)->adc_range, NULL,                          \
     "hardware: the ADC reads [-X, X]", "the computer's own"}

/* Sets h->hw from the options; TOOL_EXIT_OK, or TOOL_EXIT_USAGE after a
 * message naming the option whose value the hardware cannot take. */
int tool_hw_get(const char *cmd, tool_hw *h);
/* The report line "<label><th_hw_describe>" (printed for the ideal too when
 * always is nonzero). */
void tool_hw_print(const char *label, const th_hw *hw, int always);

/* ------------------------------------------------------------ progress */

/* A progress bar on stderr with percentage, rate and time left. It draws
 * only when stderr is a terminal and the user did not ask for quiet, so that
 * logs and pipes stay clean. */
typedef struct tool_progress {
    int enabled;
    double start;       /* monotonic seconds at tool_progress_begin */
    double last_draw;   /* monotonic seconds of the last redraw */
    const char *what;   /* rate unit: "steps" */
    int drawn;          /* something is on the line and must be cleared */
} tool_progress;

void tool_progress_begin(tool_progress *p, const char *what, int quiet);
/* A th_progress_fn (th_run.progress and the others): ctx is a tool_progress.
 * Never asks to stop. */
int tool_progress_update(size_t done, size_t total, void *ctx);
/* Clears the line so that the report starts on a clean one. */
void tool_progress_end(tool_progress *p);

/* Monotonic wall-clock seconds. */
double tool_now(void);

#endif
