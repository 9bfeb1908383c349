/* cmd_classifier.c - thermo classifier: train and evaluate the digital
 * networks thermo needs beside its thermodynamic computers.
 *
 *  - judge: a 784-512-256-10 ReLU network on standardised images (zero mean,
 *    unit variance per image: the scale of the generator's visible units,
 *    science.md section 2). thermo eval uses it to classify generated images
 *    and its 256 penultimate features for the Frechet distance.
 *  - teacher: the 784-32-32-10 tanh network of Whitelam's PNAS paper on its
 *    inputs (pixel/255, standardised by the MNIST mean and std, rescaled to
 *    the largest norm of the training set; science.md section 3), whose
 *    activations a thermodynamic classifier learns to imitate.
 *
 * Training uses the training split only; the test split is used only to
 * report accuracy (after each epoch and at the end), never to choose
 * anything that is saved. */
#include "thermo.h"
#include "tool.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "classifier"

void openblas_set_num_threads(int num_threads);

enum { ARCH_JUDGE, ARCH_TEACHER };
static const char *const arch_names[] = {"judge", "teacher", NULL};

/* The presets. The judge's widths and epochs reach 98% on MNIST and 88% on
 * Fashion-MNIST test images (README, section eval); the teacher is the
 * paper's network (97.3% in the paper). */
typedef struct arch_preset {
    int n_layers;
    size_t width[4];
    th_activation act;
    th_image_input input;
    size_t epochs, batch;
    double lr, weight_decay;
} arch_preset;

static const arch_preset presets[] = {
    [ARCH_JUDGE] = {3, {784, 512, 256, 10}, TH_ACT_RELU, TH_INPUT_STANDARDISED, 12, 128, 1e-3,
                    0.0},
    [ARCH_TEACHER] = {3, {784, 32, 32, 10}, TH_ACT_TANH, TH_INPUT_PNAS, 40, 64, 2e-3, 2e-3},
};

typedef struct classifier_params {
    const char *data;
    int arch;
    const char *out;
    const char *model;
    size_t epochs;     /* 0 = the preset's */
    size_t batch;      /* 0 = the preset's */
    double lr;         /* 0 = the preset's */
    double weight_decay; /* < 0 = the preset's */
    size_t hidden;     /* teacher: width of both hidden layers; 0 = the preset's */
    uint64_t seed;
    size_t limit;      /* 0 = every image */
    size_t threads;
    const char *json;
    int quiet;
} classifier_params;

static void print_help(void)
{
    printf("usage: thermo classifier train --data mnist|fashion|DIR --arch judge|teacher --out FILE\n"
           "                              [options]\n"
           "       thermo classifier eval --model FILE --data mnist|fashion|DIR [options]\n"
           "\n"
           "Digital networks beside the thermodynamic computers:\n"
           "  judge    784-512-256-10 ReLU on standardised images (zero mean, unit variance\n"
           "           per image, the scale of the generator's visible units); thermo eval\n"
           "           scores generated images with it\n"
           "  teacher  784-32-32-10 tanh on the PNAS inputs (pixel/255, (v - 0.13066) /\n"
           "           0.30811, each image rescaled to the largest norm of the training set),\n"
           "           the teacher of the thermodynamic classifier (Whitelam, PNAS 2026)\n"
           "\n"
           "train fits the network to the training split with Adam and a cosine learning\n"
           "rate, reports the test accuracy after each epoch (the test split is never used\n"
           "for training) and saves it atomically as safetensors. eval reports test-set\n"
           "accuracy, top-2 accuracy, per-class accuracy and the confusion matrix.\n"
           "\n"
           "--data mnist is data/mnist, --data fashion is data/fashion (thermo data fetch\n"
           "fashion), anything else a folder with train-* and t10k-* IDX files.\n"
           "\n"
           "options:\n"
           "  --data D         mnist, fashion or a folder (required)\n"
           "  --arch A         train: judge or teacher (required)\n"
           "  --out FILE       train: where to save the network (required)\n"
           "  --model FILE     eval: the network to evaluate (required)\n"
           "  --epochs N       train: passes over the training set (judge %zu, teacher %zu)\n"
           "  --batch N        train: examples per update (judge %zu, teacher %zu)\n"
           "  --lr X           train: Adam's initial learning rate (judge %g, teacher %g)\n"
           "  --weight-decay X train: L2 penalty X/2 |W|^2 on the weights (judge %g, teacher %g)\n"
           "  --hidden N       train, teacher: N units in each hidden layer (default 32)\n"
           "  --seed S         train: initialisation and shuffling (default 1)\n"
           "  --limit N        use only the first N images of each split (quick checks)\n"
           "  --json FILE      also write the results as JSON\n"
           "  --threads T      threads for OpenMP and OpenBLAS; results do not depend on it\n"
           "  --quiet          no progress bar, no per-epoch lines\n"
           "\n"
           "Exit status: 0 on success, 1 when the run fails, 2 for a command line that\n"
           "cannot be used.\n",
           presets[ARCH_JUDGE].epochs, presets[ARCH_TEACHER].epochs, presets[ARCH_JUDGE].batch,
           presets[ARCH_TEACHER].batch, presets[ARCH_JUDGE].lr, presets[ARCH_TEACHER].lr,
           presets[ARCH_JUDGE].weight_decay, presets[ARCH_TEACHER].weight_decay);
}

