/* eval_verdicts.c - thermo eval's verdict of the earlier MLP judge beside
 * the convolutional judge's (where they differ by more than
 * TH_EVAL_DISAGREE points the report says DISAGREE), what the judge
 * mistakes each asked class for, and within-class diversity beside the real
 * training images', as text and JSON (docs/judge.md defines each). */
#include "eval_verdicts.h"

#include <math.h>
#include <stdio.h>

cJSON *eval_counts_json(const size_t *counts, size_t k)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t c = 0; c < k; c++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)counts[c]));
    return a;
}

void eval_json_verdicts(cJSON *root, const th_eval_report *r, const char *mlp_judge)
{
    const size_t k = r->n_classes;
    if (r->has_second) {
        cJSON *m = cJSON_AddObjectToObject(root, "mlp_judge");
        cJSON_AddStringToObject(m, "file", mlp_judge);
        cJSON_AddNumberToObject(m, "test_accuracy", r->second_accuracy);
        cJSON_AddItemToObject(m, "judged_histogram", eval_counts_json(r->second_predicted, k));
        cJSON_AddNumberToObject(m, "entropy_share", r->second_entropy_share);
        if (r->has_classes) {
            cJSON_AddNumberToObject(m, "conditional_accuracy", r->second_conditional_accuracy);
            cJSON_AddItemToObject(m, "granted", eval_counts_json(r->second_granted, k));
        }
        cJSON_AddNumberToObject(m, "agreement", r->agreement);
        cJSON_AddNumberToObject(m, "disagreement_points", r->disagreement);
        cJSON_AddBoolToObject(m, "disagree", r->disagree);
    }
    cJSON *c = cJSON_GetObjectItem(root, "conditional");
    if (c) {
        cJSON *conf = cJSON_AddArrayToObject(c, "confusion"); /* [asked][judged] */
        for (size_t a = 0; a < k; a++)
            cJSON_AddItemToArray(conf, eval_counts_json(r->confusion[a], k));
    }
    cJSON *d = cJSON_AddObjectToObject(root, "diversity");
    cJSON_AddNumberToObject(d, "samples", r->diversity); /* cJSON writes NaN as null */
    cJSON_AddNumberToObject(d, "real_training_images", r->diversity_real);
    cJSON_AddNumberToObject(d, "images_per_class", (double)r->diversity_count);
    cJSON_AddNumberToObject(d, "samples_blurred", r->diversity_blur);
    cJSON_AddNumberToObject(d, "real_blurred", r->diversity_blur_real);
    cJSON_AddBoolToObject(d, "grouped_by_judge", r->diversity_by_judge);
    cJSON_AddItemToObject(d, "per_class", cJSON_CreateDoubleArray(r->class_diversity, (int)k));
    cJSON_AddItemToObject(d, "per_class_real",
                          cJSON_CreateDoubleArray(r->class_diversity_real, (int)k));
}

void eval_print_judges(const th_eval_report *r, const char *judge, const char *mlp_judge)
{
    printf("judge     %s: %.2f%% on the real test images\n", judge, 100 * r->judge_accuracy);
    if (r->has_second)
        printf("mlp judge %s: %.2f%% on the real test images\n", mlp_judge,
               100 * r->second_accuracy);
    else
        printf("mlp judge none (--mlp-judge FILE; thermo classifier train --arch judge-mlp)\n");
}

void eval_print_row(const char *label, const size_t *v, size_t k)
{
    printf("          %-10s", label);
    for (size_t c = 0; c < k; c++) printf("%6zu", v[c]);
    printf("\n");
}

void eval_print_mistaken(const th_eval_report *r)
{
    int any = 0;
    for (size_t a = 0; a < r->n_classes; a++) {
        size_t worst = a == 0 ? 1 : 0;
        for (size_t j = 0; j < r->n_classes; j++)
            if (j != a && r->confusion[a][j] > r->confusion[a][worst]) worst = j;
        if (!r->requested[a] || 20 * r->confusion[a][worst] < r->requested[a]) continue;
        printf("%s%zu as %zu: %zu", any ? ", " : "          mistaken: ", a, worst,
               r->confusion[a][worst]);
        any = 1;
    }
    if (any) printf("\n");
}

/* x with 3 decimals in width w, or "-" where it is NaN (a class with
 * fewer than two images has no diversity). */
static void print_value(double x, int w)
{
    if (isnan(x)) printf("%*s", w, "-");
    else printf("%*.3f", w, x);
}

void eval_print_verdicts(const th_eval_report *r)
{
    const size_t k = r->n_classes;
    if (r->has_second)
        printf("verdicts  %s: the judges differ by %.1f points (%s); they put %.1f%% of the "
               "samples in the same class\n", r->disagree ? "DISAGREE" : "agree",
               r->disagreement, r->has_classes ? "conditional accuracy" :
               "class histograms, total variation", 100 * r->agreement);
    printf("diversity ");
    print_value(r->diversity, 0);
    printf(" within classes (%s, up to %zu a class); real training images ",
           r->diversity_by_judge ? "by the judge's classes" : "by the class asked for",
           r->diversity_count);
    print_value(r->diversity_real, 0);
    printf("\n          class:    ");
    for (size_t c = 0; c < k; c++) printf("%6zu", c);
    printf("\n          samples:  ");
    for (size_t c = 0; c < k; c++) print_value(r->class_diversity[c], 6);
    printf("\n          real:     ");
    for (size_t c = 0; c < k; c++) print_value(r->class_diversity_real[c], 6);
    printf("\n          after a 3x3 blur (shapes, not pixel noise): ");
    print_value(r->diversity_blur, 0);
    printf("; real ");
    print_value(r->diversity_blur_real, 0);
    printf("\n");
}
