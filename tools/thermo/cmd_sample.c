/* cmd_sample.c - thermo sample: turn thermal noise into images with a trained
 * generative computer, by its own time-independent Langevin dynamics
 * (science.md section 2), and report the speed and the heat each sample
 * gives to the bath.
 *
 * Everything the dynamics needs comes from the model file: the couplings
 * and biases from its tensors, the generator's settings from its "gen.*"
 * metadata (th_gen_params_from_meta), the picture's shape from "data.rows"
 * and "data.cols", and its grey range from "picture.lo" and "picture.hi",
 * which thermo train writes (th_gen_picture_from_meta). Sample k uses its own
 * noise stream, so --first K --n 1 regenerates sample K of a larger run
 * exactly, and under mpirun th_gen_sample_dist spreads the samples. The
 * hardware options run it on a device (th_hw_gen_sample, thermo/hw.h). */
#include "thermo.h"
#include "tool.h"
#include "sample_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "sample"
static const char *const phase1_names[] = {"euler", "exact", NULL}; /* th_gen_phase1 */
/* More threads than this is a typo, and (int) must hold the value. */
/* Pixels between the pictures of the grid and around them. */
#define GRID_GAP 2
/* Without a grey range in the file, these percentiles of all the pixels of
 * all the samples map to black and white: a few outlying pixels then cannot
 * wash out the rest. */
#define LO_PERCENTILE 0.01
#define HI_PERCENTILE 0.99

/* ---------------------------------------------------------------- run */


