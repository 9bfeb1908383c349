/* main.c - the test runner. Usage: run_tests [substring ...] runs the tests
 * whose names contain any of the substrings (all when none). Ends with the line
 * "N passed, N failed" and exits non-zero on any failure. */
#include "harness.h"

#include <stdlib.h>

int th_test_check_failed;

static int n_passed, n_failed;
static int n_filters;
static char **filters;

void suite_rng(void);
void suite_noise(void);
void suite_backend(void);
void suite_bf16(void);
void suite_model(void);
void suite_langevin(void);
void suite_well(void);
void suite_physics(void);
void suite_idx(void);
void suite_safetensors(void);
void suite_pictures(void);
void suite_io_files(void);
void suite_gen(void);
void suite_gen_meta(void);
void suite_gen_solve(void);
void suite_gen_run(void);
void suite_gen_seg(void);
void suite_gen_styles(void);
void suite_energy(void);
void suite_nn(void);
void suite_cnn(void);
void suite_eval_metrics(void);
/* suites of section nn */
void suite_classify(void);
/* suites of section classify */
void suite_neuron(void);
/* suites of section neuron */
void suite_linalg(void);
void suite_mtx(void);
/* suites of section linalg */
void suite_circuit(void);
void suite_dist(void);
void suite_hw(void);
/* suites of section par */

int th_test_selected(const char *name)
{
    if (n_filters == 0) return 1;
    for (int i = 0; i < n_filters; i++)
        if (strstr(name, filters[i])) return 1;
    return 0;
}

void th_test_record(const char *name, int failed, double seconds)
{
    if (failed) {
        n_failed++;
        printf("FAIL %-44s %7.2f s (%d checks failed)\n", name, seconds, failed);
    } else {
        n_passed++;
        printf("ok   %-44s %7.2f s\n", name, seconds);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    n_filters = argc - 1;
    filters = argv + 1;
    suite_rng();
    suite_noise();
    suite_backend();
    suite_bf16();
    suite_model();
    suite_langevin();
    suite_well();
    suite_physics();
    suite_idx();
    suite_safetensors();
    suite_pictures();
    suite_io_files();
    suite_gen();
    suite_gen_meta();
    suite_gen_solve();
    suite_gen_run();
    suite_gen_seg();
    suite_gen_styles();
    suite_energy();
    suite_nn();
    suite_cnn();
    suite_eval_metrics();
    /* calls of section nn */
    suite_classify();
    /* calls of section classify */
    suite_neuron();
    /* calls of section neuron */
    suite_linalg();
    suite_circuit();
    suite_mtx();
    /* calls of section linalg */
    suite_dist();
    suite_hw();
    /* calls of section par */
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
