/* harness.h - a small test harness: checks print the expression and both
 * values on failure; a test passes when none of its checks failed.
 *
 *     static void test_something(void) { CHECK_CLOSE(f(1.0), 2.0, 1e-12); }
 *     void suite_mine(void) { RUN_TEST(test_something); }
 *
 * Each suite_* function is listed in tests/main.c. */
#ifndef THERMO_TEST_HARNESS_H
#define THERMO_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

extern int th_test_check_failed; /* checks failed in the current test */

int th_test_selected(const char *name);
void th_test_record(const char *name, int failed, double seconds);
double th_test_clock(void);

#define RUN_TEST(fn)                                                  \
    do {                                                              \
        if (th_test_selected(#fn)) {                                  \
            th_test_check_failed = 0;                                 \
            double t0_ = th_test_clock();                             \
            fn();                                                     \
            th_test_record(#fn, th_test_check_failed,                 \
                           th_test_clock() - t0_);                    \
        }                                                             \
    } while (0)

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,  \
                    __LINE__, #cond);                                 \
            th_test_check_failed++;                                   \
        }                                                             \
    } while (0)

/* |a - b| <= tol; NaN never passes. */
#define CHECK_CLOSE(a, b, tol)                                        \
    do {                                                              \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);\
        if (!(fabs(a_ - b_) <= t_)) {                                 \
            fprintf(stderr,                                           \
                    "  %s:%d: CHECK_CLOSE(%s, %s, %s) failed: "       \
                    "%.10g vs %.10g (diff %.3g, tol %.3g)\n",         \
                    __FILE__, __LINE__, #a, #b, #tol, a_, b_,         \
                    fabs(a_ - b_), t_);                               \
            th_test_check_failed++;                                   \
        }                                                             \
    } while (0)

/* |a - b| <= rtol * max(|a|, |b|) */
#define CHECK_REL(a, b, rtol)                                         \
    do {                                                              \
        double ra_ = (double)(a), rb_ = (double)(b);                  \
        double rs_ = fmax(fabs(ra_), fabs(rb_));                      \
        CHECK_CLOSE(ra_, rb_, (double)(rtol) * rs_);                  \
    } while (0)

#define CHECK_EQ_INT(a, b)                                            \
    do {                                                              \
        long long ia_ = (long long)(a), ib_ = (long long)(b);         \
        if (ia_ != ib_) {                                             \
            fprintf(stderr, "  %s:%d: CHECK_EQ_INT(%s, %s) failed: "  \
                    "%lld vs %lld\n", __FILE__, __LINE__, #a, #b,     \
                    ia_, ib_);                                        \
            th_test_check_failed++;                                   \
        }                                                             \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                               \
    do {                                                              \
        const char *h_ = (hay), *n_ = (needle);                       \
        if (!h_ || !strstr(h_, n_)) {                                 \
            fprintf(stderr, "  %s:%d: \"%s\" does not contain "       \
                    "\"%s\"\n", __FILE__, __LINE__, h_ ? h_ : "(null)", n_); \
            th_test_check_failed++;                                   \
        }                                                             \
    } while (0)


/* ---- shared helpers (tests/test_util.c) ---- */

#include <stdint.h>

#include "thermo.h"

/* A scratch folder for tests that write files: scratch_begin makes a fresh
 * one (0 on failure), scratch(name) gives a path in it and remembers it, and
 * scratch_end removes what was remembered, newest first, then the folder. */
extern char scratch_dir[64];
int scratch_begin(void);
const char *scratch(const char *name);
void scratch_end(void);

/* Vigna's splitmix64, for test inputs that must not depend on the
 * generator under test; test_uniform is uniform in [lo, hi), 53 bits. */
uint64_t splitmix64(uint64_t *state);
double test_uniform(uint64_t *state, double lo, double hi);
/* count random images (count, nv), each standardised to zero mean and unit
 * variance over its pixels, as the generator expects them (malloc'd). */
float *test_standard_images(size_t count, size_t nv, uint64_t seed);

/* The small generator of the solver tests, conditional on n_classes labels
 * (0: unconditional): 5 visible, 3 hidden, 40 steps in blocks of 9, seed 5. */
th_gen_params test_gen_tiny_params(size_t n_classes);
/* A generator model with couplings uniform in [-scale, scale) on every
 * allowed pair and the trained biases (th__gen_bias_trained) in
 * [-scale, scale); the others stay 0. NULL when out of memory. */
th_model *test_gen_random_model(const th_gen_params *p, th_dtype dtype, double scale,
                                uint64_t seed);

#endif
