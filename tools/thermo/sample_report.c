/* sample_report.c - thermo sample's text: its help and the report of a
 * finished run. Every number comes from the run (cmd_sample.c); here they
 * are only laid out. */
#include "sample_report.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>

void sample_print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo sample --model FILE --n N --out FILE.png [options]\n"
           "\n"
           "Generates N samples with a trained generative computer (thermo train): each\n"
           "starts at x = 0, equilibrates in the uncoupled wells for t_f (pure thermal\n"
           "noise), then runs for t_f under the trained couplings and biases; its visible\n"
           "units are the picture. Draws the samples as a grid in a PNG and reports the\n"
           "speed and the heat each sample gave to the bath while computing. Sample K\n"
           "always gets the same noise for a given seed, so --first K --n 1 regenerates\n"
           "it alone.\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
    printf("\n"
           "The picture's shape comes from the model's metadata data.rows and data.cols\n"
           "(28 x 28 when absent and there are 784 visible units), its grey range from\n"
           "picture.lo and picture.hi (when absent: the 1st and 99th percentiles of the\n"
           "samples' pixels).\n"
           "\n"
           "Exit status: 0 on success, 1 when the run fails (a model file that cannot be\n"
           "used is named), 2 for a command line that cannot be used.\n");
}


void sample_print_report(const sample_params *p, const th_gen_params *gp, const th_model *m,
                         const th_gen_picture *pl, const sample_result *res)
{
    const size_t n = p->n;
    printf("model     %s: %zu visible + %zu hidden units, kT %g, dt %g, t_f %g\n", p->model,
           gp->n_visible, gp->n_hidden, m->kT, gp->dt, gp->t_f);
    if (p->phase1 == TH_GEN_PHASE1_EXACT)
        printf("          noise drawn exactly from the wells' equilibrium, then %zu steps of "
               "computing\n", th_gen_steps(gp));
    else
        printf("          %zu steps of noise from x = 0, then %zu of computing\n",
               th_gen_steps(gp), th_gen_steps(gp));
    printf("samples   %zu (indices %llu to %llu), seed %llu%s\n", n,
           (unsigned long long)p->first, (unsigned long long)(p->first + n - 1),
           (unsigned long long)gp->seed, p->seed_text ? "" : " (the model's)");
    printf("          threads %d (OpenMP), %d (OpenBLAS)\n", omp_get_max_threads(),
           openblas_get_num_threads());
    printf("speed     %.3f s wall, %.3g s per sample\n", res->wall, res->wall / (double)n);
    if (p->precision == TH_PRECISION_BF16)
        printf("precision bfloat16 couplings and states in the products, float32 sums "
               "(kernel %s)\n", th_matmul_bf16_kernel());
    if (gp->segments > 1)
        printf("protocol  %zu segments, couplings and biases switched between them\n",
               gp->segments);
    if (p->readout_window)
        printf("readout   the visible units averaged over the last %zu steps\n",
               p->readout_window);
    printf("heat      mean %.4g kT, sd %.3g kT per sample, given to the bath while computing\n",
           res->heat.mean, res->heat.sd);
    if (gp->segments > 1)
        printf("work      mean %.4g kT, sd %.3g kT per sample, done on the computer by "
               "switching its couplings\n", res->work.mean, res->work.sd);
    if (gp->n_visible == 784 && gp->n_hidden == 512)
        printf("          (the PRL paper reports about %.2g kT for this computer)\n", PRL_HEAT_KT);
    size_t across = n < p->columns ? n : p->columns;
    size_t down = (n + across - 1) / across;
    printf("picture   %s: %zu x %zu pixels a sample, %zu across x %zu down, magnified %zux\n",
           p->out, pl->rows, pl->cols, across, down, p->magnify);
    printf("          grey range %.4g (black) to %.4g (white), %s\n", (double)pl->lo,
           (double)pl->hi, pl->range_from_file ? "from the model file"
                                                : "1st to 99th percentile of the samples");
    if (p->heat) printf("heat file %s\n", p->heat);
    tool_hw_print("hardware  ", &p->hwo.hw, 0);
}