static const char *data_dir(const char *data)
{
    if (strcmp(data, "mnist") == 0) return "data/mnist";
    if (strcmp(data, "fashion") == 0) return "data/fashion";
    return data;
}

/* Loads split ("train" or "t10k") of --data, at most limit images. */
static th_dataset *load_split(const classifier_params *p, const char *split)
{
    th_dataset *d = NULL;
    if (th_dataset_load_dir(data_dir(p->data), split, &d) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
        if (strcmp(p->data, "fashion") == 0)
            fprintf(stderr, "Run 'thermo data fetch fashion' to fetch Fashion-MNIST into "
                            "data/fashion.\n");
        else if (strcmp(p->data, "mnist") == 0)
            fprintf(stderr, "Run 'thermo data fetch mnist' to fetch MNIST into data/mnist.\n");
        return NULL;
    }
    if (!d->labels) {
        fprintf(stderr, "thermo " CMD ": %s (%s): the images have no labels file; a classifier "
                        "needs them\n", data_dir(p->data), split);
        th_dataset_free(d);
        return NULL;
    }
    if (p->limit && p->limit < d->count) d->count = p->limit;
    return d;
}

/* -------------------------------------------------------------- report */

typedef struct eval_result {
    size_t count, classes;
    double accuracy, top2;
    size_t *confusion; /* (classes, classes) [true][predicted] */
} eval_result;

static int evaluate(const th_mlp *net, const th_dataset *test, eval_result *r)
{
    r->count = test->count;
    r->classes = net->width[net->n_layers];
    r->confusion = calloc(r->classes * r->classes, sizeof *r->confusion);
    if (!r->confusion) {
        fprintf(stderr, "thermo " CMD ": out of memory\n");
        return -1;
    }
    int rc = th_mlp_evaluate(net, test, 0, test->count, &r->accuracy, &r->top2, r->confusion);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        return -1;
    }
    return 0;
}

static void print_result(const eval_result *r)
{
    printf("test accuracy %.2f%% (%zu images), top-2 %.2f%%\n", 100 * r->accuracy, r->count,
           100 * r->top2);
    printf("class  images  accuracy\n");
    for (size_t c = 0; c < r->classes; c++) {
        size_t total = 0;
        for (size_t j = 0; j < r->classes; j++) total += r->confusion[c * r->classes + j];
        if (total)
            printf("%5zu %7zu  %7.2f%%\n", c, total,
                   100.0 * (double)r->confusion[c * r->classes + c] / (double)total);
        else
            printf("%5zu %7zu        -\n", c, total);
    }
    printf("confusion (rows: true class, columns: predicted)\n      ");
    for (size_t j = 0; j < r->classes; j++) printf("%6zu", j);
    printf("\n");
    for (size_t c = 0; c < r->classes; c++) {
        printf("%5zu ", c);
        for (size_t j = 0; j < r->classes; j++) printf("%6zu", r->confusion[c * r->classes + j]);
        printf("\n");
    }
}

