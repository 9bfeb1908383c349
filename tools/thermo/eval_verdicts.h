/* eval_verdicts.h - the parts of thermo eval's report that set the judge
 * beside the earlier MLP judge and the samples beside the real data
 * (eval_verdicts.c); cmd_eval.c renders the rest. */
#ifndef THERMO_TOOL_EVAL_VERDICTS_H
#define THERMO_TOOL_EVAL_VERDICTS_H

#include <cjson/cJSON.h>

#include "thermo.h"

/* counts (k) as a JSON array. */
cJSON *eval_counts_json(const size_t *counts, size_t k);
/* "mlp_judge" (when there was one), "diversity" and the conditional
 * confusion [asked][judged] into root (after its "conditional" object). */
void eval_json_verdicts(cJSON *root, const th_eval_report *r, const char *mlp_judge);

/* The "judge" and "mlp judge" lines, each with its test accuracy. */
void eval_print_judges(const th_eval_report *r, const char *judge, const char *mlp_judge);
/* One row of per-class counts under a label. */
void eval_print_row(const char *label, const size_t *v, size_t k);
/* "mistaken: 5 as 9: 58, ...": per class asked for, the judge's commonest
 * other class when it took at least 5% of the samples. */
void eval_print_mistaken(const th_eval_report *r);
/* The "verdicts" line (both judges) and the "diversity" block. */
void eval_print_verdicts(const th_eval_report *r);

#endif
