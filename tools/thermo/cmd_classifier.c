/* cmd_classifier.c - thermo classifier: train and evaluate the digital
 * networks thermo needs beside its thermodynamic computers, the judge that
 * thermo eval scores generated images with and the teacher of thermo
 * classify (th_mlp_preset_get, th_mlp_build, th_mlp_fit,
 * th_mlp_report_compute). Training uses the training split only; the test
 * split only reports accuracy, never chooses anything that is saved. */
#include "classifier.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD CLASSIFIER_CMD

/* Indexed by ARCH_*. */
static const char *const arch_names[] = {"judge", "teacher", "judge-mlp", NULL};

/* Returns TOOL_EXIT_OK, the status of asking for it. */
static int print_help(void)
{
    const th_mlp_preset judge = th_mlp_preset_get(TH_MLP_JUDGE);
    const th_mlp_preset teacher = th_mlp_preset_get(TH_MLP_TEACHER);
    const th_cnn_train_params cnn = th_cnn_train_params_default();
    printf("usage: thermo classifier train --data mnist|fashion|DIR --arch A --out FILE [options]\n"
           "       thermo classifier eval --model FILE --data mnist|fashion|DIR [options]\n"
           "\n"
           "Digital networks beside the thermodynamic computers (--arch A):\n"
           "  judge      the judge thermo eval scores generated images with: convolutions\n"
           "             5x5x32, 2x2 max pool, 5x5x64, pool, dense 256 ReLU, 10 classes, on\n"
           "             standardised images (zero mean, unit variance per image, the scale\n"
           "             of the generator's visible units), trained with augmentation: shifts\n"
           "             of whole pixels, Gaussian pixel noise, dropout\n"
           "  judge-mlp  the earlier judge, 784-512-256-10 ReLU on standardised images\n"
           "             (thermo eval reports its verdict beside the judge's)\n"
           "  teacher    784-32-32-10 tanh on the PNAS inputs (pixel/255, (v - 0.13066) /\n"
           "             0.30811, each image rescaled to the largest norm of the training\n"
           "             set), the teacher of the thermodynamic classifier (PNAS 2026)\n"
           "\n"
           "train fits the network to the training split with Adam and a cosine learning\n"
           "rate, reports the test accuracy after each epoch (the test split is never used\n"
           "for training) and saves it atomically as safetensors. eval reports test-set\n"
           "accuracy, top-2 accuracy, per-class accuracy and the confusion matrix.\n"
           "--data mnist is data/mnist, --data fashion is data/fashion (thermo data fetch\n"
           "fashion), anything else a folder with train-* and t10k-* IDX files.\n"
           "\n"
           "options (defaults: judge, judge-mlp, teacher):\n"
           "  --data D         mnist, fashion or a folder (required)\n"
           "  --arch A         train: judge, judge-mlp or teacher (required)\n"
           "  --out FILE       train: where to save the network (required)\n"
           "  --model FILE     eval: the network to evaluate (required)\n"
           "  --epochs N       train: passes over the training set (%zu, %zu, %zu)\n"
           "  --batch N        train: examples per update (%zu, %zu, %zu)\n"
           "  --lr X           train: Adam's initial learning rate (%g, %g, %g)\n"
           "  --weight-decay X train: L2 penalty X/2 |W|^2 on the weights (%g, %g, %g)\n"
           "  --shift N        train, judge: shifts of up to N pixels each way (%zu)\n"
           "  --noise X        train, judge: pixel noise sd up to X on %g of the images (%g)\n"
           "  --dropout X      train, judge: dropout rate of the dense layer (%g)\n"
           "  --hidden N       train, teacher: N units in each hidden layer (default 32)\n"
           "  --seed S         train: initialisation, shuffling, augmentation (default 1)\n"
           "  --limit N        use only the first N images of each split (quick checks)\n"
           "  --json FILE      also write the results as JSON\n"
           "  --threads T      threads for OpenMP and OpenBLAS; results do not depend on it\n"
           "  --quiet          no progress bar, no per-epoch lines\n"
           "\n"
           "Exit status: 0 on success, 1 when the run fails, 2 for a command line that\n"
           "cannot be used.\n",
           cnn.opt.epochs, judge.epochs, teacher.epochs, cnn.opt.batch, judge.batch,
           teacher.batch, cnn.opt.learning_rate, judge.learning_rate, teacher.learning_rate,
           cnn.opt.weight_decay, judge.weight_decay, teacher.weight_decay, cnn.shift,
           cnn.noise_share, cnn.noise, cnn.dropout);
    return TOOL_EXIT_OK;
}