static int write_json(const char *path, const eval_result *r, const char *model,
                      const char *data, double train_seconds)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model);
    cJSON_AddStringToObject(root, "data", data);
    cJSON_AddNumberToObject(root, "test_images", (double)r->count);
    cJSON_AddNumberToObject(root, "accuracy", r->accuracy);
    cJSON_AddNumberToObject(root, "top2", r->top2);
    if (train_seconds >= 0) cJSON_AddNumberToObject(root, "train_seconds", train_seconds);
    cJSON *per = cJSON_AddArrayToObject(root, "per_class_accuracy");
    cJSON *conf = cJSON_AddArrayToObject(root, "confusion");
    for (size_t c = 0; c < r->classes; c++) {
        size_t total = 0;
        cJSON *row = cJSON_CreateArray();
        for (size_t j = 0; j < r->classes; j++) {
            total += r->confusion[c * r->classes + j];
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)r->confusion[c * r->classes + j]));
        }
        cJSON_AddItemToArray(conf, row);
        cJSON_AddItemToArray(per, total ? cJSON_CreateNumber((double)r->confusion[c * r->classes
                                                                                  + c] /
                                                             (double)total)
                                        : cJSON_CreateNull());
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "thermo " CMD ": out of memory writing %s\n", path);
        return -1;
    }
    int rc = tool_write_text(path, text);
    free(text);
    if (rc != 0) fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
    return rc;
}

/* --------------------------------------------------------------- train */

typedef struct epoch_ctx {
    const classifier_params *p;
    const th_dataset *test;
    tool_progress *bar;
    double t0;
} epoch_ctx;

static int on_epoch(size_t epoch, double loss, const th_mlp *net, void *ctx)
{
    epoch_ctx *e = ctx;
    if (e->p->quiet) return 0;
    double acc = 0;
    if (th_mlp_evaluate(net, e->test, 0, e->test->count, &acc, NULL, NULL) != TH_OK) return 0;
    tool_progress_end(e->bar);
    fprintf(stderr, "epoch %3zu  loss %.4f  test accuracy %.2f%%  %.1f s\n", epoch + 1, loss,
            100 * acc, tool_now() - e->t0);
    return 0;
}

