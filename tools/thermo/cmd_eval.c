/* cmd_eval.c - thermo eval: how good are the images a thermodynamic
 * computer generated? The samples file (thermo train writes
 * RUN/samples.safetensors; thermo sample --save) is judged by thermo's own
 * classifier (thermo classifier train --arch judge) against the real test
 * set: conditional accuracy, class histogram and its entropy, the contrast-
 * inverted share, the Frechet distance in the judge's penultimate features
 * beside its floor (real training images against the test set), the
 * distance to the nearest training image (memorisation) beside the same for
 * real test images, and the heat. A readable table, and JSON with --json.
 * With --model and --n it generates the samples itself, on the hardware the
 * hardware options describe (th_hw_gen_samples, thermo/hw.h); a samples
 * file takes only the readout (--adc-bits), the rest acts while generating. */
#include "thermo.h"
#include "tool.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "eval"

typedef struct eval_params {
    const char *samples;
    const char *judge;
    const char *data;
    const char *json;
    int uninvert;
    size_t reference;
    int quiet;
    const char *model;  /* generate instead of reading --samples */
    size_t n;
    tool_hw hwo;        /* the hardware options; hwo.hw what they say */
} eval_params;

static const char *data_folder(const char *data)
{
    if (strcmp(data, "mnist") == 0) return "data/mnist";
    if (strcmp(data, "fashion") == 0) return "data/fashion";
    return data;
}

static void print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo eval --samples FILE --judge FILE [--data mnist|fashion|DIR] [options]\n"
           "       thermo eval --model FILE --n N --judge FILE [hardware options] [options]\n"
           "\n"
           "Judges generated images (a samples file from thermo train or thermo sample\n"
           "--save) with a judge network (thermo classifier train --arch judge) against the\n"
           "real images of --data, and reports:\n"
           "  conditional accuracy  for samples asked for class c, the share judged c\n"
           "                        (per class and the mean over classes)\n"
           "  class histogram       what the judge sees, and its entropy (share of ln 10)\n"
           "  inverted share        samples of negative pixel skewness (contrast-inverted)\n"
           "  Frechet distance      judge's penultimate features, samples vs test set,\n"
           "                        beside its floor: as many training images vs test set\n"
           "  nearest training image  distance per sample (memorisation), beside the same\n"
           "                        for real test images\n"
           "  heat                  mean heat per sample (kT), when the file has it\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
}

static cJSON *counts_json(const size_t *counts, size_t k)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t c = 0; c < k; c++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)counts[c]));
    return a;
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
    cJSON_AddStringToObject(root, p->model ? "model" : "samples_file",
                            p->model ? p->model : p->samples);
    cJSON_AddStringToObject(root, "judge", p->judge);
    cJSON_AddStringToObject(root, "data", data_folder(p->data));
    cJSON_AddNumberToObject(root, "samples", (double)r->count);
    cJSON_AddNumberToObject(root, "judge_test_accuracy", r->judge_accuracy);
    cJSON_AddNumberToObject(root, "inverted_share", r->inverted_share);
    cJSON_AddBoolToObject(root, "uninverted", r->uninverted);
    cJSON_AddItemToObject(root, "judged_histogram", counts_json(r->predicted, r->n_classes));
    cJSON_AddNumberToObject(root, "entropy_nats", r->entropy);
    cJSON_AddNumberToObject(root, "entropy_share", r->entropy_share);
    if (r->has_classes) {
        cJSON *c = cJSON_AddObjectToObject(root, "conditional");
        cJSON_AddNumberToObject(c, "mean_accuracy", r->conditional_accuracy);
        cJSON_AddItemToObject(c, "requested", counts_json(r->requested, r->n_classes));
        cJSON_AddItemToObject(c, "granted", counts_json(r->granted, r->n_classes));
    }
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

/* The samples to judge: generated by --model on the hardware, or read from
 * --samples and read through the ADC (range 2: standardised pixels). 0, or
 * -1 after printing why not. */
static int get_samples(const eval_params *p, size_t n_pix, size_t n_classes, th_samples **s)
{
    const th_hw *hw = &p->hwo.hw;
    if (!p->model) {
        int rc = th_samples_read(p->samples, n_pix, n_classes, s);
        if (rc != TH_OK) {
            tool_fail_lib(CMD, rc);
            return -1;
        }
        th_hw_adc_apply(hw->adc_bits, hw->adc_range > 0 ? hw->adc_range : 2, (*s)->images,
                        (*s)->count * n_pix);
        return 0;
    }
    th_model *m = NULL;
    th_meta meta = {0};
    th_gen_params gp;
    int rc = th_model_load(p->model, &m, &meta), bad = rc != TH_OK;
    if (bad) tool_fail_lib(CMD, rc);
    else if ((bad = th_gen_params_from_meta(&meta, &gp) != TH_OK || gp.n_visible != n_pix))
        fprintf(stderr, "thermo " CMD ": %s: expected a generator (thermo train) of %zu visible "
                        "units, the judge's inputs\n", p->model, n_pix);
    else if ((bad = (rc = th_hw_gen_samples(hw, m, &gp, p->n, s)) != TH_OK))
        tool_fail_lib(CMD, rc);
    th_meta_clear(&meta);
    th_model_free(m);
    return bad ? -1 : 0;
}

