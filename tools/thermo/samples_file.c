/* samples_file.c - the samples file that thermo train and thermo sample
 * write and thermo eval reads: safetensors with
 *
 *     images  F32 (n, n_visible)  the visible states, in the generator's
 *                                 standardised scale
 *     classes F32 (n)             the class each sample was asked for, -1 for
 *                                 an unconditional computer (whole numbers;
 *                                 safetensors here carries only floats)
 *     heat    F64 (n)             heat given to the bath while computing, kT
 *
 * and metadata naming the model, the first sample's index, and the image
 * shape (data.rows, data.cols). Written atomically by the library. */
#include "thermo.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_save_samples(const char *path, const char *model, const th_gen_params *gp,
                      size_t rows, size_t cols, const float *images, size_t n, uint64_t first,
                      const int *classes, const double *heat)
{
    float *cls = malloc((n ? n : 1) * sizeof(float));
    if (!cls) return TH_ENOMEM;
    for (size_t k = 0; k < n; k++)
        cls[k] = !gp->n_classes ? -1.0f
                 : classes      ? (float)classes[k]
                                : (float)((first + k) % gp->n_classes);
    th_tensor t[3];
    memset(t, 0, sizeof t);
    snprintf(t[0].name, sizeof t[0].name, "images");
    t[0].dtype = TH_F32;
    t[0].n_dims = 2;
    t[0].shape[0] = n;
    t[0].shape[1] = gp->n_visible;
    t[0].data.v = (void *)images;
    snprintf(t[1].name, sizeof t[1].name, "classes");
    t[1].dtype = TH_F32;
    t[1].n_dims = 1;
    t[1].shape[0] = n;
    t[1].data.v = cls;
    snprintf(t[2].name, sizeof t[2].name, "heat");
    t[2].dtype = TH_F64;
    t[2].n_dims = 1;
    t[2].shape[0] = n;
    t[2].data.v = (void *)heat;
    th_meta meta = {0};
    th_meta_set(&meta, "samples.model", model);
    th_meta_setf(&meta, "samples.first", "%llu", (unsigned long long)first);
    th_meta_setf(&meta, "samples.n_classes", "%zu", gp->n_classes);
    th_meta_setf(&meta, "data.rows", "%zu", rows);
    th_meta_setf(&meta, "data.cols", "%zu", cols);
    int rc = th_safetensors_write(path, t, heat ? 3 : 2, &meta);
    th_meta_clear(&meta);
    free(cls);
    return rc;
}
