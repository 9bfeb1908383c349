/* classify_digit.c - a trained thermodynamic classifier (Whitelam, PNAS 2026)
 * through the installed library: load the student that `thermo classify
 * train` saved, prepare one image of an IDX dataset as its teacher was
 * trained, and let the computer's Langevin trajectories classify it.
 *
 *     cc classify_digit.c $(pkg-config --cflags --libs --static thermo) -o classify_digit
 *     ./classify_digit student.safetensors data/mnist t10k 7
 *
 * Arguments: the student file, an IDX folder, its split ("t10k" or "train")
 * and the index of the image. Prints the output units (averaged over the
 * trajectories), the class they pick, the label, and the heat the
 * classification gave to the bath. */
#include <thermo.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "classify_digit: %s: %s\n", what, th_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: classify_digit STUDENT.safetensors IDX_DIR SPLIT INDEX\n");
        return 2;
    }
    const size_t index = strtoul(argv[4], NULL, 10);
    th_student s;
    th_dataset *d = NULL;
    if (th_student_load(argv[1], &s, NULL) != TH_OK) return fail(argv[1]);
    if (th_student_dataset(argv[2], argv[3], index + 1, &d) != TH_OK) return fail(argv[2]);
    if (index >= d->count) {
        fprintf(stderr, "classify_digit: %s holds %zu images\n", argv[2], d->count);
        return 1;
    }

    const th_student_params *p = &s.params;
    float *x = malloc(p->n_input * sizeof *x);
    float *out = malloc(p->n_output * sizeof *out);
    double heat = 0;
    if (!x || !out) return fail("allocation");
    if (th_student_prepare(&s, d, index, 1, x) != TH_OK) return fail("the image");
    const th_student_eval_opts o = th_student_eval_opts_default();
    if (th_student_classify(s.model, p, x, 1, &o, out, NULL, &heat) != TH_OK)
        return fail("classifying");

    size_t best = 0;
    printf("output units (mean over %zu trajectories):", o.trajectories);
    for (size_t c = 0; c < p->n_output; c++) {
        printf(" %.3f", out[c]);
        if (out[c] > out[best]) best = c;
    }
    printf("\nclass %zu (label %d); heat %.1f kT per trajectory\n", best,
           d->labels ? (int)d->labels[index] : -1, heat);

    free(out);
    free(x);
    th_dataset_free(d);
    th_student_clear(&s);
    return 0;
}
