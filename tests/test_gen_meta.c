/* test_gen_meta.c - the generator's settings as model-file metadata.
 *
 * Round trips must give back every field bit for bit (doubles compared with
 * memcmp, so that -0 and a subnormal count too), also through a model file
 * on disk; every missing or malformed key must be rejected with TH_EFORMAT
 * and a message naming the key, leaving the caller's struct untouched. */
#include "harness.h"
#include "thermo.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Settings chosen to be hard to round-trip: no field at its default,
 * doubles that are not short decimals, integers at their limits. */
static th_gen_params awkward_params(void)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 6;
    p.n_hidden = 5;
    p.kT = 0.1;
    p.J2 = 1.0 / 3.0;
    p.J4 = nextafter(1.0, 2.0);
    p.mu = 7e-3;
    p.dt = nextafter(1e-3, 0.0);
    p.t_f = 0.0123456789;
    p.drive = -0.0;
    p.ramp_fraction = 2.0 / 3.0;
    p.hidden_drive = TH_HIDDEN_PROJECTION;
    p.seed = UINT64_MAX;
    p.block_steps = SIZE_MAX;
    p.n_classes = 7;
    p.label_visible = 1;
    return p;
}

#define SAME_BITS(a, b, field) CHECK(memcmp(&(a).field, &(b).field, sizeof (a).field) == 0)

/* Field by field: struct padding is not part of the value. */
static void check_same_params(const th_gen_params *a, const th_gen_params *b)
{
    SAME_BITS(*a, *b, n_visible);
    SAME_BITS(*a, *b, n_hidden);
    SAME_BITS(*a, *b, kT);
    SAME_BITS(*a, *b, J2);
    SAME_BITS(*a, *b, J4);
    SAME_BITS(*a, *b, mu);
    SAME_BITS(*a, *b, dt);
    SAME_BITS(*a, *b, t_f);
    SAME_BITS(*a, *b, drive);
    SAME_BITS(*a, *b, ramp_fraction);
    SAME_BITS(*a, *b, hidden_drive);
    SAME_BITS(*a, *b, seed);
    SAME_BITS(*a, *b, block_steps);
    SAME_BITS(*a, *b, n_classes);
    SAME_BITS(*a, *b, label_visible);
    SAME_BITS(*a, *b, visible_bias);
    SAME_BITS(*a, *b, hidden_double_well);
}

static void test_gen_meta_round_trip(void)
{
    th_gen_params p = awkward_params();
    th_meta meta = {0};
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    CHECK_EQ_INT(meta.count, 15);
    /* The written form itself: 17 digits, integers whole, the drive named. */
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.kT"), "0.10000000000000001");
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.seed"), "18446744073709551615");
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.hidden_drive"), "projection");
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.drive"), "-0");
    th_gen_params q;
    memset(&q, 0xa5, sizeof q);
    CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_OK);
    check_same_params(&p, &q);
    CHECK(signbit(q.drive));

    /* The smallest subnormal: strtod reports underflow for it, yet it is the
     * exact value written, so it must come back. */
    p.drive = 4.9406564584124654e-324;
    p.hidden_drive = TH_HIDDEN_COPY;
    p.seed = 0;
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    CHECK_EQ_INT(meta.count, 15);
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.hidden_drive"), "copy");
    CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_OK);
    check_same_params(&p, &q);
    CHECK(q.drive > 0);

    /* The preset of science.md section 2. */
    th_gen_params d = th_gen_params_default();
    th_meta_clear(&meta);
    CHECK_EQ_INT(th_gen_params_to_meta(&d, &meta), TH_OK);
    CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_OK);
    check_same_params(&d, &q);
    CHECK(th_meta_get(&meta, "gen.visible_bias") == NULL); /* the paper's bytes */
    CHECK(th_meta_get(&meta, "gen.hidden_double_well") == NULL);

    /* Trained pixel biases: written only when set, read back; refused
     * beside the per-class pixel biases that already hold them. */
    d.visible_bias = 1;
    d.hidden_double_well = 1;
    th_meta_clear(&meta);
    CHECK_EQ_INT(th_gen_params_to_meta(&d, &meta), TH_OK);
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.visible_bias"), "1");
    CHECK_STR_CONTAINS(th_meta_get(&meta, "gen.hidden_double_well"), "1");
    CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_OK);
    check_same_params(&d, &q);
    p = awkward_params();
    p.visible_bias = 1;
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "label_visible");
    th_meta_clear(&meta);
}

