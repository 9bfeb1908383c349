/* classifier_cnn.c - thermo classifier train --arch judge: the convolutional
 * judge (th_cnn_judge_shape, th_cnn_init, th_cnn_train with augmentation,
 * th_judge_report_compute), and the test reports every classifier prints.
 * Training uses the training split only; the test split only reports. */
#include "classifier.h"
#include "tool.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD CLASSIFIER_CMD

const char *classifier_data_dir(const char *data)
{
    if (strcmp(data, "mnist") == 0) return "data/mnist";
    if (strcmp(data, "fashion") == 0) return "data/fashion";
    return data;
}

th_dataset *classifier_load_split(const classifier_params *p, const char *split)
{
    th_dataset *d = NULL;
    if (th_dataset_load_dir(classifier_data_dir(p->data), split, &d) != TH_OK) {
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
                        "needs them\n", classifier_data_dir(p->data), split);
        th_dataset_free(d);
        return NULL;
    }
    if (p->limit && p->limit < d->count) d->count = p->limit;
    return d;
}

/* -------------------------------------------------------------- report */

void classifier_print_result(const th_mlp_report *r)
{
    const size_t C = r->classes;
    printf("test accuracy %.2f%% (%zu images), top-2 %.2f%%\n", 100 * r->accuracy, r->count,
           100 * r->top2);
    printf("class  images  accuracy\n");
    for (size_t c = 0; c < C; c++) {
        if (r->class_count[c])
            printf("%5zu %7zu  %7.2f%%\n", c, r->class_count[c],
                   100.0 * (double)r->confusion[c * C + c] / (double)r->class_count[c]);
        else
            printf("%5zu %7zu        -\n", c, r->class_count[c]);
    }
    printf("confusion (rows: true class, columns: predicted)\n      ");
    for (size_t j = 0; j < C; j++) printf("%6zu", j);
    printf("\n");
    for (size_t c = 0; c < C; c++) {
        printf("%5zu ", c);
        for (size_t j = 0; j < C; j++) printf("%6zu", r->confusion[c * C + j]);
        printf("\n");
    }
}

int classifier_write_json(const char *path, const th_mlp_report *r, const char *model,
                          const char *data, double train_seconds)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model);
    cJSON_AddStringToObject(root, "data", data);
    cJSON_AddNumberToObject(root, "test_images", (double)r->count);
    cJSON_AddNumberToObject(root, "accuracy", r->accuracy);
    cJSON_AddNumberToObject(root, "top2", r->top2);
    if (train_seconds >= 0) cJSON_AddNumberToObject(root, "train_seconds", train_seconds);
    /* cJSON writes the NaN of a class without images as null */
    cJSON_AddItemToObject(root, "per_class_accuracy",
                          cJSON_CreateDoubleArray(r->class_accuracy, (int)r->classes));
    cJSON *conf = cJSON_AddArrayToObject(root, "confusion");
    for (size_t c = 0; c < r->classes; c++) {
        cJSON *row = cJSON_CreateArray();
        for (size_t j = 0; j < r->classes; j++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)r->confusion[c * r->classes + j]));
        cJSON_AddItemToArray(conf, row);
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

static int on_epoch(size_t epoch, double loss, const th_cnn *net, void *ctx)
{
    classifier_epoch *e = ctx;
    double acc = 0;
    if (e->p->quiet) return 0;
    return classifier_epoch_line(
        e, epoch, loss, th_cnn_evaluate(net, e->test, 0, e->test->count, &acc, NULL, NULL), acc);
}

int classifier_train_cnn(const classifier_params *p)
{
    if (tool_folder_writable(CMD, p->out) != 0) return TOOL_EXIT_FAIL;
    th_dataset *train = classifier_load_split(p, "train");
    th_dataset *test = train ? classifier_load_split(p, "t10k") : NULL;
    th_cnn *net = NULL;
    th_mlp_report r = {0};
    th_meta meta = {0};
    int status = TOOL_EXIT_FAIL, rc;
    if (!train || !test) goto done;
    th_cnn_shape shape = th_cnn_judge_shape(train->rows, train->cols);
    if (!(net = th_cnn_alloc(&shape))) {
        fprintf(stderr, "thermo " CMD ": %s: the judge: %s\n", classifier_data_dir(p->data),
                th_last_error());
        goto done;
    }
    th_cnn_init(net, p->seed);
    th_cnn_train_params tp = th_cnn_train_params_default();
    if (p->epochs) tp.opt.epochs = p->epochs;
    if (p->batch) tp.opt.batch = p->batch;
    if (p->lr > 0) tp.opt.learning_rate = p->lr;
    if (p->weight_decay >= 0) tp.opt.weight_decay = p->weight_decay;
    if (p->noise >= 0) tp.noise = p->noise;
    if (p->dropout >= 0) tp.dropout = p->dropout;
    if (p->shift != SIZE_MAX) tp.shift = p->shift;
    tp.opt.seed = p->seed;
    classifier_epoch ec = {.p = p, .test = test, .t0 = tool_now()};
    tool_progress_begin(&ec.bar, "updates", p->quiet);
    tp.opt.progress = tool_progress_update;
    tp.opt.progress_ctx = &ec.bar;
    tp.on_epoch = on_epoch;
    tp.epoch_ctx = &ec;
    if (!p->quiet)
        fprintf(stderr, "training judge: conv %zux%zux%zu, pool, conv %zux%zux%zu, pool, dense "
                        "%zu, %zu classes, on %zu images of %s: %zu epochs, batch %zu, Adam lr %g "
                        "(cosine), shifts of up to %zu pixels, noise sd up to %g on %g of the "
                        "images, dropout %g, seed %llu\n", shape.kernel, shape.kernel,
                shape.channels[0], shape.kernel, shape.kernel, shape.channels[1], shape.hidden,
                shape.classes, train->count, classifier_data_dir(p->data), tp.opt.epochs,
                tp.opt.batch, tp.opt.learning_rate, tp.shift, tp.noise, tp.noise_share,
                tp.dropout, (unsigned long long)p->seed);
    rc = th_cnn_train(net, train, &tp, NULL);
    tool_progress_end(&ec.bar);
    const double seconds = tool_now() - ec.t0;
    const th_judge judge = {.cnn = net};
    if (rc == TH_OK) rc = th_judge_report_compute(&judge, test, &r);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    th_meta_set(&meta, "train.arch", "judge");
    th_meta_set(&meta, "train.data", p->data);
    th_meta_setf(&meta, "train.seconds", "%.1f", seconds);
    th_meta_setf(&meta, "test.images", "%zu", test->count);
    th_meta_setf(&meta, "test.accuracy", "%.6f", r.accuracy);
    if ((rc = th_cnn_train_meta(&tp, train->count, &meta)) != TH_OK ||
        (rc = th_cnn_save_meta(p->out, net, &meta)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("judge (convolutional) trained on %zu images of %s in %.1f s (%zu epochs)\n",
           train->count, classifier_data_dir(p->data), seconds, tp.opt.epochs);
    classifier_print_result(&r);
    printf("saved %s\n", p->out);
    if (p->json && classifier_write_json(p->json, &r, p->out, p->data, seconds) != 0) goto done;
    status = TOOL_EXIT_OK;
done:
    th_meta_clear(&meta);
    th_mlp_report_free(&r);
    th_cnn_free(net);
    th_dataset_free(train);
    th_dataset_free(test);
    return status;
}