/* --------------------------------------------------------------- train */

int classifier_epoch_line(classifier_epoch *e, size_t epoch, double loss, int status,
                          double acc)
{
    if (e->p->quiet || status != TH_OK) return 0;
    tool_progress_end(&e->bar);
    fprintf(stderr, "epoch %3zu  loss %.4f  test accuracy %.2f%%  %.1f s\n", epoch + 1, loss,
            100 * acc, tool_now() - e->t0);
    return 0;
}

static int on_epoch(size_t epoch, double loss, const th_mlp *net, void *ctx)
{
    classifier_epoch *e = ctx;
    double acc = 0;
    if (e->p->quiet) return 0;
    return classifier_epoch_line(
        e, epoch, loss, th_mlp_evaluate(net, e->test, 0, e->test->count, &acc, NULL, NULL), acc);
}

static int classifier_train(const classifier_params *p)
{
    th_mlp_preset a = th_mlp_preset_get(p->arch == ARCH_TEACHER ? TH_MLP_TEACHER : TH_MLP_JUDGE);
    if (p->hidden) a.width[1] = a.width[2] = p->hidden;
    if (tool_folder_writable(CMD, p->out) != 0) return TOOL_EXIT_FAIL;
    th_dataset *train = classifier_load_split(p, "train");
    th_dataset *test = train ? classifier_load_split(p, "t10k") : NULL;
    th_mlp *net = NULL;
    th_mlp_report r = {0};
    th_meta meta = {0};
    int status = TOOL_EXIT_FAIL, rc;
    if (!train || !test) goto done;
    if ((rc = th_mlp_build(&a, train, p->seed, &net)) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s: the %s network: %s\n", classifier_data_dir(p->data),
                arch_names[p->arch], th_last_error());
        goto done;
    }
    th_mlp_train_params tp = th_mlp_train_params_default();
    tp.epochs = p->epochs ? p->epochs : a.epochs;
    tp.batch = p->batch ? p->batch : a.batch;
    tp.learning_rate = p->lr > 0 ? p->lr : a.learning_rate;
    tp.weight_decay = p->weight_decay >= 0 ? p->weight_decay : a.weight_decay;
    tp.seed = p->seed;
    classifier_epoch ec = {.p = p, .test = test, .t0 = tool_now()};
    tool_progress_begin(&ec.bar, "updates", p->quiet);
    tp.progress = tool_progress_update;
    tp.progress_ctx = &ec.bar;
    tp.on_epoch = on_epoch;
    tp.epoch_ctx = &ec;
    if (!p->quiet)
        fprintf(stderr, "training %s %zu-%zu-%zu-%zu on %zu images of %s: %zu epochs, batch "
                        "%zu, Adam lr %g (cosine), seed %llu\n", arch_names[p->arch],
                a.width[0], a.width[1], a.width[2], a.width[3], train->count,
                classifier_data_dir(p->data), tp.epochs, tp.batch, tp.learning_rate,
                (unsigned long long)p->seed);
    rc = th_mlp_fit(net, train, &tp);
    tool_progress_end(&ec.bar);
    const double seconds = tool_now() - ec.t0;
    if (rc == TH_OK) rc = th_mlp_report_compute(net, test, &r);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    th_meta_set(&meta, "train.arch", arch_names[p->arch]);
    th_meta_set(&meta, "train.data", p->data);
    th_meta_setf(&meta, "train.seconds", "%.1f", seconds);
    th_meta_setf(&meta, "test.images", "%zu", test->count);
    th_meta_setf(&meta, "test.accuracy", "%.6f", r.accuracy);
    if ((rc = th_mlp_train_meta(&tp, train->count, &meta)) != TH_OK ||
        (rc = th_mlp_save_meta(p->out, net, &meta)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("%s trained on %zu images of %s in %.1f s (%zu epochs)\n", arch_names[p->arch],
           train->count, classifier_data_dir(p->data), seconds, tp.epochs);
    classifier_print_result(&r);
    printf("saved %s\n", p->out);
    if (p->json && classifier_write_json(p->json, &r, p->out, p->data, seconds) != 0) goto done;
    status = TOOL_EXIT_OK;
done:
    th_meta_clear(&meta);
    th_mlp_report_free(&r);
    th_mlp_free(net);
    th_dataset_free(train);
    th_dataset_free(test);
    return status;
}

/* ---------------------------------------------------------------- eval */

/* The network of a file of either kind: a CNN (thermo.kind "cnn") or an
 * MLP (a judge or a teacher). */
static int load_network(const char *path, th_judge *net, th_meta *meta)
{
    memset(net, 0, sizeof *net);
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc != TH_OK) return rc;
    const char *kind = th_meta_get(&f->meta, "thermo.kind");
    const int cnn = kind && strcmp(kind, "cnn") == 0;
    th_tensor_file_free(f);
    return cnn ? th_cnn_load_meta(path, &net->cnn, meta) : th_mlp_load_meta(path, &net->mlp, meta);
}

