/* test_util.c - helpers shared by the test suites (declared in harness.h). */
#include "harness.h"
#include "gen/gen_internal.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SCRATCH 128

char scratch_dir[64];
static char scratch_names[MAX_SCRATCH][256];
static int n_scratch;

int scratch_begin(void)
{
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/thermo-test-XXXXXX");
    n_scratch = 0;
    return mkdtemp(scratch_dir) != NULL;
}

const char *scratch(const char *name)
{
    if (n_scratch == MAX_SCRATCH) abort(); /* a test bug: raise the limit */
    char *p = scratch_names[n_scratch++];
    snprintf(p, sizeof scratch_names[0], "%s/%s", scratch_dir, name);
    return p;
}

/* Newest first, so that folders are empty when their turn comes. */
void scratch_end(void)
{
    for (int k = n_scratch - 1; k >= 0; k--) {
        struct stat st;
        if (stat(scratch_names[k], &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            rmdir(scratch_names[k]);
        else
            unlink(scratch_names[k]);
    }
    rmdir(scratch_dir);
}

/* Monotonic seconds for RUN_TEST's timings, in the serial and the MPI
 * runners alike. */
double th_test_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

double test_uniform(uint64_t *state, double lo, double hi)
{
    return lo + (hi - lo) * (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* count random images (count, nv), each standardised to zero mean and unit
 * variance over its pixels as th_dataset_standardize does (science.md
 * section 2); th_gen_path_loss expects them so. */
float *test_standard_images(size_t count, size_t nv, uint64_t seed)
{
    float *img = malloc(count * nv * sizeof *img);
    for (size_t k = 0; k < count; k++) {
        float *s = img + k * nv;
        double mean = 0, var = 0;
        for (size_t i = 0; i < nv; i++) {
            s[i] = (float)test_uniform(&seed, 0, 1);
            mean += (double)s[i];
        }
        mean /= (double)nv;
        for (size_t i = 0; i < nv; i++) var += ((double)s[i] - mean) * ((double)s[i] - mean);
        const double sd = sqrt(var / (double)nv);
        for (size_t i = 0; i < nv; i++) s[i] = (float)(((double)s[i] - mean) / sd);
    }
    return img;
}

th_gen_params test_gen_tiny_params(size_t n_classes)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 5;
    p.n_hidden = 3;
    p.n_classes = n_classes;
    p.t_f = 0.04;
    p.block_steps = 9;
    p.seed = 5;
    return p;
}

th_model *test_gen_random_model(const th_gen_params *p, th_dtype dtype, double scale,
                                uint64_t seed)
{
    th_model *m = th_gen_model_alloc(p, dtype);
    if (!m) return NULL;
    for (size_t i = 0; i < m->n; i++) {
        if (th__gen_bias_trained(p, i)) th_ptr_set(m->b, dtype, i, test_uniform(&seed, -scale, scale));
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, test_uniform(&seed, -scale, scale));
    }
    return m;
}
