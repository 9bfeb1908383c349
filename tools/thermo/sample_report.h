/* sample_report.h - thermo sample's parameters and its text (sample_report.c):
 * the help and the report on stdout. */
#ifndef THERMO_SAMPLE_REPORT_H
#define THERMO_SAMPLE_REPORT_H

#include "thermo.h"
#include "tool.h"

/* The PRL's 784 + 512 unit computer gives about this much heat per sample
 * (science.md section 2), a reference point for the report. */
#define PRL_HEAT_KT 2.9e3

typedef struct sample_params {
    const char *model;     /* the model file */
    size_t n;              /* samples; 0 = not given */
    const char *out;       /* the PNG */
    const char *seed_text; /* NULL = the model's gen.seed */
    uint64_t first;        /* index of the first sample */
    size_t columns;        /* pictures across the grid */
    size_t magnify;        /* PNG pixels per picture pixel, each way */
    const char *heat;      /* CSV of the heat per sample; NULL = none */
    size_t threads;        /* 0 = leave OpenMP and OpenBLAS as they are */
    int quiet;
    int preview;
    const char *class_text; /* --class: NULL = the even mixture of the classes */
    const char *save;       /* samples file for thermo eval; NULL = none */
    int precision;          /* th_precision of the coupling products */
    int phase1;             /* th_gen_phase1 */
    tool_hw hwo;            /* the hardware options; hwo.hw what they say */
    const char *readout_text; /* --readout-window: NULL = the model's (0 when none) */
    size_t readout_window;  /* what the samples are read with */
} sample_params;

typedef struct sample_result {
    double wall;                /* seconds spent in th_gen_sample_dist */
    th_heat_stats heat;         /* per sample, in kT */
    th_heat_stats work;         /* switching work per sample, protocols of 2+ segments */
} sample_result;

void sample_print_help(const tool_opt *opts, size_t n_opts);
void sample_print_report(const sample_params *p, const th_gen_params *gp, const th_model *m,
                         const th_gen_picture *pl, const sample_result *res);

#endif
