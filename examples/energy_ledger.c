/* energy_ledger.c - the energy ledger of a trained generator through the
 * installed library: how much heat its samples give to the bath, against what
 * a digital denoiser would spend (Whitelam, PRL 2026), as `thermo energy`
 * prints it.
 *
 *     cc energy_ledger.c $(pkg-config --cflags --libs --static thermo) -o energy_ledger
 *     ./energy_ledger prl.safetensors 100
 *
 * Arguments: a generator saved with its settings (thermo train's
 * model.safetensors, or examples/prl_generate.c's output) and the number of
 * samples whose heat is measured. */
#include <thermo.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "energy_ledger: %s: %s\n", what, th_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: energy_ledger MODEL.safetensors [SAMPLES]\n");
        return 2;
    }
    const size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    /* The model with its settings; every segment of a time-dependent
     * protocol (thermo train --segments S), one for the paper's computer. */
    th_gen_protocol *pr = NULL;
    th_gen_params p;
    if (th_gen_protocol_load(argv[1], &pr, &p, NULL) != TH_OK) return fail(argv[1]);

    /* 300 K, 1 pJ per multiply-accumulate, 1/mu = 1 us: the papers' units. */
    const th_energy_opts o = th_energy_opts_default();
    th_energy_ledger L;
    if (th_energy_run_gen_protocol(pr, &p, n, &o, &L) != TH_OK) return fail("the ledger");
    char *text = th_energy_ledger_text(&L, NULL);
    if (!text) return fail("the report");
    fputs(text, stdout);
    const th_energy_line *a = &L.line[0]; /* the paper's digital denoiser */
    if (a->available && a->ratio_defined)
        printf("in short: %.3g kT (%.3g J) per sample; the digital denoiser of line (a) "
               "spends %.3g J, %.3g times more\n",
               L.hs.mean, L.heat_J, a->joules, a->ratio);

    free(text);
    th_gen_protocol_free(pr);
    return 0;
}
