/* cmd_eval.c - thermo eval: how good are the images a thermodynamic
 * computer generated? The samples file (thermo train writes
 * RUN/samples.safetensors; thermo sample --save) is judged by thermo's own
 * convolutional judge (thermo classifier train --arch judge), with the
 * earlier MLP judge's verdict beside it, against the real test set:
 * conditional accuracy, class histogram and its entropy, the contrast-
 * inverted share, within-class diversity beside the real data's, the
 * Frechet distance in the judge's penultimate features beside its floor
 * (real training images against the test set), the distance to the nearest
 * training image (memorisation) beside the same for real test images, and
 * the heat. A readable table, and JSON with --json. */
#include "eval_verdicts.h"
#include "thermo.h"
#include "tool.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "eval"

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
} eval_params;

static const char *data_folder(const char *data)
{
    if (strcmp(data, "mnist") == 0) return "data/mnist";
    if (strcmp(data, "fashion") == 0) return "data/fashion";
    return data;
}

/* The judges thermo classifier train saves by default: runs/judge-NAME
 * (prefix "judge") or runs/judge-mlp-NAME, for --data mnist or fashion. */
static const char *default_judge(const char *data, const char *prefix, char *buf, size_t size)
{
    if (strcmp(data, "mnist") != 0 && strcmp(data, "fashion") != 0) return NULL;
    snprintf(buf, size, "runs/%s-%s.safetensors", prefix, data);
    return buf;
}

static void print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo eval --samples FILE [--data mnist|fashion|DIR] [--judge FILE]\n"
           "                   [--mlp-judge FILE] [options]\n"
           "\n"
           "Judges generated images (a samples file from thermo train or thermo sample\n"
           "--save) with the convolutional judge (thermo classifier train --arch judge),\n"
           "and the earlier MLP judge (--arch judge-mlp) beside it, against the real images\n"
           "of --data, and reports, each judge with its own accuracy on the test images:\n"
           "  conditional accuracy  for samples asked for class c, the share judged c\n"
           "                        (per class and the mean over classes), by both judges;\n"
           "                        a difference above 5 points is flagged\n"
           "  class histogram       what the judge sees, and its entropy (share of ln 10)\n"
           "  inverted share        contrast-inverted samples: the mean of the border ring\n"
           "                        above the mean of the image\n"
           "  diversity             1 - mean pairwise correlation of the standardised\n"
           "                        images of a class (by the class asked for, else the\n"
           "                        judge's), averaged over classes, beside the real\n"
           "                        training images' value\n"
           "  Frechet distance      judge's penultimate features, samples vs test set,\n"
           "                        beside its floor: as many training images vs test set\n"
           "  nearest training image  distance per sample (memorisation), beside the same\n"
           "                        for real test images\n"
           "  heat                  mean heat per sample (kT), when the file has it\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
}

static cJSON *quantiles_json(const double *q)
{
    static const char *const names[TH_EVAL_QUANTILES] = {"min", "q10", "median", "q90", "max"};
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < TH_EVAL_QUANTILES; k++) cJSON_AddNumberToObject(o, names[k], q[k]);
    return o;
}

