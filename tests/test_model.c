/* test_model.c - the model: groups, the coupling pattern, validation, the
 * cubic on-site term and its file. */
#include "harness.h"
#include "thermo.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static th_model *prl_architecture(th_dtype dtype)
{
    size_t sizes[2] = {784, 512};
    th_model *m = th_model_alloc(2, sizes, dtype);
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    return m;
}

static void test_model_defaults(void)
{
    size_t sizes[3] = {3, 4, 5};
    th_model *m = th_model_alloc(3, sizes, TH_F64);
    CHECK(m != NULL);
    CHECK_EQ_INT(m->n, 12);
    CHECK_EQ_INT(m->group_start[1], 3);
    CHECK_EQ_INT(m->group_start[3], 12);
    CHECK_EQ_INT(th_model_group_of(m, 6), 1);
    CHECK_EQ_INT(th_model_group_of(m, 7), 2);
    CHECK_CLOSE(m->kT, 1, 0);
    CHECK_CLOSE(m->mu, 1, 0);
    for (size_t i = 0; i < m->n; i++) {
        CHECK_CLOSE(m->J2.f64[i], 1, 0);
        CHECK_CLOSE(m->J4.f64[i], 1, 0);
        CHECK_CLOSE(m->b.f64[i], 0, 0);
    }
    CHECK_EQ_INT(th_model_coupling_pairs(m), 0);
    CHECK_EQ_INT(th_model_validate(m), TH_OK);
    th_model_free(m);
    th_model_free(NULL);
}

/* science.md section 2: 784*512 + 512*511/2 = 532,224 couplings, each counted
 * twice as an ordered pair; also counted here by brute force over all pairs. */
static void test_model_prl_pairs(void)
{
    th_model *m = prl_architecture(TH_F32);
    CHECK_EQ_INT(th_model_coupling_pairs(m), 2 * 532224);
    size_t brute = 0;
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = 0; j < m->n; j++)
            brute += i != j && th_model_groups_couple(m, i, j);
    CHECK_EQ_INT(brute, 2 * 532224);
    CHECK(!th_model_groups_couple(m, 0, 783));  /* visible-visible */
    CHECK(th_model_groups_couple(m, 0, 784));   /* visible-hidden */
    CHECK(th_model_groups_couple(m, 900, 1295)); /* hidden-hidden */
    th_model_free(m);
}

static void test_model_set_coupling(void)
{
    th_model *m = prl_architecture(TH_F32);
    CHECK_EQ_INT(th_model_set_coupling(m, 3, 800, 0.5), TH_OK);
    CHECK_CLOSE(th_model_get_coupling(m, 3, 800), 0.5, 0);
    CHECK_CLOSE(th_model_get_coupling(m, 800, 3), 0.5, 0);
    CHECK_EQ_INT(th_model_set_coupling(m, 3, 4, 0.5), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "not coupled");
    CHECK_EQ_INT(th_model_set_coupling(m, 900, 900, 0.5), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "itself");
    CHECK_EQ_INT(th_model_set_coupling(m, 900, 1296, 0.5), TH_EINVAL);
    CHECK_EQ_INT(th_model_set_coupling(m, 900, 901, NAN), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "finite");
    CHECK_CLOSE(th_model_get_coupling(m, 900, 901), 0, 0);
    CHECK_EQ_INT(th_model_couple(m, 0, 2), TH_EINVAL);
    CHECK_EQ_INT(th_model_validate(m), TH_OK);
    th_model_free(m);
}

