/* samples_file.c - the samples file that thermo train and thermo sample
 * write and thermo eval reads (th_samples_write: images, the class each
 * sample was asked for, heat). Here only the classes are decided: a
 * conditional computer's samples carry the class they were asked for (the
 * default mixture (first + k) mod n_classes when none was given), an
 * unconditional computer's carry -1. */
#include "thermo.h"
#include "tool.h"

#include <stdlib.h>

int tool_save_samples(const char *path, const th_gen_params *gp, const float *images, size_t n,
                      uint64_t first, const int *classes, const double *heat, int latent)
{
    int *cls = malloc((n ? n : 1) * sizeof *cls);
    if (!cls) return TH_ENOMEM;
    for (size_t k = 0; k < n; k++)
        cls[k] = !gp->n_classes || latent ? -1
                 : classes      ? classes[k]
                                : (int)((first + k) % th_gen_classes(gp));
    int rc = th_samples_write(path, images, n, gp->n_visible, cls, heat);
    free(cls);
    return rc;
}
