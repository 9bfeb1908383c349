/* eval_report.c - thermo eval's two renderings of a report (eval_report.h):
 * the readable table on stdout and the JSON file. */
#include "eval_report.h"
#include "eval_verdicts.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *eval_data_folder(const char *data)
{
    if (strcmp(data, "mnist") == 0) return "data/mnist";
    if (strcmp(data, "fashion") == 0) return "data/fashion";
    return data;
}

static cJSON *quantiles_json(const double *q)
{
    static const char *const names[TH_EVAL_QUANTILES] = {"min", "q10", "median", "q90", "max"};
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < TH_EVAL_QUANTILES; k++) cJSON_AddNumberToObject(o, names[k], q[k]);
    return o;
}

int eval_write_json(const char *path, const eval_params *p, const th_eval_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    if (p->samples) cJSON_AddStringToObject(root, "samples_file", p->samples);
    if (p->model) cJSON_AddStringToObject(root, "model", p->model);
    cJSON_AddStringToObject(root, "judge", p->judge);
    cJSON_AddStringToObject(root, "data", eval_data_folder(p->data));
    cJSON_AddNumberToObject(root, "samples", (double)r->count);
    cJSON_AddNumberToObject(root, "judge_test_accuracy", r->judge_accuracy);
    cJSON_AddNumberToObject(root, "inverted_share", r->inverted_share);
    cJSON_AddBoolToObject(root, "uninverted", r->uninverted);
    cJSON_AddItemToObject(root, "judged_histogram", eval_counts_json(r->predicted, r->n_classes));
    cJSON_AddNumberToObject(root, "entropy_nats", r->entropy);
    cJSON_AddNumberToObject(root, "entropy_share", r->entropy_share);
    if (r->has_classes) {
        cJSON *c = cJSON_AddObjectToObject(root, "conditional");
        cJSON_AddNumberToObject(c, "mean_accuracy", r->conditional_accuracy);
        cJSON_AddItemToObject(c, "requested", eval_counts_json(r->requested, r->n_classes));
        cJSON_AddItemToObject(c, "granted", eval_counts_json(r->granted, r->n_classes));
    }
    eval_json_verdicts(root, r, p->mlp_judge);
    cJSON *f = cJSON_AddObjectToObject(root, "frechet");
    cJSON_AddNumberToObject(f, "distance", r->frechet);
    cJSON_AddNumberToObject(f, "floor", r->frechet_floor);
    cJSON_AddNumberToObject(f, "feature_dim", (double)r->feature_dim);
    cJSON_AddNumberToObject(f, "test_images", (double)r->frechet_test_count);
    cJSON *m = cJSON_AddObjectToObject(root, "nearest_training_image");
    cJSON_AddNumberToObject(m, "samples_mean", r->nearest_mean);
    cJSON_AddItemToObject(m, "samples_quantiles", quantiles_json(r->nearest_q));
    cJSON_AddNumberToObject(m, "test_images_mean", r->reference_mean);
    cJSON_AddItemToObject(m, "test_images_quantiles", quantiles_json(r->reference_q));
    cJSON_AddNumberToObject(m, "test_images", (double)r->reference_count);
    if (r->has_heat) cJSON_AddNumberToObject(root, "heat_per_sample_kT", r->heat_mean);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    int rc = text ? tool_write_text(path, text) : -1;
    free(text);
    return rc;
}

void eval_print_report(const eval_params *p, const th_eval_report *r)
{
    const size_t k = r->n_classes;
    printf("samples   %zu from %s\n", r->count, p->model ? p->model : p->samples);
    tool_hw_print("hardware  ", &p->hwo.hw, 0);
    eval_print_judges(r, p->judge, p->mlp_judge);
    printf("inverted  %.1f%% of the samples (border brighter than the image mean)%s\n",
           100 * r->inverted_share, r->uninverted ? ", negated before judging" : "");
    if (r->has_classes) {
        printf("condition mean accuracy %.1f%% over the requested classes (judge, %.2f%% on real "
               "images)", 100 * r->conditional_accuracy, 100 * r->judge_accuracy);
        if (r->has_second)
            printf("; %.1f%% by the mlp judge (%.2f%%)", 100 * r->second_conditional_accuracy,
                   100 * r->second_accuracy);
        printf("\n          class:    ");
        for (size_t c = 0; c < k; c++) printf("%6zu", c);
        printf("\n");
        eval_print_row("asked:", r->requested, k);
        eval_print_row("granted:", r->granted, k);
        if (r->has_second) eval_print_row("mlp:", r->second_granted, k);
        eval_print_mistaken(r);
    }
    printf("judged    ");
    for (size_t c = 0; c < k; c++) printf("%s%zu: %zu", c ? ", " : "", c, r->predicted[c]);
    printf("\n          entropy %.3f nats, %.1f%% of ln %zu (judge)", r->entropy,
           100 * r->entropy_share, k);
    if (r->has_second) printf("; %.1f%% by the mlp judge", 100 * r->second_entropy_share);
    printf("\n");
    eval_print_verdicts(r);
    printf("frechet   %.2f (samples vs %zu test images; %zu judge features); floor %.2f "
           "(real training images vs the same test images)\n", r->frechet,
           r->frechet_test_count, r->feature_dim, r->frechet_floor);
    printf("nearest   training image at distance %.2f on average (median %.2f); real test "
           "images: %.2f (median %.2f)\n", r->nearest_mean, r->nearest_q[2], r->reference_mean,
           r->reference_q[2]);
    if (r->has_heat) printf("heat      %.4g kT per sample\n", r->heat_mean);
    if (p->json) printf("json      %s\n", p->json);
}
