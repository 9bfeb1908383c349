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
    const th_model *m;
    const th_gen_params *p;
    th_kernel kernel;
    struct loss_ws ws;
    double loss;
    th_model *grad;
};

static int on_block(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    struct loss_ctx *c = vctx;
    (void)first_step;
    if (c->kernel == TH_KERNEL_REFERENCE)
        return th__gen_block_loss_reference(c->m, c->p, states, T, B, &c->loss, c->grad);
    if (c->m->dtype == TH_F32)
        block_loss_f32(c->m, c->p, &c->ws, states, T, B, &c->loss, c->grad != NULL);
    else
        block_loss_f64(c->m, c->p, &c->ws, states, T, B, &c->loss, c->grad != NULL);
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
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if ((rc = th__gen_check_architecture(m, p, "the model")) != TH_OK) return rc;
    if (grad && (rc = th__gen_check_architecture(grad, p, "the gradient")) != TH_OK) return rc;
    if (grad && grad->dtype != m->dtype)
        return th__fail(TH_EINVAL, "the gradient's precision differs from the model's");
    if (kernel != TH_KERNEL_FAST && kernel != TH_KERNEL_REFERENCE)
        return th__fail(TH_EINVAL, "kernel %d: expected fast or reference", (int)kernel);
    if (B == 0) return th__fail(TH_EINVAL, "0 paths: expected at least 1");
    if ((rc = th_model_validate(m)) != TH_OK) return rc;

    const size_t n = m->n, es = th_dtype_size(m->dtype);
    const size_t steps = th_gen_steps(p);
    const size_t block = p->block_steps < steps ? p->block_steps : steps;
    struct loss_ctx c = {.m = m, .p = p, .kernel = kernel, .grad = grad};
    if (kernel == TH_KERNEL_FAST) {
        c.ws.resid.v = th__alloc(block * B * n * es);
        c.ws.row_loss = th__alloc(block * B * sizeof(double));
        c.ws.A.v = grad ? th__calloc(n * n, es) : NULL;
        c.ws.grad_b = grad ? th__calloc(n, sizeof(double)) : NULL;
        c.ws.forces = th__force_plan_alloc(m);
        if (!c.ws.resid.v || !c.ws.row_loss || (grad && (!c.ws.A.v || !c.ws.grad_b)) ||
            !c.ws.forces) {
            rc = th__fail(TH_ENOMEM, "out of memory for the objective of %zu paths", B);
            goto done;
        }
    }
    rc = th__gen_noising_paths(p, images, classes, path_ids, B, m->dtype, on_block, &c);
    if (rc == TH_OK) {
        *loss = c.loss;
        if (grad && kernel == TH_KERNEL_FAST) {
            if (m->dtype == TH_F32)
                add_gradient_f32(m, p, &c.ws, grad);
            else
                add_gradient_f64(m, p, &c.ws, grad);
        }
    }
done:
    th__free(c.ws.resid.v);
    th__free(c.ws.row_loss);
    th__free(c.ws.A.v);
    th__free(c.ws.grad_b);
    th__force_plan_free(c.ws.forces);
    return rc;
}
