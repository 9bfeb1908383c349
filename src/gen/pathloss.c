/* pathloss.c - the objective that trains the generator: minus the log
 * probability that the computer, with its fixed couplings, runs the time
 * reverse of a noising path (science.md section 2),
 *
 *     -ln P = sum_k sum_i (-Dx_{k,i} + mu dt dV/dx_i(x_{k+1}))^2 / (4 mu kT dt),
 *
 * and its gradient. V is linear in the parameters, so this is a convex
 * quadratic: the gradient is exact and a float64 central difference checks
 * it. The noising path does not depend on the parameters, so it is generated
 * a block of steps at a time and the objective of the whole block is
 * evaluated with matrix products; memory stays bounded for any t_f. */
#include "gen_internal.h"

#include <string.h>

struct loss_ws {
    th_ptr resid;     /* (block * B, n) forces, then residuals r = e / (2 kT) */
    double *row_loss; /* (block * B) */
    th_ptr A;         /* (n, n) sum over rows of r_i x1_j, coupled blocks only */
    double *grad_b;   /* (n) sum over rows of r_i */
    th__force_plan *forces; /* the model's couplings, packed once per call */
};

/* Lanes of a row's sum of squared residuals (pathloss_kernel.inc). */
#define LOSS_LANES 16

#define REAL float
#define FN(name) name##_f32
#define GEMM th__gemm_f32
#define MEMBER f32
#include "pathloss_kernel.inc"
#undef REAL
#undef FN
#undef GEMM
#undef MEMBER

#define REAL double
#define FN(name) name##_f64
#define GEMM th__gemm_f64
#define MEMBER f64
#include "pathloss_kernel.inc"
#undef REAL
#undef FN
#undef GEMM
#undef MEMBER

struct loss_ctx {
    const th_gen_protocol *pr;
    const th_gen_params *p;
    th_kernel kernel;
    struct loss_ws ws[TH_GEN_MAX_SEGMENTS]; /* per segment; resid and row_loss shared */
    double loss;
    const th_gen_protocol *grad;
};

/* One block of T noising steps from first_step: each run of steps that
 * trains one segment (noising step k is generation step K-1-k) is
 * evaluated with that segment's model and adds to its gradient. */
static int on_block(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    struct loss_ctx *c = vctx;
    const th_gen_params *p = c->p;
    const size_t K = th_gen_steps(p), n = th_gen_units(p);
    const size_t es = th_dtype_size(c->pr->seg[0]->dtype);
    for (size_t o0 = 0; o0 < T;) {
        const size_t seg = th_gen_segment_of_step(p, K - 1 - (first_step + o0));
        size_t o1 = o0 + 1;
        while (o1 < T && th_gen_segment_of_step(p, K - 1 - (first_step + o1)) == seg) o1++;
        const th_model *m = c->pr->seg[seg];
        th_model *grad = c->grad ? c->grad->seg[seg] : NULL;
        th_ptr sub = {.v = (char *)states.v + o0 * B * n * es};
        int rc = TH_OK;
        if (c->kernel == TH_KERNEL_REFERENCE)
            rc = th__gen_block_loss_reference(m, p, sub, o1 - o0, B, &c->loss, grad);
        else if (m->dtype == TH_F32)
            block_loss_f32(m, p, &c->ws[seg], sub, o1 - o0, B, &c->loss, grad != NULL);
        else
            block_loss_f64(m, p, &c->ws[seg], sub, o1 - o0, B, &c->loss, grad != NULL);
        if (rc != TH_OK) return rc;
        o0 = o1;
    }
    return TH_OK;
}

int th__gen_check_architecture(const th_model *m, const th_gen_params *p, const char *what)
{
    if (m->n != th_gen_units(p) || m->n_groups != (p->n_classes ? 3u : 2u) ||
        m->group_start[1] != p->n_visible || m->group_start[2] != p->n_visible + p->n_hidden)
        return th__fail(TH_EINVAL, "%s has %zu units in %zu groups: expected %zu visible + %zu "
                        "hidden + %zu label", what, m->n, m->n_groups, p->n_visible,
                        p->n_hidden, p->n_classes);
    if (m->kT != p->kT || m->mu != p->mu)
        return th__fail(TH_EINVAL, "%s has kT = %g, mu = %g but the settings say kT = %g, "
                        "mu = %g", what, m->kT, m->mu, p->kT, p->mu);
    /* The path objective and its exact solve (science.md section 2) are
     * written for the even well 2 J2 x + 4 J4 x^3. */
    if (th_model_has_cubic(m))
        return th__fail(TH_EINVAL, "%s has a cubic on-site term (J3 != 0): the generator's "
                        "wells are even (J2 x^2 + J4 x^4)", what);
    if (m->couples[0][0])
        return th__fail(TH_EINVAL, "%s couples visible units to each other: the generator has "
                        "no visible-visible couplings", what);
    if (p->n_classes && (m->couples[2][2] || !m->couples[2][1] ||
                         m->couples[0][2] != (p->label_visible != 0)))
        return th__fail(TH_EINVAL, "%s couples its label units otherwise than the settings say "
                        "(to the hidden units%s)", what,
                        p->label_visible ? " and the visible units" : " only");
    return TH_OK;
}