static void test_model_alloc_rejects(void)
{
    size_t sizes[TH_MAX_GROUPS + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(th_model_alloc(0, sizes, TH_F32) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "groups");
    CHECK(th_model_alloc(TH_MAX_GROUPS + 1, sizes, TH_F32) == NULL);
    size_t zero[2] = {4, 0};
    CHECK(th_model_alloc(2, zero, TH_F32) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "group 1 has 0 units");
    CHECK(th_model_alloc(1, sizes, (th_dtype)7) == NULL);
}

/* Each kind of invalid parameter is rejected with a message naming it. */
static void test_model_validate_rejects(void)
{
    size_t sizes[2] = {3, 3};
    th_model *m = th_model_alloc(2, sizes, TH_F64);
    th_model_couple(m, 0, 1);

    m->kT = 0;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "kT");
    m->kT = NAN;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    m->kT = 1;
    m->mu = -1;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "mu");
    m->mu = 1;

    m->J4.f64[2] = -0.5;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "J4[2]");
    m->J4.f64[2] = 1;
    m->J2.f64[1] = INFINITY;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "J2[1]");
    m->J2.f64[1] = 1;
    m->b.f64[4] = NAN;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "b[4]");
    m->b.f64[4] = 0;

    m->J.f64[0 * 6 + 4] = 0.3; /* only one half of a symmetric pair */
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "symmetric");
    m->J.f64[4 * 6 + 0] = 0.3;
    CHECK_EQ_INT(th_model_validate(m), TH_OK);
    m->J.f64[0 * 6 + 1] = m->J.f64[1 * 6 + 0] = 0.3; /* within group 0: not coupled */
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "not coupled");
    m->J.f64[0 * 6 + 1] = m->J.f64[1 * 6 + 0] = 0;
    m->J.f64[5 * 6 + 5] = 1;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "diagonal");
    th_model_free(m);
}

/* The cubic term J3: zero by default and for th_model_set_onsite (the even
 * well), set by th_model_set_onsite3, validated finite, and refused without
 * a quartic term to confine it. */
static void test_model_cubic_term(void)
{
    size_t sizes[2] = {2, 3};
    th_model *m = th_model_alloc(2, sizes, TH_F32);
    CHECK(m != NULL);
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) CHECK_CLOSE(th_ptr_get(m->J3, m->dtype, i), 0.0, 0.0);
    CHECK_EQ_INT(th_model_has_cubic(m), 0);
    th_model_set_onsite3(m, 0.5, -0.25, 2.0);
    CHECK_EQ_INT(th_model_has_cubic(m), 1);
    for (size_t i = 0; i < m->n; i++) {
        CHECK_CLOSE(th_ptr_get(m->J2, m->dtype, i), 0.5, 0.0);
        CHECK_CLOSE(th_ptr_get(m->J3, m->dtype, i), -0.25, 0.0);
        CHECK_CLOSE(th_ptr_get(m->J4, m->dtype, i), 2.0, 0.0);
    }
    CHECK_EQ_INT(th_model_validate(m), TH_OK);
    m->J3.f32[3] = NAN;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "J3[3]");
    m->J3.f32[3] = 1;
    m->J4.f32[3] = 0;
    CHECK_EQ_INT(th_model_validate(m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "J3[3]");
    th_model_set_onsite(m, 1.0, 0.0); /* the even well: J3 back to 0, J4 = 0 allowed */
    CHECK_EQ_INT(th_model_has_cubic(m), 0);
    CHECK_EQ_INT(th_model_validate(m), TH_OK);
    th_model_free(m);
}

/* A model with J3 saved and loaded back bit for bit, both dtypes; a model
 * without J3 writes no J3 tensor (so files of even wells keep their bytes)
 * and loads with J3 = 0; a J3 tensor of the wrong shape is refused. */