static void describe(const char *path, const th_judge *net, const char *trained)
{
    printf("%s: ", path);
    if (net->cnn) {
        const th_cnn_shape *s = &net->cnn->shape;
        for (int l = 0; l < s->n_conv; l++)
            printf("conv %zux%zux%zu%s, ", s->kernel, s->kernel, s->channels[l],
                   s->pool[l] ? " pool" : "");
        printf("dense %zu, %zu classes, standardised inputs", s->hidden, s->classes);
    } else {
        const th_mlp *m = net->mlp;
        printf("%zu", m->width[0]);
        for (int l = 1; l <= m->n_layers; l++) printf("-%zu", m->width[l]);
        printf(" %s, %s inputs", m->act == TH_ACT_RELU ? "ReLU" : "tanh",
               m->input == TH_INPUT_PNAS ? "PNAS" : "standardised");
    }
    printf("%s%s\n", trained ? ", trained on " : "", trained ? trained : "");
}

static int classifier_eval(const classifier_params *p)
{
    th_judge net;
    th_meta meta = {0};
    int rc = load_network(p->model, &net, &meta);
    if (rc != TH_OK) {
        th_meta_clear(&meta);
        return tool_fail_lib(CMD, rc);
    }
    int status = TOOL_EXIT_FAIL;
    th_mlp_report r = {0};
    th_dataset *test = classifier_load_split(p, "t10k");
    if (!test) goto done;
    if ((rc = th_judge_report_compute(&net, test, &r)) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s on %s: %s\n", p->model, classifier_data_dir(p->data),
                th_last_error());
        goto done;
    }
    describe(p->model, &net, th_meta_get(&meta, "train.data"));
    classifier_print_result(&r);
    if (p->json && classifier_write_json(p->json, &r, p->model, p->data, -1) != 0) goto done;
    status = TOOL_EXIT_OK;
done:
    th_mlp_report_free(&r);
    th_dataset_free(test);
    th_judge_free(&net);
    th_meta_clear(&meta);
    return status;
}

/* --------------------------------------------------------------- entry */

