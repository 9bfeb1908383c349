/* eval_report.h - thermo eval's parameters and its renderings
 * (eval_report.c): the table on stdout and the JSON file. */
#ifndef THERMO_EVAL_REPORT_H
#define THERMO_EVAL_REPORT_H

#include "thermo.h"
#include "tool.h"

typedef struct eval_params {
    const char *samples;
    const char *judge;
    const char *mlp_judge;
    const char *data;
    const char *json;
    int uninvert;
    size_t reference;
    size_t diversity;
    int quiet;
    const char *model;  /* generate instead of reading --samples */
    size_t n;
    tool_hw hwo;        /* the hardware options; hwo.hw what they say */
    const char *readout_text; /* with --model: --readout-window, NULL = the model's */
} eval_params;

/* The folder of --data: data/mnist, data/fashion, or the folder given. */
const char *eval_data_folder(const char *data);

/* The report as a table on stdout. */
void eval_print_report(const eval_params *p, const th_eval_report *r);

/* The report as JSON, written atomically to path; 0 or -1. */
int eval_write_json(const char *path, const eval_params *p, const th_eval_report *r);

#endif