/* Everything after the command line: load, sample, draw, report. */
static int run_sample(sample_params *p, uint64_t seed)
{
    th_gen_protocol *pr = NULL;
    th_meta meta = {0};
    float *pixels = NULL;
    double *heat = NULL, *work = NULL;
    th_canvas *canvas = NULL;
    int *classes = NULL; /* (n) with --class */
    int exit_code = TOOL_EXIT_FAIL;
    int rc;

    if (tool_folder_writable(CMD, p->out) != 0 ||
        (p->heat && tool_folder_writable(CMD, p->heat) != 0) ||
        (p->save && tool_folder_writable(CMD, p->save) != 0))
        goto done;
    /* The model, its settings and every segment of its protocol. */
    th_gen_params gp;
    if ((rc = th_gen_protocol_load(p->model, &pr, &gp, &meta)) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s%s\n", th_last_error(),
                strstr(th_last_error(), ": missing")
                    ? " (models written by thermo train carry the generator's settings)"
                    : "");
        goto done;
    }
    const th_model *m = th_gen_protocol_segment(pr, 0);
    if (p->seed_text) gp.seed = seed;
    if (tool_readout_window(CMD, p->model, &meta, p->readout_text, th_gen_steps(&gp),
                            &p->readout_window) != 0)
        goto done;
    /* a class that is the computer's own latent code: unconditional samples */
    const char *latent_text = th_meta_get(&meta, "sample.latent_classes");
    const int latent = latent_text && strcmp(latent_text, "1") == 0;
    if (p->class_text) {
        uint64_t c = 0;
        if (!gp.n_classes) {
            fprintf(stderr, "thermo " CMD ": --class: %s is an unconditional computer (no "
                            "label units); leave --class out\n", p->model);
            goto done;
        }
        if (tool_to_u64(p->class_text, &c) != 0 || c >= th_gen_classes(&gp)) {
            fprintf(stderr, "thermo " CMD ": --class: expected a class from 0 to %zu for %s, "
                            "got '%s'\n", th_gen_classes(&gp) - 1, p->model, p->class_text);
            goto done;
        }
        classes = malloc(p->n * sizeof *classes);
        if (!classes) {
            tool_fail_lib(CMD, TH_ENOMEM);
            goto done;
        }
        for (size_t k = 0; k < p->n; k++) classes[k] = (int)c;
    }
    th_gen_picture pl;
    if ((rc = th_gen_picture_from_meta(p->model, &meta, gp.n_visible, &pl)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }

    if (p->n > SIZE_MAX / sizeof(float) / gp.n_visible) {
        fprintf(stderr, "thermo " CMD ": --n %zu: %zu samples of %zu pixels do not fit in "
                        "memory\n", p->n, p->n, gp.n_visible);
        goto done;
    }
    pixels = malloc(p->n * gp.n_visible * sizeof *pixels); /* (n, n_visible) */
    heat = malloc(p->n * sizeof *heat);                    /* (n) */
    work = gp.segments > 1 ? malloc(p->n * sizeof *work) : NULL;
    if (!pixels || !heat || (gp.segments > 1 && !work)) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu samples of %zu pixels\n", p->n,
                gp.n_visible);
        goto done;
    }

    tool_progress bar;
    tool_progress_begin(&bar, "samples", p->quiet);
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.first = p->first;
    so.classes = classes;
    so.precision = p->precision;
    so.phase1 = p->phase1;
    so.progress = tool_progress_update;
    so.progress_ctx = &bar;
    so.readout_window = p->readout_window;
    so.work = work;
    sample_result res = {0};
    double t0 = tool_now();
    /* Under mpirun each rank draws its share; all get every sample. */
    rc = th_hw_gen_protocol_sample(&p->hwo.hw, pr, &gp, p->n, &so, pixels, heat);
    res.wall = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    if (th_dist_rank() != 0) { /* rank 0 draws and writes */
        exit_code = TOOL_EXIT_OK;
        goto done;
    }

    /* The library stops a diverging run; this guards the picture and the
     * report anyway, since a nan printed as a result is worse than none. */
    for (size_t i = 0; i < p->n * gp.n_visible; i++)
        if (!isfinite(pixels[i])) {
            fprintf(stderr, "thermo " CMD ": sample %llu has a non-finite pixel\n",
                    (unsigned long long)(p->first + i / gp.n_visible));
            goto done;
        }
    if (th_heat_stats_compute(heat, p->n, &res.heat) != TH_OK || !isfinite(res.wall) ||
        !isfinite(res.heat.mean) || !isfinite(res.heat.sd) ||
        (work && th_heat_stats_compute(work, p->n, &res.work) != TH_OK)) {
        fprintf(stderr, "thermo " CMD ": the run produced a non-finite heat\n");
        goto done;
    }
    if (!pl.range_from_file && (rc = th_gen_picture_percentiles(
                                    pixels, p->n * gp.n_visible, LO_PERCENTILE, HI_PERCENTILE,
                                    &pl)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }

    canvas = th_picture_grid(pixels, p->n, pl.rows, pl.cols, p->columns, GRID_GAP, pl.lo, pl.hi);
    if (!canvas) {
        tool_fail_lib(CMD, TH_ENOMEM);
        goto done;
    }
    if ((rc = th_png_write(p->out, canvas, p->magnify)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    if (p->save && (rc = tool_save_samples(p->save, &gp, pixels, p->n, p->first, classes,
                                           heat, !classes && latent)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    if (p->heat && (rc = th_gen_heat_work_csv_write(p->heat, heat, work, p->n, p->first)) !=
                       TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    char *preview = NULL;
    if (p->preview && !(preview = th_preview_utf8(pixels, pl.rows, pl.cols, pl.lo, pl.hi))) {
        tool_fail_lib(CMD, TH_ENOMEM);
        goto done;
    }
    sample_print_report(p, &gp, m, &pl, &res);
    if (preview) {
        printf("preview   sample %llu\n%s", (unsigned long long)p->first, preview);
        free(preview);
    }
    exit_code = TOOL_EXIT_OK;
done:
    free(classes);
    th_canvas_free(canvas);
    free(heat);
    free(work);
    free(pixels);
    th_meta_clear(&meta);
    th_gen_protocol_free(pr);
    return exit_code;
}

int cmd_sample(int argc, char **argv)
{
    sample_params p = {
        .model = NULL,
        .n = 0,
        .out = NULL,
        .seed_text = NULL,
        .first = 0,
        .columns = 10,
        .magnify = 2,
        .heat = NULL,
        .threads = 0,
        .quiet = 0,
        .preview = 0,
        .hwo = tool_hw_default(),
    };
    /* --seed is read as text: its default is whatever the model file says,
     * which no number in the table could stand for. */
    const tool_opt opts[] = {
        {"model", "FILE", TOOL_OPT_STRING, &p.model, NULL,
         "the trained model, such as RUN/model.safetensors of thermo train (required)", ""},
        {"n", "N", TOOL_OPT_COUNT, &p.n, NULL, "number of samples (required)", ""},
        {"out", "FILE.png", TOOL_OPT_STRING, &p.out, NULL,
         "the PNG with the grid of samples (required)", ""},
        {"seed", "S", TOOL_OPT_STRING, &p.seed_text, NULL, "seed of the samples' noise",
         "the model's gen.seed"},
        {"first", "K", TOOL_OPT_U64, &p.first, NULL,
         "index of the first sample: sample K always gets the same noise", NULL},
        {"columns", "C", TOOL_OPT_COUNT, &p.columns, NULL, "samples across the grid", NULL},
        {"magnify", "M", TOOL_OPT_COUNT, &p.magnify, NULL,
         "PNG pixels per picture pixel, each way", NULL},
        {"heat", "FILE.csv", TOOL_OPT_STRING, &p.heat, NULL,
         "also write the heat of each sample in kT (columns sample, heat_kT; a protocol of "
         "2+ segments adds work_kT, its switching work)", "none"},
        {"class", "C", TOOL_OPT_STRING, &p.class_text, NULL,
         "class-conditional computers: every sample of class C", "sample K of class K mod classes"},
        {"save", "FILE.safetensors", TOOL_OPT_STRING, &p.save, NULL,
         "also write the samples, their classes and heat for thermo eval", "none"},
        {"precision", "f32|bf16", TOOL_OPT_CHOICE, &p.precision, th_precision_names(),
         "coupling products: float32, or bfloat16 couplings and states with float32 sums",
         NULL},
        {"phase1", "euler|exact", TOOL_OPT_CHOICE, &p.phase1, phase1_names,
         "noise phase: t_f of Euler-Maruyama from x = 0 (the paper), or the wells' "
         "equilibrium drawn exactly", NULL},
        {"readout-window", "W", TOOL_OPT_STRING, &p.readout_text, NULL,
         "each sample is the visible units averaged over the last W steps (an integrating "
         "detector); 0 = the state at the end", "the model's sample.readout_window, else 0"},
        TOOL_OPT_THREADS(&p.threads),
        TOOL_OPT_QUIET(&p.quiet),
        {"preview", NULL, TOOL_OPT_FLAG, &p.preview, NULL,
         "print the first sample in the terminal with Unicode shading", NULL},
        TOOL_OPTS_HW(&p.hwo),
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];

    int rc;
    if (!tool_parse_or_help(CMD, opts, n_opts, argc, argv, sample_print_help, &rc)) return rc;
    if (!p.model) return tool_usage_error(CMD, "--model FILE is required");
    if (!p.n) return tool_usage_error(CMD, "--n N is required");
    if (!p.out) return tool_usage_error(CMD, "--out FILE.png is required");
    uint64_t seed = 0;
    if (p.seed_text && tool_to_u64(p.seed_text, &seed) != 0)
        return tool_usage_error(CMD, "--seed: expected a whole number >= 0, got '%s'", p.seed_text);
    /* Sample k's noise stream is TH_GEN_SAMPLE_STREAM + k; indices below
     * TH_GEN_SAMPLE_STREAM keep those streams clear of every other use. */
    if (p.first >= TH_GEN_SAMPLE_STREAM || p.n > TH_GEN_SAMPLE_STREAM - p.first)
        return tool_usage_error(CMD, "--first %llu --n %zu: sample indices must stay below %llu",
                           (unsigned long long)p.first, p.n,
                           (unsigned long long)TH_GEN_SAMPLE_STREAM);
    if ((rc = tool_use_threads(CMD, p.threads)) != TOOL_EXIT_OK ||
        (rc = tool_hw_get(CMD, &p.hwo)) != TOOL_EXIT_OK)
        return rc;
    return run_sample(&p, seed);
}