int cmd_classifier(int argc, char **argv)
{
    if (argc < 2) return tool_usage_error(CMD, "expected a sub-command: train or eval");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) return print_help();
    const int is_train = strcmp(sub, "train") == 0;
    if (!is_train && strcmp(sub, "eval") != 0)
        return tool_usage_error(CMD, "unknown sub-command '%.200s': expected train or eval", sub);
    classifier_params p = {.arch = -1, .seed = 1, .weight_decay = -1, .noise = -1,
                           .dropout = -1, .shift = SIZE_MAX};
    const tool_opt opts[] = {
        {"data", "D", TOOL_OPT_STRING, &p.data, NULL, "mnist, fashion or a folder", "none"},
        {"arch", "A", TOOL_OPT_CHOICE, &p.arch, arch_names, "judge, judge-mlp or teacher",
         "none"},
        {"out", "FILE", TOOL_OPT_STRING, &p.out, NULL, "where to save the network", "none"},
        {"model", "FILE", TOOL_OPT_STRING, &p.model, NULL, "the network to evaluate", "none"},
        {"epochs", "N", TOOL_OPT_COUNT, &p.epochs, NULL, "passes over the data", "preset"},
        {"batch", "N", TOOL_OPT_COUNT, &p.batch, NULL, "examples per update", "preset"},
        {"lr", "X", TOOL_OPT_POSITIVE, &p.lr, NULL, "initial learning rate", "preset"},
        {"hidden", "N", TOOL_OPT_SIZE, &p.hidden, NULL,
         "teacher: width of both hidden layers (a larger pool for a larger student)", "32"},
        {"weight-decay", "X", TOOL_OPT_NONNEG, &p.weight_decay, NULL, "L2 penalty on weights",
         "preset"},
        {"shift", "N", TOOL_OPT_SIZE, &p.shift, NULL, "judge: shifts", "preset"},
        {"noise", "X", TOOL_OPT_NONNEG, &p.noise, NULL, "judge: pixel noise", "preset"},
        {"dropout", "X", TOOL_OPT_NONNEG, &p.dropout, NULL, "judge: dropout", "preset"},
        {"seed", "S", TOOL_OPT_U64, &p.seed, NULL, "initialisation and shuffling", NULL},
        {"limit", "N", TOOL_OPT_COUNT, &p.limit, NULL, "first N images of each split", "all"},
        {"json", "FILE", TOOL_OPT_STRING, &p.json, NULL, "results as JSON", "none"},
        {"threads", "T", TOOL_OPT_COUNT, &p.threads, NULL, "OpenMP and OpenBLAS threads",
         "all cores"},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress output", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = tool_parse(CMD, opts, n_opts, argc - 1, argv + 1);
    if (rc == TOOL_PARSE_HELP) return print_help();
    if (rc != TOOL_EXIT_OK) return rc;
    if (!p.data) return tool_usage_error(CMD, "%s: --data is required (mnist, fashion or a "
                                         "folder)", sub);
    tool_set_threads(p.threads);
    if (is_train) {
        if (p.arch < 0) return tool_usage_error(CMD, "train: --arch is required (judge, "
                                                "judge-mlp or teacher)");
        if (!p.out) return tool_usage_error(CMD, "train: --out FILE is required");
        if (p.model) return tool_usage_error(CMD, "train: --model belongs to eval; use --out");
        if (p.hidden && p.arch != ARCH_TEACHER)
            return tool_usage_error(CMD, "train: --hidden sets the teacher's widths; the judge's "
                                    "are fixed");
        if (p.arch != ARCH_JUDGE && (p.shift != SIZE_MAX || p.noise >= 0 || p.dropout >= 0))
            return tool_usage_error(CMD, "train: --shift, --noise and --dropout belong to --arch "
                                    "judge");
        if (p.dropout >= 1) return tool_usage_error(CMD, "train: --dropout %g: expected below 1",
                                                    p.dropout);
        return p.arch == ARCH_JUDGE ? classifier_train_cnn(&p) : classifier_train(&p);
    }
    if (!p.model) return tool_usage_error(CMD, "eval: --model FILE is required");
    if (p.out || p.arch >= 0)
        return tool_usage_error(CMD, "eval: --out and --arch belong to train");
    return classifier_eval(&p);
}