static int classifier_train(const classifier_params *p)
{
    arch_preset custom = presets[p->arch];
    if (p->hidden) custom.width[1] = custom.width[2] = p->hidden;
    const arch_preset *a = &custom;
    if (tool_folder_writable(CMD, p->out) != 0) return TOOL_EXIT_FAIL;
    th_dataset *train = load_split(p, "train");
    th_dataset *test = train ? load_split(p, "t10k") : NULL;
    th_mlp *net = NULL;
    float *X = NULL;
    eval_result r = {0};
    th_meta meta = {0};
    int status = TOOL_EXIT_FAIL;
    if (!train || !test) goto done;
    const size_t pix = train->rows * train->cols;
    if (pix != a->width[0]) {
        fprintf(stderr, "thermo " CMD ": %s: images of %zu x %zu pixels; the %s network takes "
                        "%zu inputs (28 x 28)\n", data_dir(p->data), train->rows, train->cols,
                arch_names[p->arch], a->width[0]);
        goto done;
    }
    net = th_mlp_alloc(a->n_layers, a->width, a->act);
    if (!net) {
        tool_fail_lib(CMD, TH_ENOMEM);
        goto done;
    }
    net->input = a->input;
    if (a->input == TH_INPUT_PNAS) net->input_norm = th_mlp_pnas_norm(train);
    th_mlp_init(net, p->seed);
    X = malloc(train->count * pix * sizeof *X); /* (count, pix) */
    if (!X) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu training images\n", train->count);
        goto done;
    }
    int rc = th_mlp_prepare(net, train, 0, train->count, X);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    th_mlp_train_params tp = th_mlp_train_params_default();
    tp.epochs = p->epochs ? p->epochs : a->epochs;
    tp.batch = p->batch ? p->batch : a->batch;
    tp.learning_rate = p->lr > 0 ? p->lr : a->lr;
    tp.weight_decay = p->weight_decay >= 0 ? p->weight_decay : a->weight_decay;
    tp.seed = p->seed;
    tool_progress bar;
    tool_progress_begin(&bar, "updates", p->quiet);
    epoch_ctx ec = {p, test, &bar, tool_now()};
    tp.progress = tool_progress_update;
    tp.progress_ctx = &bar;
    tp.on_epoch = on_epoch;
    tp.epoch_ctx = &ec;
    if (!p->quiet)
        fprintf(stderr, "training %s %zu-%zu-%zu-%zu on %zu images of %s: %zu epochs, batch "
                        "%zu, Adam lr %g (cosine), seed %llu\n", arch_names[p->arch],
                a->width[0], a->width[1], a->width[2], a->width[3], train->count,
                data_dir(p->data), tp.epochs, tp.batch, tp.learning_rate,
                (unsigned long long)p->seed);
    rc = th_mlp_train(net, X, train->labels, train->count, &tp, NULL);
    tool_progress_end(&bar);
    const double seconds = tool_now() - ec.t0;
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    if (evaluate(net, test, &r) != 0) goto done;
    th_meta_set(&meta, "train.arch", arch_names[p->arch]);
    th_meta_set(&meta, "train.data", p->data);
    th_meta_setf(&meta, "train.images", "%zu", train->count);
    th_meta_setf(&meta, "train.epochs", "%zu", tp.epochs);
    th_meta_setf(&meta, "train.batch", "%zu", tp.batch);
    th_meta_setf(&meta, "train.lr", "%.17g", tp.learning_rate);
    th_meta_set(&meta, "train.optimizer", "adam, cosine schedule");
    th_meta_setf(&meta, "train.seed", "%llu", (unsigned long long)p->seed);
    th_meta_setf(&meta, "train.seconds", "%.1f", seconds);
    th_meta_setf(&meta, "test.images", "%zu", test->count);
    th_meta_setf(&meta, "test.accuracy", "%.6f", r.accuracy);
    rc = th_mlp_save_meta(net, p->out, &meta);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("%s trained on %zu images of %s in %.1f s (%zu epochs)\n", arch_names[p->arch],
           train->count, data_dir(p->data), seconds, tp.epochs);
    print_result(&r);
    printf("saved %s\n", p->out);
    if (p->json && write_json(p->json, &r, p->out, p->data, seconds) != 0) goto done;
    status = TOOL_EXIT_OK;
done:
    th_meta_clear(&meta);
    free(r.confusion);
    free(X);
    th_mlp_free(net);
    th_dataset_free(train);
    th_dataset_free(test);
    return status;
}

/* ---------------------------------------------------------------- eval */

static int classifier_eval(const classifier_params *p)
{
    th_mlp *net = NULL;
    th_meta meta = {0};
    int rc = th_mlp_load_meta(p->model, &net, &meta);
    if (rc != TH_OK) {
        th_meta_clear(&meta);
        return tool_fail_lib(CMD, rc);
    }
    int status = TOOL_EXIT_FAIL;
    eval_result r = {0};
    th_dataset *test = load_split(p, "t10k");
    if (!test) goto done;
    if (test->rows * test->cols != net->width[0]) {
        fprintf(stderr, "thermo " CMD ": %s has %zu inputs (nn.widths); the images of %s have "
                        "%zu x %zu pixels\n", p->model, net->width[0], data_dir(p->data),
                test->rows, test->cols);
        goto done;
    }
    if (evaluate(net, test, &r) != 0) goto done;
    const char *trained = th_meta_get(&meta, "train.data");
    printf("%s: %zu", p->model, net->width[0]);
    for (int l = 1; l <= net->n_layers; l++) printf("-%zu", net->width[l]);
    printf(" %s, %s inputs%s%s\n", net->act == TH_ACT_RELU ? "ReLU" : "tanh",
           net->input == TH_INPUT_PNAS ? "PNAS" : "standardised",
           trained ? ", trained on " : "", trained ? trained : "");
    print_result(&r);
    if (p->json && write_json(p->json, &r, p->model, p->data, -1) != 0) goto done;
    status = TOOL_EXIT_OK;
done:
    free(r.confusion);
    th_dataset_free(test);
    th_mlp_free(net);
    th_meta_clear(&meta);
    return status;
}

