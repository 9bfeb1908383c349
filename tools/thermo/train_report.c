/* train_report.c - thermo train's text: its help, and its renderings of a
 * finished run, the report on stdout and RUN/summary.json. Every number comes from the
 * library (th_gen_loss_per_unit, th_gen_showcase, th_gen_exact_report);
 * here they are only laid out. */
#include "train_report.h"
#include "tool.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const drive_names[] = {"copy", "projection"};

void train_print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo train --out RUN [options]\n\n"
           "Trains a generative thermodynamic computer (Whitelam, PRL 2026): visible units\n"
           "(pixels) and hidden units with visible-hidden and hidden-hidden couplings and\n"
           "hidden biases, by gradient descent on minus the log probability that its own\n"
           "Langevin dynamics runs the time reverse of a noising path. Then generates\n"
           "samples from thermal noise and measures the heat each one gives to the bath.\n"
           "\noptions:\n");
    tool_print_options(opts, n_opts);
    printf("\npresets:\n"
           "  prl2026  the paper: the first 0, 1 and 2 of the MNIST training set (embedded\n"
           "           in data/prl2026), 784 + 512 units, kT 0.1, J2 = J4 = 1, dt 1e-3,\n"
           "           t_f 2.5, hidden units driven by pixel copies, learning rate 4e-4,\n"
           "           one path per update, 100 updates, 1000 samples.\n"
           "  tiny     a seconds-long check: images pooled to 7x7, 16 hidden units,\n"
           "           t_f 0.1, 4 updates, 20 samples.\n"
           "  mnist10-cond  all ten digits, class-conditional: all 60,000 MNIST\n"
           "           training images, each digit split into 50 styles (--styles 50), one\n"
           "           noising path each, every 10th step, the exact least-squares solver\n"
           "           with ridge 1 per path on the couplings and 1e-4 on the class\n"
           "           biases; a label unit per style, clamped at its one-hot code,\n"
           "           coupled to the hidden and visible units; t_f 0.625; otherwise as\n"
           "           prl2026. About 8 minutes on 2 cores.\n"
           "  mnist10  the same computer asked for no class: its class is a latent code\n"
           "           (sample k of class k mod 10), the samples unconditional.\n"
           "  fashion10-cond  on Fashion-MNIST (thermo data fetch fashion): the first\n"
           "           10,000 images, 25 styles a class, t_f 0.5.\n\n"
           "Writes RUN/model.safetensors, loss.csv, summary.json, noising.png,\n"
           "denoising.png, samples.png and fields.png, and a checkpoint that --resume\n"
           "continues from (bit-identical to an uninterrupted run).\n\n"
           "Time-dependent protocols (--segments S): the couplings and biases are\n"
           "constant over each of S equal segments of the generation time and switch\n"
           "between them; each noising step trains the segment of the generation step it\n"
           "is the time reverse of. Both solvers; the exact one solves the segments\n"
           "apart, or together with --segment-penalty G tying neighbours. The model file\n"
           "holds segment 0 under the usual names and segment s as J.seg<s>, b.seg<s>;\n"
           "thermo sample reads S from it. The report adds the work the switches do on\n"
           "the computer beside the heat.\n");
}

