/* protocol.c - time-dependent protocols of the generator: couplings and
 * trained biases piecewise constant over S segments of the generation time
 * (issue 18; science.md section 2 with a time-dependent V). The segments'
 * steps, the protocol object (S models sharing the on-site terms), and the
 * protocol as a model file: segment 0 under the usual tensor names, so that a
 * one-segment protocol is today's model file to the byte, and segment s >= 1
 * as "J.seg<s>" and "b.seg<s>". */
#include "gen_internal.h"
#include "io/io_internal.h"

#include <string.h>

size_t th_gen_segment_begin(const th_gen_params *p, size_t s)
{
    TH_ASSERT(p != NULL && p->segments >= 1 && s <= p->segments);
    /* K <= 1e8 and S <= 64: the product fits 64 bits. */
    return (size_t)((uint64_t)s * (uint64_t)th_gen_steps(p) / (uint64_t)p->segments);
}

size_t th_gen_segment_of_step(const th_gen_params *p, size_t g)
{
    TH_ASSERT(p != NULL && p->segments >= 1);
    size_t s = 0;
    while (s + 1 < p->segments && th_gen_segment_begin(p, s + 1) <= g) s++;
    return s;
}

int th__gen_single_segment(const th_gen_params *p, const char *fn)
{
    if (p->segments == 1) return TH_OK;
    return th__fail(TH_EINVAL, "%s takes one model, but the settings have %zu segments: use its "
                    "th_gen_protocol_* twin", fn, p->segments);
}

/* ------------------------------------------------------------ the object */

void th_gen_protocol_free(th_gen_protocol *pr)
{
    if (!pr) return;
    for (size_t s = 0; pr->owned && pr->seg && s < pr->segments; s++) th_model_free(pr->seg[s]);
    free(pr->seg);
    free(pr);
}

/* An owning protocol with room for S models, all NULL. */
static th_gen_protocol *protocol_new(size_t S)
{
    if (S == 0 || S > TH_GEN_MAX_SEGMENTS) {
        th__fail(TH_EINVAL, "%zu segments: expected 1 to %d", S, TH_GEN_MAX_SEGMENTS);
        return NULL;
    }
    th_gen_protocol *pr = calloc(1, sizeof *pr);
    if (pr) pr->seg = calloc(S, sizeof *pr->seg);
    if (!pr || !pr->seg) {
        free(pr);
        th__fail(TH_ENOMEM, "out of memory for a protocol of %zu segments", S);
        return NULL;
    }
    pr->segments = S;
    pr->owned = 1;
    return pr;
}

th_gen_protocol *th_gen_protocol_alloc(const th_gen_params *p, th_dtype dtype)
{
    TH_ASSERT(p != NULL);
    if (th_gen_params_validate(p) != TH_OK) return NULL;
    th_gen_protocol *pr = protocol_new(p->segments);
    for (size_t s = 0; pr && s < pr->segments; s++)
        if (!(pr->seg[s] = th_gen_model_alloc(p, dtype))) {
            th_gen_protocol_free(pr);
            return NULL;
        }
    return pr;
}

/* Whether a and b have the same groups, pattern, dtype, bath and on-site
 * terms: the parts segments share. */
static int same_frame(const th_model *a, const th_model *b)
{
    if (a->n != b->n || a->n_groups != b->n_groups || a->dtype != b->dtype || a->kT != b->kT ||
        a->mu != b->mu || memcmp(a->group_start, b->group_start, sizeof a->group_start) ||
        memcmp(a->couples, b->couples, sizeof a->couples))
        return 0;
    const size_t bytes = a->n * th_dtype_size(a->dtype);
    return !memcmp(a->J2.v, b->J2.v, bytes) && !memcmp(a->J3.v, b->J3.v, bytes) &&
           !memcmp(a->J4.v, b->J4.v, bytes);
}

th_gen_protocol *th_gen_protocol_from_models(const th_model *const *models, size_t S)
{
    TH_ASSERT(models != NULL);
    for (size_t s = 1; s < S; s++)
        if (!same_frame(models[0], models[s])) {
            th__fail(TH_EINVAL, "segment %zu's model differs from segment 0's in its units, "
                     "couplings allowed, dtype, bath or on-site terms", s);
            return NULL;
        }
    th_gen_protocol *pr = protocol_new(S);
    for (size_t s = 0; pr && s < S; s++)
        if (!(pr->seg[s] = th__model_copy(models[s]))) {
            th_gen_protocol_free(pr);
            return NULL;
        }
    return pr;
}

size_t th_gen_protocol_segments(const th_gen_protocol *pr)
{
    TH_ASSERT(pr != NULL);
    return pr->segments;
}

th_model *th_gen_protocol_segment(const th_gen_protocol *pr, size_t s)
{
    TH_ASSERT(pr != NULL && s < pr->segments);
    return pr->seg[s];
}