static void print_report(const eval_params *p, const th_eval_report *r)
{
    printf("samples   %zu from %s, judged by %s (%.2f%% on the real test images)\n", r->count,
           p->model ? p->model : p->samples, p->judge, 100 * r->judge_accuracy);
    tool_hw_print("hardware  ", &p->hwo.hw, 0);
    printf("inverted  %.1f%% of the samples have negative pixel skewness%s\n",
           100 * r->inverted_share, r->uninverted ? " (negated before judging)" : "");
    if (r->has_classes) {
        printf("condition mean accuracy %.1f%% over the requested classes\n",
               100 * r->conditional_accuracy);
        printf("          class:    ");
        for (size_t c = 0; c < r->n_classes; c++) printf("%6zu", c);
        printf("\n          asked:    ");
        for (size_t c = 0; c < r->n_classes; c++) printf("%6zu", r->requested[c]);
        printf("\n          granted:  ");
        for (size_t c = 0; c < r->n_classes; c++) printf("%6zu", r->granted[c]);
        printf("\n");
    }
    printf("judged    ");
    for (size_t c = 0; c < r->n_classes; c++) printf("%s%zu: %zu", c ? ", " : "", c, r->predicted[c]);
    printf("\n          entropy %.3f nats, %.1f%% of ln %zu\n", r->entropy,
           100 * r->entropy_share, r->n_classes);
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
    eval_params p = {.data = "mnist", .n = 1000, .hwo = tool_hw_default()};
    const tool_opt opts[] = {
        {"samples", "FILE", TOOL_OPT_STRING, &p.samples, NULL,
         "samples file (thermo train's RUN/samples.safetensors, thermo sample --save)", ""},
        {"judge", "FILE", TOOL_OPT_STRING, &p.judge, NULL,
         "judge network (thermo classifier train --arch judge)", ""},
        {"data", "D", TOOL_OPT_STRING, &p.data, NULL,
         "real images: mnist (data/mnist), fashion (data/fashion) or a folder", NULL},
        {"json", "FILE", TOOL_OPT_STRING, &p.json, NULL, "also write the report as JSON",
         "none"},
        {"uninvert", NULL, TOOL_OPT_FLAG, &p.uninvert, NULL,
         "negate contrast-inverted samples (negative skewness) before judging", NULL},
        {"reference", "N", TOOL_OPT_SIZE, &p.reference, NULL,
         "real images for the floors", "as many as samples"},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress bar", NULL},
        {"model", "FILE", TOOL_OPT_STRING, &p.model, NULL,
         "instead of --samples: generate them with this computer (on the hardware below)",
         "none"},
        {"n", "N", TOOL_OPT_COUNT, &p.n, NULL, "with --model: samples generated", NULL},
        TOOL_OPTS_HW(&p.hwo),
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc;
    if (!tool_parse_or_help(CMD, opts, n_opts, argc, argv, print_help, &rc)) return rc;
    if ((rc = tool_hw_get(CMD, &p.hwo)) != TOOL_EXIT_OK) return rc;
    if (!p.samples == !p.model)
        return tool_usage_error(CMD, "one of --samples FILE and --model FILE is required");
    const th_hw *hw = &p.hwo.hw;
    if (p.samples && (hw->bits || hw->mismatch || hw->kT_offset || hw->kT_drift || hw->tau_c))
        return tool_usage_error(CMD, "--bits, --mismatch, --dkT, --kT-drift, --tau-c act while "
                                "generating: give --model FILE instead of --samples");
    if (!p.judge) return tool_usage_error(CMD, "--judge FILE is required");
    if (p.json && tool_folder_writable(CMD, p.json) != 0) return TOOL_EXIT_FAIL;

    th_mlp *judge = NULL;
    th_samples *s = NULL;
    th_dataset *train = NULL, *test = NULL;
    int exit_code = TOOL_EXIT_FAIL;
    if ((rc = th_mlp_load(p.judge, &judge)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    if (judge->input != TH_INPUT_STANDARDISED || judge->n_layers < 2) {
        fprintf(stderr, "thermo " CMD ": %s: not a judge (expected a network of at least two "
                        "layers on standardised images: thermo classifier train --arch judge)\n",
                p.judge);
        goto done;
    }
    const size_t n_classes = judge->width[judge->n_layers];
    if (get_samples(&p, judge->width[0], n_classes, &s) != 0) goto done;
    const char *folder = data_folder(p.data);
    if ((rc = th_dataset_load_dir(folder, "train", &train)) != TH_OK ||
        (rc = th_dataset_load_dir(folder, "t10k", &test)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        if (strcmp(p.data, "mnist") == 0 || strcmp(p.data, "fashion") == 0)
            fprintf(stderr, "thermo " CMD ": fetch it with: thermo data fetch %s\n", p.data);
        goto done;
    }
    if (train->rows * train->cols != judge->width[0] || !test->labels) {
        fprintf(stderr, "thermo " CMD ": %s: images of %zu x %zu pixels with labels expected for "
                        "a judge of %zu inputs\n", folder, train->rows, train->cols,
                judge->width[0]);
        goto done;
    }
    th_eval_params ep = th_eval_params_default();
    ep.uninvert = p.uninvert;
    ep.reference_count = p.reference;
    tool_progress bar;
    tool_progress_begin(&bar, "nearest images", p.quiet);
    ep.progress = tool_progress_update;
    ep.progress_ctx = &bar;
    th_eval_report r;
    rc = th_eval_samples(judge, s, train, test, &ep, &r);
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
    th_mlp_free(judge);
    return exit_code;
}