static void test_gen_meta_rejects_invalid_params(void)
{
    th_gen_params p = th_gen_params_default();
    p.dt = 0;
    th_meta meta = {0};
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "dt");
    th_meta_clear(&meta);
}

/* A copy of the default settings' metadata without key skip (NULL: none)
 * and with key set to value (NULL: none). */
static void meta_variant(th_meta *out, const char *skip, const char *key, const char *value)
{
    th_gen_params d = th_gen_params_default();
    th_meta full = {0};
    th_gen_params_to_meta(&d, &full);
    th_meta_clear(out);
    for (size_t i = 0; i < full.count; i++)
        if (!skip || strcmp(full.keys[i], skip) != 0)
            th_meta_set(out, full.keys[i], full.values[i]);
    if (key) th_meta_set(out, key, value);
    th_meta_clear(&full);
}

static const char *const all_keys[] = {
    "gen.n_visible", "gen.n_hidden", "gen.kT", "gen.J2", "gen.J4", "gen.mu", "gen.dt",
    "gen.t_f", "gen.drive", "gen.ramp_fraction", "gen.hidden_drive", "gen.seed",
    "gen.block_steps",
};

/* Whether th_gen_params_from_meta left p as the sentinel it was given. */
static int untouched(const th_gen_params *p)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < sizeof *p; i++)
        if (b[i] != 0xa5) return 0;
    return 1;
}

static void test_gen_meta_missing_key(void)
{
    th_meta meta = {0};
    for (size_t k = 0; k < sizeof all_keys / sizeof all_keys[0]; k++) {
        meta_variant(&meta, all_keys[k], NULL, NULL);
        CHECK_EQ_INT(meta.count, 14);
        th_gen_params q;
        memset(&q, 0xa5, sizeof q);
        CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_EFORMAT);
        CHECK_STR_CONTAINS(th_last_error(), all_keys[k]);
        CHECK_STR_CONTAINS(th_last_error(), "missing");
        CHECK(untouched(&q));
    }
    /* gen.n_classes and gen.label_visible came later: a file without them is
     * an unconditional generator's. */
    meta_variant(&meta, "gen.n_classes", NULL, NULL);
    th_meta older = {0};
    for (size_t i = 0; i < meta.count; i++)
        if (strcmp(meta.keys[i], "gen.label_visible") != 0)
            th_meta_set(&older, meta.keys[i], meta.values[i]);
    CHECK_EQ_INT(older.count, 13);
    th_gen_params old;
    memset(&old, 0xa5, sizeof old);
    CHECK_EQ_INT(th_gen_params_from_meta(&older, &old), TH_OK);
    CHECK(old.n_classes == 0 && old.label_visible == 0);
    th_meta_clear(&older);
    th_meta empty = {0};
    th_gen_params q;
    CHECK_EQ_INT(th_gen_params_from_meta(&empty, &q), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "gen.n_visible: missing");
    th_meta_clear(&meta);
}

