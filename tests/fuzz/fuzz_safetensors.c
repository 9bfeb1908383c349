/* fuzz_safetensors.c - libFuzzer harness for the safetensors and model
 * readers: any bytes must give TH_OK or a clean TH_E* status, never a crash,
 * a leak, or an allocation larger than the file justifies.
 *
 * The readers take paths, so each input is written to one temporary file,
 * read as tensors, and read again as a model (which parses the metadata on
 * top), and as a judge (a CNN or an MLP, th_judge_load). What a successful
 * read hands out is checked against its own description: every tensor's
 * data is as long as its shape says and finite, the model passes
 * validation, a judge holds exactly one network. */
#include "thermo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static char path[64];

static void remove_file(void) { unlink(path); }

static void check_tensors(const th_tensor_file *f)
{
    for (size_t i = 0; i < f->count; i++) {
        const th_tensor *t = &f->tensors[i];
        if (t->n_dims > 4 || t->name[sizeof t->name - 1] != '\0') abort();
        if (th_tensor_file_find(f, t->name) != t) abort(); /* names are unique */
        size_t count = 1;
        for (size_t k = 0; k < t->n_dims; k++) count *= t->shape[k];
        /* Every element is read, so ASan checks the allocation really is
         * this long; each must be finite. */
        for (size_t j = 0; j < count; j++)
            if (!isfinite(th_ptr_get(t->data, t->dtype, j))) abort();
    }
    for (size_t i = 0; i < f->meta.count; i++)
        if (th_meta_get(&f->meta, f->meta.keys[i]) != f->meta.values[i]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/thermo-fuzz-st-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        atexit(remove_file);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(bytes, 1, size, fp) != size || fclose(fp) != 0) abort();

    th_tensor_file *f = (th_tensor_file *)&f;
    if (th_safetensors_read(path, &f) == TH_OK) {
        check_tensors(f);
        th_tensor_file_free(f);
    } else if (f) {
        abort(); /* a failure must not hand out a file */
    }

    th_model *m = NULL;
    th_meta meta = {0};
    if (th_model_load(path, &m, &meta) == TH_OK) {
        if (th_model_validate(m) != TH_OK) abort();
        th_model_free(m);
    } else if (m || meta.count) {
        abort();
    }
    th_meta_clear(&meta);

    th_judge j;
    if (th_judge_load(path, &j, NULL) == TH_OK) {
        if (!j.cnn == !j.mlp) abort();
        th_judge_free(&j);
    } else if (j.cnn || j.mlp) {
        abort();
    }
    return 0;
}
