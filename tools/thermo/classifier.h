/* classifier.h - what the files of thermo classifier share (cmd_classifier.c
 * parses and dispatches, classifier_cnn.c trains the convolutional judge and
 * renders test reports). */
#ifndef THERMO_TOOL_CLASSIFIER_H
#define THERMO_TOOL_CLASSIFIER_H

#include "thermo.h"
#include "tool.h"

#define CLASSIFIER_CMD "classifier"

/* --arch: the convolutional judge, the PNAS teacher, the earlier MLP judge. */
enum { ARCH_JUDGE = 0, ARCH_TEACHER = 1, ARCH_JUDGE_MLP = 2 };

typedef struct classifier_params {
    const char *data, *out, *model, *json;
    int arch;
    /* 0 (weight_decay, noise, dropout < 0; shift SIZE_MAX) = the preset's */
    size_t epochs, batch, hidden, shift;
    double lr, weight_decay, noise, dropout;
    uint64_t seed;
    size_t limit;      /* 0 = every image */
    size_t threads;
    int quiet;
} classifier_params;

/* data/mnist for "mnist", data/fashion for "fashion", else the folder. */
const char *classifier_data_dir(const char *data);
/* Split "train" or "t10k" of --data, at most --limit images; NULL after a
 * message. */
th_dataset *classifier_load_split(const classifier_params *p, const char *split);
/* The test report as text, and as JSON (train_seconds < 0: not a training). */
void classifier_print_result(const th_mlp_report *r);
int classifier_write_json(const char *path, const th_mlp_report *r, const char *model,
                          const char *data, double train_seconds);
/* thermo classifier train --arch judge: an exit status. */
int classifier_train_cnn(const classifier_params *p);

/* What the epoch callbacks of both trainers share: the test images, the
 * bar, the start time. */
typedef struct classifier_epoch {
    const classifier_params *p;
    const th_dataset *test;
    tool_progress bar;
    double t0;
} classifier_epoch;

/* The line after an epoch (not with --quiet): its loss and, when evaluated
 * (the evaluation's status TH_OK), the test accuracy acc. Returns 0. */
int classifier_epoch_line(classifier_epoch *e, size_t epoch, double loss, int status,
                          double acc);

#endif