/* --------------------------------------------------------------- entry */

int cmd_classifier(int argc, char **argv)
{
    if (argc < 2) return tool_usage_error(CMD, "expected a sub-command: train or eval");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        print_help();
        return TOOL_EXIT_OK;
    }
    const int is_train = strcmp(sub, "train") == 0;
    if (!is_train && strcmp(sub, "eval") != 0)
        return tool_usage_error(CMD, "unknown sub-command '%.200s': expected train or eval", sub);
    classifier_params p = {.arch = -1, .seed = 1, .weight_decay = -1};
    const tool_opt opts[] = {
        {"data", "D", TOOL_OPT_STRING, &p.data, NULL, "mnist, fashion or a folder", "none"},
        {"arch", "A", TOOL_OPT_CHOICE, &p.arch, arch_names, "judge or teacher", "none"},
        {"out", "FILE", TOOL_OPT_STRING, &p.out, NULL, "where to save the network", "none"},
        {"model", "FILE", TOOL_OPT_STRING, &p.model, NULL, "the network to evaluate", "none"},
        {"epochs", "N", TOOL_OPT_COUNT, &p.epochs, NULL, "passes over the data", "preset"},
        {"batch", "N", TOOL_OPT_COUNT, &p.batch, NULL, "examples per update", "preset"},
        {"lr", "X", TOOL_OPT_POSITIVE, &p.lr, NULL, "initial learning rate", "preset"},
        {"hidden", "N", TOOL_OPT_SIZE, &p.hidden, NULL,
         "teacher: width of both hidden layers (a larger pool for a larger student)", "32"},
        {"weight-decay", "X", TOOL_OPT_NONNEG, &p.weight_decay, NULL, "L2 penalty on weights",
         "preset"},
        {"seed", "S", TOOL_OPT_U64, &p.seed, NULL, "initialisation and shuffling", NULL},
        {"limit", "N", TOOL_OPT_COUNT, &p.limit, NULL, "first N images of each split", "all"},
        {"json", "FILE", TOOL_OPT_STRING, &p.json, NULL, "results as JSON", "none"},
        {"threads", "T", TOOL_OPT_COUNT, &p.threads, NULL, "OpenMP and OpenBLAS threads",
         "all cores"},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress output", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = tool_parse(CMD, opts, n_opts, argc - 1, argv + 1);
    if (rc == TOOL_PARSE_HELP) {
        print_help();
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    if (!p.data) return tool_usage_error(CMD, "%s: --data is required (mnist, fashion or a "
                                         "folder)", sub);
    if (p.threads) {
        omp_set_num_threads((int)p.threads);
        openblas_set_num_threads((int)p.threads);
    }
    if (is_train) {
        if (p.arch < 0) return tool_usage_error(CMD, "train: --arch is required (judge or "
                                                "teacher)");
        if (!p.out) return tool_usage_error(CMD, "train: --out FILE is required");
        if (p.model) return tool_usage_error(CMD, "train: --model belongs to eval; use --out");
        if (p.hidden && p.arch != ARCH_TEACHER)
            return tool_usage_error(CMD, "train: --hidden sets the teacher's widths; the judge's "
                                    "are fixed");
        return classifier_train(&p);
    }
    if (!p.model) return tool_usage_error(CMD, "eval: --model FILE is required");
    if (p.out || p.arch >= 0)
        return tool_usage_error(CMD, "eval: --out and --arch belong to train");
    return classifier_eval(&p);
}