static void test_gen_meta_malformed(void)
{
    static const struct {
        const char *key, *value, *says;
    } cases[] = {
        {"gen.dt", "abc", "gen.dt = 'abc': expected a number"},
        {"gen.dt", "", "gen.dt = '': expected a number"},
        {"gen.dt", "1e", "gen.dt = '1e'"},
        {"gen.dt", " 0.001", "gen.dt = ' 0.001'"},
        {"gen.dt", "0.001 ", "gen.dt = '0.001 '"},
        {"gen.dt", "0x1p-10", "gen.dt = '0x1p-10'"},
        {"gen.dt", "1e-400", "gen.dt = '1e-400'"}, /* underflows to 0 */
        {"gen.kT", "nan", "gen.kT = 'nan'"},
        {"gen.kT", "inf", "gen.kT = 'inf'"},
        {"gen.kT", "1e999", "gen.kT = '1e999'"},
        {"gen.drive", "-infinity", "gen.drive"},
        {"gen.n_visible", "-1", "gen.n_visible = '-1': expected a whole number"},
        {"gen.n_visible", "+784", "gen.n_visible = '+784'"},
        {"gen.n_visible", "784.0", "gen.n_visible = '784.0'"},
        {"gen.n_visible", "7.84e2", "gen.n_visible"},
        {"gen.n_visible", " 784", "gen.n_visible"},
        {"gen.n_hidden", "0x200", "gen.n_hidden"},
        {"gen.seed", "18446744073709551616", "gen.seed"}, /* 2^64 */
        {"gen.seed", "-1", "gen.seed"},
        {"gen.block_steps", "250steps", "gen.block_steps"},
        {"gen.hidden_drive", "Copy", "gen.hidden_drive = 'Copy': expected copy or projection"},
        {"gen.hidden_drive", "1", "gen.hidden_drive"},
        /* Well formed but no generator: caught by validation, still named. */
        {"gen.dt", "0", "gen.dt = 0"},
        {"gen.kT", "-0.1", "gen.kT = -0.1"},
        {"gen.ramp_fraction", "1.5", "gen.ramp_fraction = 1.5"},
        {"gen.block_steps", "0", "gen.block_steps = 0"},
        {"gen.n_hidden", "0", "gen.n_hidden = 0"},
        {"gen.n_visible", "70000", "gen settings: "},
    };
    th_meta meta = {0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        meta_variant(&meta, NULL, cases[k].key, cases[k].value);
        th_gen_params q;
        memset(&q, 0xa5, sizeof q);
        int rc = th_gen_params_from_meta(&meta, &q);
        if (rc != TH_EFORMAT)
            fprintf(stderr, "  case %s = '%s'\n", cases[k].key, cases[k].value);
        CHECK_EQ_INT(rc, TH_EFORMAT);
        CHECK_STR_CONTAINS(th_last_error(), cases[k].says);
        CHECK(untouched(&q));
    }
    /* Keys that are not the generator's are none of its business. */
    meta_variant(&meta, NULL, "gen.comment", "trained on three digits");
    th_gen_params q;
    CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_OK);
    th_meta_clear(&meta);
}

/* Through a file: the settings ride in th_model_save's extra metadata next
 * to other entries, and th_model_load hands them back with the model. */
static void test_gen_meta_model_file(void)
{
    char dir[] = "/tmp/thermo-test-gen-meta-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    th_gen_params p = awkward_params();
    p.block_steps = 250;
    p.t_f = 0.05;
    th_model *m = th_gen_model_alloc(&p, TH_F64);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_EQ_INT(th_model_set_coupling(m, 0, 6, 0.25), TH_OK);
    CHECK_EQ_INT(th_model_set_coupling(m, 7, 10, -1.0 / 3.0), TH_OK);
    th_ptr_set(m->b, m->dtype, 8, 0.125);

    th_meta extra = {0};
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &extra), TH_OK);
    th_meta_set(&extra, "data.rows", "2");
    th_meta_set(&extra, "data.cols", "3");
    CHECK_EQ_INT(th_model_save(path, m, &extra), TH_OK);

    th_model *back = NULL;
    th_meta got = {0};
    CHECK_EQ_INT(th_model_load(path, &back, &got), TH_OK);
    CHECK(back != NULL);
    th_gen_params q;
    memset(&q, 0xa5, sizeof q);
    CHECK_EQ_INT(th_gen_params_from_meta(&got, &q), TH_OK);
    check_same_params(&p, &q);
    CHECK_STR_CONTAINS(th_meta_get(&got, "data.rows"), "2");
    CHECK(th_meta_get(&got, "model.kT") != NULL);
    if (back) {
        CHECK_EQ_INT(back->n, m->n);
        CHECK(back->dtype == TH_F64);
        CHECK(memcmp(back->J.f64, m->J.f64, m->n * m->n * sizeof(double)) == 0);
        CHECK(memcmp(back->b.f64, m->b.f64, m->n * sizeof(double)) == 0);
        CHECK(memcmp(&back->kT, &m->kT, sizeof m->kT) == 0);
    }

    th_model_free(back);
    th_meta_clear(&got);
    th_meta_clear(&extra);
    th_model_free(m);
    unlink(path);
    rmdir(dir);
}

void suite_gen_meta(void)
{
    RUN_TEST(test_gen_meta_round_trip);
    RUN_TEST(test_gen_meta_rejects_invalid_params);
    RUN_TEST(test_gen_meta_missing_key);
    RUN_TEST(test_gen_meta_malformed);
    RUN_TEST(test_gen_meta_model_file);
}
