/* train_report.h - thermo train's text (train_report.c): its parameters,
 * what a run measured, the help, and the two renderings of a run, the
 * report on stdout and RUN/summary.json. */
#ifndef THERMO_TRAIN_REPORT_H
#define THERMO_TRAIN_REPORT_H

#include "thermo.h"
#include "tool.h"

/* The paper's published heat per generated sample (science.md section 2). */
#define PAPER_HEAT_KT 2.9e3
/* A sample "is" training digit j when its correlation with it is at least
 * this (and inverted when at most minus this); a stated, simple criterion. */
#define RECOGNISED_CORR 0.5

typedef struct train_params {
    th_gen_recipe r;
    int preset; /* index into th_gen_recipe_names() */
    const char *out, *compare;
    int resume, quiet;
    int phase1; /* th_gen_phase1 of the sampling after training */
    size_t threads;
    int precision; /* th_precision of the sampling after training */
    /* hardware-aware gradient descent (--aware-bits, --aware-mismatch):
     * aware.hw the device the gradient is taken at (th_hw_train_device) */
    tool_hw aware;
} train_params;

/* What the run measured, for the report and summary.json. */
typedef struct run_report {
    th_gen_exact_report exact;
    double styles_s; /* the style clusters (--styles) */
    double stats_s, solve_s, train_s, sample_s;
    double heat_mean, heat_sd;
    double work_mean, work_sd; /* switching work per sample, protocols of 2+ segments */
    size_t recognised[3], inverted[3], unrecognised;
} run_report;

/* train_run.c: "dir/name" into buf (-1 when it does not fit); the exact
 * solver's statistics and solve into pr; the samples, their heat and work,
 * the samples file and the pictures (rank 0 writes). */
int train_join(char *buf, size_t size, const char *dir, const char *name);
int train_exact(const train_params *p, const th_gen_params *gp, const th_gen_training_set *ts,
                th_gen_protocol *pr, run_report *g);
int train_generate(const train_params *p, const th_gen_params *gp,
                   const th_gen_training_set *ts, const th_gen_protocol *pr, float lo, float hi,
                   run_report *g);

/* The help: usage, the options, the presets. */
void train_print_help(const tool_opt *opts, size_t n_opts);
/* The text report on stdout. */
void train_describe(const train_params *p, const th_gen_params *gp, const double *loss,
                    const run_report *g);
/* summary.json: settings, losses, heat, recognisability, times; 0, or -1
 * with th_last_error() naming the file. */
int train_write_summary(const char *path, const train_params *p, const th_gen_params *gp,
                        const th_meta *settings, const double *loss, const run_report *g);

#endif
