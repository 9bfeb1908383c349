/* test_model.c - the model: groups, the coupling pattern, validation. */
#include "harness.h"
#include "thermo.h"

#include <math.h>

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

void suite_model(void)
{
    RUN_TEST(test_model_defaults);
    RUN_TEST(test_model_prl_pairs);
    RUN_TEST(test_model_set_coupling);
    RUN_TEST(test_model_alloc_rejects);
    RUN_TEST(test_model_validate_rejects);
}