int th__gen_protocol_check(const th_gen_protocol *pr, const th_gen_params *p, const char *what)
{
    if (pr->segments != p->segments)
        return th__fail(TH_EINVAL, "%s has %zu segments but the settings say %zu", what,
                        pr->segments, p->segments);
    char name[96];
    for (size_t s = 0; s < pr->segments; s++) {
        snprintf(name, sizeof name, pr->segments > 1 ? "%s (segment %zu)" : "%s", what, s);
        int rc = th__gen_check_architecture(pr->seg[s], p, name);
        if (rc != TH_OK) return rc;
        if (s && !same_frame(pr->seg[0], pr->seg[s]))
            return th__fail(TH_EINVAL, "%s: its dtype or on-site terms differ from segment 0's",
                            name);
    }
    return TH_OK;
}

/* ------------------------------------------------------------ the file */

int th_gen_protocol_save(const char *path, const th_gen_protocol *pr, const th_meta *meta)
{
    TH_ASSERT(path != NULL && pr != NULL && meta != NULL);
    th_gen_params p;
    int rc = th_gen_params_from_meta(meta, &p);
    if (rc != TH_OK) return rc;
    if ((rc = th__gen_protocol_check(pr, &p, "the protocol")) != TH_OK) return rc;
    const size_t S = pr->segments, n = pr->seg[0]->n;
    th_tensor *more = calloc(2 * S, sizeof *more);
    if (!more) return th__fail(TH_ENOMEM, "%s: out of memory", path);
    for (size_t s = 1; s < S; s++) {
        const th_model *m = pr->seg[s];
        if ((rc = th_model_validate(m)) != TH_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", th_last_error());
            free(more);
            return th__fail(rc, "%s: not saving an invalid segment %zu: %s", path, s, why);
        }
        th_tensor *J = &more[2 * (s - 1)], *b = J + 1;
        snprintf(J->name, sizeof J->name, "J.seg%zu", s);
        snprintf(b->name, sizeof b->name, "b.seg%zu", s);
        J->dtype = b->dtype = m->dtype;
        J->n_dims = 2;
        b->n_dims = 1;
        J->shape[0] = J->shape[1] = b->shape[0] = n;
        J->data = m->J;
        b->data = m->b;
    }
    rc = th__model_save_more(path, pr->seg[0], meta, more, 2 * (S - 1));
    free(more);
    return rc;
}

/* Segment s's couplings and biases from their tensors into m (a copy of
 * segment 0), then m validated: TH_EFORMAT naming the file and tensor. */
static int read_segment(const char *path, const th_tensor_file *f, size_t s, th_model *m)
{
    char names[2][64];
    snprintf(names[0], sizeof names[0], "J.seg%zu", s);
    snprintf(names[1], sizeof names[1], "b.seg%zu", s);
    const th_tensor *t[2];
    const char *groups = th_meta_get(&f->meta, "model.groups");
    for (int k = 0; k < 2; k++) {
        int rc = th__model_find_tensor(path, f, names[k], k == 0 ? 2 : 1, m->n,
                                       groups ? groups : "", &t[k]);
        if (rc != TH_OK) return rc;
        if (t[k]->dtype != m->dtype)
            return th__fail(TH_EFORMAT, "%s: tensor \"%s\" is %s but the model is %s", path,
                            names[k], t[k]->dtype == TH_F32 ? "F32" : "F64",
                            m->dtype == TH_F32 ? "F32" : "F64");
    }
    const size_t es = th_dtype_size(m->dtype);
    memcpy(m->J.v, t[0]->data.v, m->n * m->n * es);
    memcpy(m->b.v, t[1]->data.v, m->n * es);
    if (th_model_validate(m) != TH_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        return th__fail(TH_EFORMAT, "%s: tensors \"%s\" and \"%s\" (segment %zu) are not a valid "
                        "model: %s", path, names[0], names[1], s, why);
    }
    return TH_OK;
}

int th_gen_protocol_load(const char *path, th_gen_protocol **out, th_gen_params *p,
                         th_meta *meta)
{
    TH_ASSERT(path != NULL && out != NULL && p != NULL);
    *out = NULL;
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc != TH_OK) return rc;
    th_gen_protocol *pr = NULL;
    th_model *m0 = NULL;
    th_gen_params q;
    if ((rc = th_gen_params_from_meta(&f->meta, &q)) != TH_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        rc = th__fail(TH_EFORMAT, "%s: %s", path, why);
        goto done;
    }
    if ((rc = th__model_from_file(path, f, &m0, NULL)) != TH_OK) goto done;
    if (!(pr = protocol_new(q.segments))) {
        rc = TH_ENOMEM;
        goto done;
    }
    pr->seg[0] = m0;
    m0 = NULL;
    for (size_t s = 1; s < pr->segments && rc == TH_OK; s++) {
        if (!(pr->seg[s] = th__model_copy(pr->seg[0])))
            rc = th__fail(TH_ENOMEM, "%s: out of memory for segment %zu", path, s);
        else
            rc = read_segment(path, f, s, pr->seg[s]);
    }
    if (rc == TH_OK && (rc = th__gen_protocol_check(pr, &q, "the model")) != TH_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        rc = th__fail(TH_EFORMAT, "%s: %s", path, why);
    }
    if (rc != TH_OK) goto done;
    if (meta) {
        th_meta_clear(meta);
        *meta = f->meta;
        memset(&f->meta, 0, sizeof f->meta);
    }
    *p = q;
    *out = pr;
    pr = NULL;
done:
    th_model_free(m0);
    th_gen_protocol_free(pr);
    th_tensor_file_free(f);
    return rc;
}