int th_gen_path_loss(const th_model *m, const th_gen_params *p, const float *images,
                     const int *classes, const uint64_t *path_ids, size_t B, th_kernel kernel,
                     double *loss, th_model *grad)
{
    TH_ASSERT(m != NULL && p != NULL && loss != NULL);
    int rc = th__gen_single_segment(p, "th_gen_path_loss");
    if (rc != TH_OK) return rc;
    th_model *slot, *grad_slot;
    const th_gen_protocol view = th__gen_protocol_view(&slot, m);
    th_gen_protocol grad_view = th__gen_protocol_view(&grad_slot, grad);
    return th_gen_protocol_path_loss(&view, p, images, classes, path_ids, B, kernel, loss,
                                     grad ? &grad_view : NULL);
}

static void free_workspaces(struct loss_ctx *c, size_t S)
{
    th__free(c->ws[0].resid.v);
    th__free(c->ws[0].row_loss);
    for (size_t k = 0; k < S; k++) {
        th__free(c->ws[k].A.v);
        th__free(c->ws[k].grad_b);
        th__force_plan_free(c->ws[k].forces);
    }
}

int th_gen_protocol_path_loss(const th_gen_protocol *pr, const th_gen_params *p,
                              const float *images, const int *classes,
                              const uint64_t *path_ids, size_t B, th_kernel kernel,
                              double *loss, const th_gen_protocol *grad)
{
    return th__gen_protocol_path_loss(pr, p, images, classes, path_ids, B, kernel, loss, grad,
                                      1);
}

int th__gen_protocol_path_loss(const th_gen_protocol *pr, const th_gen_params *p,
                               const float *images, const int *classes,
                               const uint64_t *path_ids, size_t B, th_kernel kernel,
                               double *loss, const th_gen_protocol *grad, int check_models)
{
    TH_ASSERT(pr != NULL && p != NULL && loss != NULL);
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if ((rc = th__gen_protocol_check(pr, p, "the model")) != TH_OK) return rc;
    if (grad && (rc = th__gen_protocol_check(grad, p, "the gradient")) != TH_OK) return rc;
    const th_model *m = pr->seg[0];
    if (grad && grad->seg[0]->dtype != m->dtype)
        return th__fail(TH_EINVAL, "the gradient's precision differs from the model's");
    if (kernel != TH_KERNEL_FAST && kernel != TH_KERNEL_REFERENCE)
        return th__fail(TH_EINVAL, "kernel %d: expected fast or reference", (int)kernel);
    if (B == 0) return th__fail(TH_EINVAL, "0 paths: expected at least 1");
    const size_t S = pr->segments;
    for (size_t k = 0; check_models && k < S; k++)
        if ((rc = th_model_validate(pr->seg[k])) != TH_OK) return rc;

    const size_t n = m->n, es = th_dtype_size(m->dtype);
    const size_t steps = th_gen_steps(p);
    const size_t block = p->block_steps < steps ? p->block_steps : steps;
    struct loss_ctx c = {.pr = pr, .p = p, .kernel = kernel, .grad = grad};
    if (kernel == TH_KERNEL_FAST) {
        /* the residuals and row losses of a block serve every segment */
        th_ptr resid = {.v = th__alloc(block * B * n * es)};
        double *row_loss = th__alloc(block * B * sizeof(double));
        int ok = resid.v && row_loss;
        for (size_t k = 0; k < S; k++) {
            c.ws[k].resid = resid;
            c.ws[k].row_loss = row_loss;
            c.ws[k].A.v = grad ? th__calloc(n * n, es) : NULL;
            c.ws[k].grad_b = grad ? th__calloc(n, sizeof(double)) : NULL;
            c.ws[k].forces = th__force_plan_alloc(pr->seg[k]);
            ok = ok && (!grad || (c.ws[k].A.v && c.ws[k].grad_b)) && c.ws[k].forces;
        }
        if (!ok) {
            rc = th__fail(TH_ENOMEM, "out of memory for the objective of %zu paths", B);
            goto done;
        }
    }
    rc = th__gen_noising_paths(p, images, classes, path_ids, B, m->dtype, on_block, &c);
    if (rc == TH_OK) {
        *loss = c.loss;
        for (size_t k = 0; grad && kernel == TH_KERNEL_FAST && k < S; k++) {
            if (m->dtype == TH_F32)
                add_gradient_f32(pr->seg[k], p, &c.ws[k], grad->seg[k]);
            else
                add_gradient_f64(pr->seg[k], p, &c.ws[k], grad->seg[k]);
        }
    }
done:
    if (kernel == TH_KERNEL_FAST) free_workspaces(&c, S);
    return rc;
}