void train_describe(const train_params *p, const th_gen_params *gp, const double *loss,
                    const run_report *g)
{
    const size_t steps = th_gen_steps(gp), U = p->r.updates;
    printf("model     %zu visible + %zu hidden units (visible-hidden, hidden-hidden "
           "couplings), hidden drive %s", gp->n_visible, gp->n_hidden,
           drive_names[gp->hidden_drive]);
    if (gp->n_classes && gp->styles > 1)
        printf("; %zu label units (class-conditional: %zu classes x %zu styles)", gp->n_classes,
               th_gen_classes(gp), gp->styles);
    else if (gp->n_classes)
        printf("; %zu label units (class-conditional)", gp->n_classes);
    printf("\n");
    if (gp->styles > 1)
        printf("styles    %zu a class: balanced k-means clusters of the class's images, %.2f s\n",
               gp->styles, g->styles_s);
    if (gp->segments > 1)
        printf("protocol  %zu segments of about %zu steps each, couplings and biases switched "
               "between them%s\n", gp->segments, steps / gp->segments,
               p->r.solver == TH_GEN_SOLVER_EXACT && p->r.segment_penalty > 0
                   ? "; neighbours tied by the segment penalty" : "");
    if (p->r.solver == TH_GEN_SOLVER_EXACT) {
        const th_gen_exact_report *e = &g->exact;
        printf("training  exact least squares on %zu noising paths of %zu steps: statistics "
               "%.2f s, solve %.2f s (%zu conjugate-gradient iterations, residual %.1e%s)\n",
               e->paths, steps, g->stats_s, g->solve_s, e->iterations, e->residual,
               e->converged ? "" : ", NOT converged");
        printf("loss      per step and unit: %.4f with every parameter 0, %.4f at the "
               "solution\n", e->loss_zero, e->loss_solved);
        if (!isnan(e->loss_compare))
            printf("compare   %s on the same paths: %.4f per step and unit\n", p->compare,
                   e->loss_compare);
    } else {
        printf("training  %zu updates, learning rate %g, %zu path%s each of %zu steps: %.2f s "
               "(%.3f s per update)\n", U, p->r.learning_rate, p->r.batch,
               p->r.batch == 1 ? "" : "s", steps, g->train_s, g->train_s / (double)U);
        printf("loss      %.6g at the first update, %.6g at the last (per step and unit: %.4f "
               "-> %.4f)\n", loss[0], loss[U - 1], th_gen_loss_per_unit(gp, loss[0]),
               th_gen_loss_per_unit(gp, loss[U - 1]));
        tool_hw_print("aware     gradients taken on the device: ", &p->aware.hw, 0);
    }
    printf("sampling  %zu samples%s: %.2f s (%.1f ms per sample)%s\n", p->r.samples,
           p->phase1 == TH_GEN_PHASE1_EXACT ? " (noise phase drawn exactly)" : "", g->sample_s,
           1e3 * g->sample_s / (double)p->r.samples,
           p->precision == TH_PRECISION_BF16 ? ", bfloat16 coupling products" : "");
    if (p->r.readout_window)
        printf("readout   the visible units averaged over the last %zu steps (an integrating "
               "detector)\n", p->r.readout_window);
    printf("heat      %.4g kT per sample (sd %.3g) given to the bath; the paper reports about "
           "%.1e kT\n", g->heat_mean, g->heat_sd, PAPER_HEAT_KT);
    if (gp->segments > 1)
        printf("work      %.4g kT per sample (sd %.3g) done on the computer by switching its "
               "couplings (switch-on and %zu boundaries)\n", g->work_mean, g->work_sd,
               gp->segments - 1);
    if (!p->r.images)
        printf("digits    nearest training digit by correlation >= %.1f: 0: %zu, 1: %zu, 2: %zu; "
               "contrast-inverted: %zu, %zu, %zu; neither: %zu (of %zu)\n", RECOGNISED_CORR,
               g->recognised[0], g->recognised[1], g->recognised[2], g->inverted[0],
               g->inverted[1], g->inverted[2], g->unrecognised, p->r.samples);
    printf("wrote     %s/{model.safetensors,%s summary.json, noising.png, denoising.png, "
           "samples.png, samples.safetensors, fields.png}\n", p->out,
           p->r.solver == TH_GEN_SOLVER_GD ? " loss.csv," : "");
    if (p->r.images)
        printf("judge     thermo eval --samples %s/samples.safetensors (see thermo eval --help)\n",
               p->out);
}

static void add_numbers(cJSON *o, const char *const *names, const double *values, size_t n)
{
    for (size_t k = 0; k < n; k++) cJSON_AddNumberToObject(o, names[k], values[k]);
}