static void cubic_round_trip(th_dtype dtype)
{
    size_t sizes[2] = {3, 2};
    th_model *m = th_model_alloc(2, sizes, dtype), *back = NULL;
    th_tensor_file *f = NULL;
    CHECK(m != NULL);
    if (!m) return;
    th_model_couple(m, 0, 1);
    m->kT = 0.3;
    uint64_t state = 17;
    for (size_t i = 0; i < m->n; i++) {
        th_ptr_set(m->J2, dtype, i, test_uniform(&state, 0.5, 1.5));
        th_ptr_set(m->J3, dtype, i, i == 1 ? 0.0 : test_uniform(&state, -1, 1));
        th_ptr_set(m->J4, dtype, i, test_uniform(&state, 0.5, 1.5));
        th_ptr_set(m->b, dtype, i, test_uniform(&state, -1, 1));
    }
    th_model_set_coupling(m, 0, 4, 0.125);
    const char *cubic = scratch(dtype == TH_F32 ? "cubic32.safetensors" : "cubic64.safetensors");
    const char *even = scratch(dtype == TH_F32 ? "even32.safetensors" : "even64.safetensors");
    const char *bad = scratch(dtype == TH_F32 ? "bad32.safetensors" : "bad64.safetensors");
    CHECK_EQ_INT(th_model_save(cubic, m, NULL), TH_OK);
    CHECK_EQ_INT(th_model_load(cubic, &back, NULL), TH_OK);
    if (back) {
        CHECK(back->dtype == dtype && back->n == m->n);
        const size_t es = th_dtype_size(dtype);
        CHECK(memcmp(back->J3.v, m->J3.v, m->n * es) == 0);
        CHECK(memcmp(back->J2.v, m->J2.v, m->n * es) == 0);
        CHECK(memcmp(back->J4.v, m->J4.v, m->n * es) == 0);
        CHECK(memcmp(back->b.v, m->b.v, m->n * es) == 0);
        CHECK(memcmp(back->J.v, m->J.v, m->n * m->n * es) == 0);
        CHECK_EQ_INT(th_model_has_cubic(back), 1);
    }
    th_model_free(back);
    back = NULL;

    for (size_t i = 0; i < m->n; i++) th_ptr_set(m->J3, dtype, i, 0.0);
    CHECK_EQ_INT(th_model_save(even, m, NULL), TH_OK);
    CHECK_EQ_INT(th_safetensors_read(even, &f), TH_OK);
    if (f) {
        CHECK(th_tensor_file_find(f, "J2") != NULL);
        CHECK(th_tensor_file_find(f, "J3") == NULL);
    }
    th_tensor_file_free(f);
    f = NULL;
    CHECK_EQ_INT(th_model_load(even, &back, NULL), TH_OK);
    if (back) CHECK_EQ_INT(th_model_has_cubic(back), 0);
    th_model_free(back);
    back = NULL;

    /* The cubic file again with a J3 of n + 1 values: refused, naming J3. */
    CHECK_EQ_INT(th_safetensors_read(cubic, &f), TH_OK);
    if (f && dtype == TH_F64) {
        th_tensor t[5];
        double wide[6] = {0};
        for (size_t k = 0; k < f->count && k < 5; k++) {
            t[k] = f->tensors[k];
            if (strcmp(t[k].name, "J3") == 0) {
                t[k].shape[0] = 6;
                t[k].data.f64 = wide;
            }
        }
        CHECK_EQ_INT(f->count, 5);
        CHECK_EQ_INT(th_safetensors_write(bad, t, f->count, &f->meta), TH_OK);
        CHECK_EQ_INT(th_model_load(bad, &back, NULL), TH_EFORMAT);
        CHECK_STR_CONTAINS(th_last_error(), "\"J3\" has shape (6)");
        th_model_free(back);
    }
    th_tensor_file_free(f);
    th_model_free(m);
}

static void test_model_cubic_file_roundtrip(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    cubic_round_trip(TH_F32);
    cubic_round_trip(TH_F64);
    scratch_end();
}

void suite_model(void)
{
    RUN_TEST(test_model_defaults);
    RUN_TEST(test_model_prl_pairs);
    RUN_TEST(test_model_set_coupling);
    RUN_TEST(test_model_alloc_rejects);
    RUN_TEST(test_model_validate_rejects);
    RUN_TEST(test_model_cubic_term);
    RUN_TEST(test_model_cubic_file_roundtrip);
}