static int write_json(const char *path, const eval_params *p, const th_eval_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    cJSON_AddStringToObject(root, "samples_file", p->samples);
    cJSON_AddStringToObject(root, "judge", p->judge);
    cJSON_AddStringToObject(root, "data", data_folder(p->data));
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

static void print_report(const eval_params *p, const th_eval_report *r)
{
    const size_t k = r->n_classes;
    printf("samples   %zu from %s\n", r->count, p->samples);
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

int cmd_eval(int argc, char **argv)
{
    eval_params p = {.data = "mnist"};
    const tool_opt opts[] = {
        {"samples", "FILE", TOOL_OPT_STRING, &p.samples, NULL,
         "samples file (thermo train's RUN/samples.safetensors, thermo sample --save)", ""},
        {"judge", "FILE", TOOL_OPT_STRING, &p.judge, NULL,
         "judge network (thermo classifier train --arch judge)", "runs/judge-DATA.safetensors"},
        {"mlp-judge", "FILE", TOOL_OPT_STRING, &p.mlp_judge, NULL,
         "the earlier MLP judge, reported beside (--arch judge-mlp)",
         "runs/judge-mlp-DATA.safetensors when there"},
        {"data", "D", TOOL_OPT_STRING, &p.data, NULL,
         "real images: mnist (data/mnist), fashion (data/fashion) or a folder", NULL},
        {"json", "FILE", TOOL_OPT_STRING, &p.json, NULL, "also write the report as JSON",
         "none"},
        {"uninvert", NULL, TOOL_OPT_FLAG, &p.uninvert, NULL,
         "negate contrast-inverted samples before judging", NULL},
        {"diversity", "N", TOOL_OPT_COUNT, &p.diversity, NULL, "images a class for diversity",
         "100"},
        {"reference", "N", TOOL_OPT_SIZE, &p.reference, NULL,
         "real images for the floors", "as many as samples"},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress bar", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc;
    if (!tool_parse_or_help(CMD, opts, n_opts, argc, argv, print_help, &rc)) return rc;
    if (!p.samples) return tool_usage_error(CMD, "--samples FILE is required");
    char judge_buf[256], mlp_buf[256];
    if (!p.judge) p.judge = default_judge(p.data, "judge", judge_buf, sizeof judge_buf);
    if (!p.judge) return tool_usage_error(CMD, "--judge FILE is required with --data %s",
                                          p.data);
    if (!p.mlp_judge && (p.mlp_judge = default_judge(p.data, "judge-mlp", mlp_buf,
                                                     sizeof mlp_buf)) && access(p.mlp_judge, R_OK))
        p.mlp_judge = NULL; /* the default only where it is */
    if (p.json && tool_folder_writable(CMD, p.json) != 0) return TOOL_EXIT_FAIL;

    th_judge judge = {0}, mlp = {0};
    th_samples *s = NULL;
    th_dataset *train = NULL, *test = NULL;
    int exit_code = TOOL_EXIT_FAIL;
    if ((rc = th_judge_load(p.judge, &judge, NULL)) != TH_OK ||
        (p.mlp_judge && (rc = th_judge_load(p.mlp_judge, &mlp, NULL)) != TH_OK)) {
        tool_fail_lib(CMD, rc);
        if (!access(p.judge, R_OK)) goto done;
        fprintf(stderr, "thermo " CMD ": train it with: thermo classifier train --arch judge "
                        "--data %s --out %s\n", p.data, p.judge);
        goto done;
    }
    const size_t n_pix = th_judge_inputs(&judge), n_classes = th_judge_classes(&judge);
    if ((rc = th_samples_read(p.samples, n_pix, n_classes, &s)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    const char *folder = data_folder(p.data);
    if ((rc = th_dataset_load_dir(folder, "train", &train)) != TH_OK ||
        (rc = th_dataset_load_dir(folder, "t10k", &test)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        if (strcmp(p.data, "mnist") == 0 || strcmp(p.data, "fashion") == 0)
            fprintf(stderr, "thermo " CMD ": fetch it with: thermo data fetch %s\n", p.data);
        goto done;
    }
    if (train->rows * train->cols != n_pix || !test->labels) {
        fprintf(stderr, "thermo " CMD ": %s: images of %zu x %zu pixels with labels expected for "
                        "a judge of %zu inputs\n", folder, train->rows, train->cols, n_pix);
        goto done;
    }
    th_eval_params ep = th_eval_params_default();
    ep.uninvert = p.uninvert;
    ep.reference_count = p.reference;
    ep.second = p.mlp_judge ? &mlp : NULL;
    ep.diversity_count = p.diversity;
    tool_progress bar;
    tool_progress_begin(&bar, "nearest images", p.quiet);
    ep.progress = tool_progress_update;
    ep.progress_ctx = &bar;
    th_eval_report r;
    rc = th_eval_samples(&judge, s, train, test, &ep, &r);
    tool_progress_end(&bar);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    /* Under mpirun every rank computes the same report (it takes seconds);
     * rank 0 alone writes it. */
    if (p.json && th_dist_rank() == 0 && write_json(p.json, &p, &r) != 0) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write\n", p.json);
        goto done;
    }
    print_report(&p, &r);
    exit_code = TOOL_EXIT_OK;
done:
    th_dataset_free(train);
    th_dataset_free(test);
    th_samples_free(s);
    th_judge_free(&judge);
    th_judge_free(&mlp);
    return exit_code;
}
