/* prl_generate.c - the PRL 2026 generative computer through the installed
 * library: train it on the paper's three digits by gradient descent, generate
 * digits from thermal noise, and save the model.
 *
 *     cc prl_generate.c $(pkg-config --cflags --libs --static thermo) -o prl_generate
 *     ./prl_generate data/prl2026 100 16 prl.safetensors
 *
 * Arguments: the folder of the training images (thermo's data/prl2026 holds
 * the paper's digits), updates (the paper: 100), samples, the model file to
 * write. What `thermo train --preset prl2026` does, in a page of C. */
#include <thermo.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "prl_generate: %s: %s\n", what, th_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "data/prl2026";
    const size_t updates = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    const size_t samples = argc > 3 ? strtoul(argv[3], NULL, 10) : 16;
    const char *out = argc > 4 ? argv[4] : "prl.safetensors";

    /* The paper's recipe: settings, then its training images. */
    th_gen_recipe r;
    th_gen_training_set *ts = NULL;
    th_gen_params p;
    if (th_gen_recipe_preset("prl2026", &r) != TH_OK) return fail("preset");
    if (th_gen_training_set_load(data, r.images, r.pool, r.classes, &ts) != TH_OK)
        return fail(data);
    if (th_gen_recipe_params(&r, ts, &p) != TH_OK) return fail("settings");

    th_model *m = th_gen_model_alloc(&p, TH_F32); /* every parameter starts at 0 */
    double *loss = malloc((updates ? updates : 1) * sizeof *loss);
    float *x = malloc((samples ? samples : 1) * p.n_visible * sizeof *x);
    double *heat = malloc((samples ? samples : 1) * sizeof *heat);
    if (!m || !loss || !x || !heat) return fail("allocation");

    th_gen_train_opts o = th_gen_train_opts_default();
    o.updates = updates;
    o.learning_rate = r.learning_rate;
    o.batch = r.batch;
    if (updates && th_gen_train(m, &p, ts->images, ts->labels, ts->count, &o, 0, loss) != TH_OK)
        return fail("training");
    if (updates)
        printf("trained %zu updates: loss per step and unit %.4f -> %.4f\n", updates,
               th_gen_loss_per_unit(&p, loss[0]), th_gen_loss_per_unit(&p, loss[updates - 1]));

    th_gen_sample_opts so = th_gen_sample_opts_default();
    if (th_gen_sample(m, &p, samples, &so, x, heat) != TH_OK) return fail("sampling");
    double mean = 0;
    for (size_t k = 0; k < samples; k++) mean += heat[k] / (double)samples;
    printf("generated %zu samples of %zu pixels; mean heat %.1f kT per sample\n", samples,
           p.n_visible, mean);

    /* The model with its settings, so that thermo sample and thermo energy
     * (or examples/energy_ledger.c) can use it. */
    th_meta meta = {0};
    if (th_gen_params_to_meta(&p, &meta) != TH_OK || th_model_save(out, m, &meta) != TH_OK)
        return fail(out);
    printf("wrote %s\n", out);

    th_meta_clear(&meta);
    free(heat);
    free(x);
    free(loss);
    th_model_free(m);
    th_gen_training_set_free(ts);
    return 0;
}