int train_write_summary(const char *path, const train_params *p, const th_gen_params *gp,
                        const th_meta *settings, const double *loss, const run_report *g)
{
    const size_t U = p->r.updates, N = p->r.samples;
    const th_gen_exact_report *e = &g->exact;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    cJSON_AddStringToObject(root, "preset", p->r.name);
    cJSON *set = cJSON_AddObjectToObject(root, "settings");
    for (size_t k = 0; k < settings->count; k++)
        cJSON_AddStringToObject(set, settings->keys[k], settings->values[k]);
    cJSON *l = cJSON_AddObjectToObject(root, "loss");
    if (p->r.solver == TH_GEN_SOLVER_GD) {
        static const char *const names[] = {"first", "last", "first_per_step_and_unit",
                                            "last_per_step_and_unit"};
        const double v[] = {loss[0], loss[U - 1], th_gen_loss_per_unit(gp, loss[0]),
                            th_gen_loss_per_unit(gp, loss[U - 1])};
        add_numbers(l, names, v, 4);
    } else {
        cJSON_AddNumberToObject(l, "zero_per_step_and_unit", e->loss_zero);
        cJSON_AddNumberToObject(l, "solved_per_step_and_unit", e->loss_solved);
        if (!isnan(e->loss_compare)) {
            cJSON_AddStringToObject(l, "compared_model", p->compare);
            cJSON_AddNumberToObject(l, "compared_per_step_and_unit", e->loss_compare);
        }
        cJSON *x = cJSON_AddObjectToObject(root, "exact_solver");
        cJSON_AddNumberToObject(x, "paths", (double)e->paths);
        cJSON_AddNumberToObject(x, "iterations", (double)e->iterations);
        cJSON_AddNumberToObject(x, "relative_residual", e->residual);
        cJSON_AddBoolToObject(x, "converged", e->converged);
        cJSON_AddNumberToObject(x, "statistics_seconds", g->stats_s);
        if (gp->styles > 1) cJSON_AddNumberToObject(x, "styles_seconds", g->styles_s);
        cJSON_AddNumberToObject(x, "solve_seconds", g->solve_s);
    }
    static const char *const heat_names[] = {"mean", "sd", "samples", "paper_approx"};
    const double heat[] = {g->heat_mean, g->heat_sd, (double)N, PAPER_HEAT_KT};
    add_numbers(cJSON_AddObjectToObject(root, "heat_per_sample_kT"), heat_names, heat, 4);
    if (gp->segments > 1) {
        static const char *const work_names[] = {"mean", "sd", "samples"};
        const double work[] = {g->work_mean, g->work_sd, (double)N};
        add_numbers(cJSON_AddObjectToObject(root, "switching_work_per_sample_kT"), work_names,
                    work, 3);
    }
    if (!p->r.images) {
        cJSON *r = cJSON_AddObjectToObject(root, "recognisable");
        cJSON_AddStringToObject(r, "criterion", "largest |Pearson correlation| with one of the "
                                                "three training digits, at least 0.5");
        static const char *const digits[] = {"0", "1", "2"};
        const double ok[] = {(double)g->recognised[0], (double)g->recognised[1],
                             (double)g->recognised[2]};
        const double inv[] = {(double)g->inverted[0], (double)g->inverted[1],
                              (double)g->inverted[2]};
        add_numbers(cJSON_AddObjectToObject(r, "as_digit"), digits, ok, 3);
        add_numbers(cJSON_AddObjectToObject(r, "as_inverted_digit"), digits, inv, 3);
        cJSON_AddNumberToObject(r, "share_recognised", (ok[0] + ok[1] + ok[2]) / (double)N);
        cJSON_AddNumberToObject(r, "unrecognised", (double)g->unrecognised);
    }
    cJSON *t = cJSON_AddObjectToObject(root, "wall_seconds");
    cJSON_AddNumberToObject(t, "training", g->train_s);
    if (p->r.solver == TH_GEN_SOLVER_GD)
        cJSON_AddNumberToObject(t, "per_update", g->train_s / (double)U);
    cJSON_AddNumberToObject(t, "sampling", g->sample_s);
    cJSON_AddNumberToObject(t, "per_sample", g->sample_s / (double)N);
    cJSON_AddStringToObject(root, "sampling_phase1",
                            p->phase1 == TH_GEN_PHASE1_EXACT ? "exact" : "euler");
    cJSON_AddNumberToObject(root, "threads", omp_get_max_threads());
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    int rc = text ? tool_write_text(path, text) : -1;
    free(text);
    return rc;
}

