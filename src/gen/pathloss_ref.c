/* pathloss_ref.c - the reference twin of the blocked reverse-path objective:
 * the same mathematics as pathloss_kernel.inc written as plain loops over
 * paths, steps, units and pairs, for the tests to compare the fast kernel
 * against (science.md section 2):
 *
 *     e_{k,i} = -Dx_{k,i} + mu dt dV/dx_i(x_{k+1}),   Dx_k = x_{k+1} - x_k,
 *     loss   += sum_k sum_i e_{k,i}^2 / (4 mu kT dt),
 *     r_{k,i} = e_{k,i} / (2 kT),
 *     dL/db_i = sum_k r_{k,i},  dL/dJ_ij = sum_k (r_{k,i} x_{k+1,j} + r_{k,j} x_{k+1,i}),
 *
 * with dV/dx_i = 2 J2_i x_i + 4 J4_i x_i^3 + b_i + sum_j J_ij x_j (section 1).
 *
 * Written once for both precisions: the model's parameters and each state are
 * read into double through th_ptr_get, and every sum runs in double, so the twin
 * differs from the fast float kernel only by the fast kernel's own rounding.
 * mu, kT and dt are taken from the generator's parameters, as the fast kernel
 * takes them. */
#include "gen_internal.h"

#include <string.h>

/* Double copies of the model and the block's accumulators, allocated once per
 * block so that nothing is allocated inside the step loop. */
struct ref_ws {
    double *J;      /* (n, n) couplings */
    double *J2;     /* (n) */
    double *J4;     /* (n) */
    double *bias;   /* (n) */
    double *x;      /* (n) x_k of the current path */
    double *x1;     /* (n) x_{k+1} */
    double *r;      /* (n) residuals r_{k,i} */
    double *grad_J; /* (n, n) upper triangle: sum over the block of r_i x1_j + r_j x1_i */
    double *grad_b; /* (n) sum over the block of r_i */
};

static void ws_free(struct ref_ws *w)
{
    th__free(w->J);
    th__free(w->J2);
    th__free(w->J4);
    th__free(w->bias);
    th__free(w->x);
    th__free(w->x1);
    th__free(w->r);
    th__free(w->grad_J);
    th__free(w->grad_b);
}

static int ws_alloc(struct ref_ws *w, const th_model *m, int want_grad)
{
    const size_t n = m->n;
    memset(w, 0, sizeof *w);
    w->J = th__alloc(n * n * sizeof(double));
    w->J2 = th__alloc(n * sizeof(double));
    w->J4 = th__alloc(n * sizeof(double));
    w->bias = th__alloc(n * sizeof(double));
    w->x = th__alloc(n * sizeof(double));
    w->x1 = th__alloc(n * sizeof(double));
    w->r = th__alloc(n * sizeof(double));
    if (want_grad) {
        w->grad_J = th__calloc(n * n, sizeof(double));
        w->grad_b = th__calloc(n, sizeof(double));
    }
    if (!w->J || !w->J2 || !w->J4 || !w->bias || !w->x || !w->x1 || !w->r ||
        (want_grad && (!w->grad_J || !w->grad_b))) {
        ws_free(w);
        return th__fail(TH_ENOMEM, "out of memory for the reference objective of %zu units", n);
    }
    for (size_t i = 0; i < n * n; i++) w->J[i] = th_ptr_get(m->J, m->dtype, i);
    for (size_t i = 0; i < n; i++) {
        w->J2[i] = th_ptr_get(m->J2, m->dtype, i);
        w->J4[i] = th_ptr_get(m->J4, m->dtype, i);
        w->bias[i] = th_ptr_get(m->b, m->dtype, i);
    }
    return TH_OK;
}

/* Adds r_i x1_j + r_j x1_i to the accumulator of every coupled pair i < j,
 * each unordered pair once: J_ij = J_ji is one parameter, and both e_i (through
 * J_ij x1_j) and e_j (through J_ji x1_i) depend on it. */
static void add_pair_gradient(const th_model *m, const double *r, const double *x1,
                              double *grad_J)
{
    const size_t n = m->n;
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = g; h < m->n_groups; h++) {
            if (!m->couples[g][h]) continue;
            for (size_t i = m->group_start[g]; i < m->group_start[g + 1]; i++) {
                /* Groups are contiguous and ascending, so within one group the
                 * pairs i < j start at i + 1, and every unit of a later group
                 * lies above i. */
                const size_t j0 = g == h ? i + 1 : m->group_start[h];
                for (size_t j = j0; j < m->group_start[h + 1]; j++)
                    grad_J[i * n + j] += r[i] * x1[j] + r[j] * x1[i];
            }
        }
}

int th__gen_block_loss_reference(const th_model *m, const th_gen_params *p, th_ptr states,
                                 size_t T, size_t B, double *loss, th_model *grad)
{
    TH_ASSERT(m != NULL && p != NULL && states.v != NULL && loss != NULL);
    TH_ASSERT(grad == NULL || (grad->n == m->n && grad->dtype == m->dtype));
    TH_ASSERT(p->n_visible <= m->n);
    const size_t n = m->n;
    struct ref_ws w;
    int rc = ws_alloc(&w, m, grad != NULL);
    if (rc != TH_OK) return rc;

    const double mudt = p->mu * p->dt, inv_2kT = 1.0 / (2.0 * p->kT);
    /* The clamped label units follow no dynamics: no residual. */
    const size_t n_moving = p->n_visible + p->n_hidden;
    double sum_e2 = 0;
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < T; k++) {
            /* states (T+1, B, n): x_k of path b at row k * B + b */
            const size_t row0 = (k * B + b) * n, row1 = ((k + 1) * B + b) * n;
            for (size_t i = 0; i < n; i++) {
                w.x[i] = th_ptr_get(states, m->dtype, row0 + i);
                w.x1[i] = th_ptr_get(states, m->dtype, row1 + i);
            }
            for (size_t i = n_moving; i < n; i++) w.r[i] = 0;
            for (size_t i = 0; i < n_moving; i++) {
                const double y = w.x1[i];
                double coupling = 0;
                for (size_t j = 0; j < n; j++) coupling += w.J[i * n + j] * w.x1[j];
                /* The force at the step's end point x_{k+1} (science.md
                 * section 2); mu dt multiplies dV/dx only. */
                const double dVdx = 2 * w.J2[i] * y + 4 * w.J4[i] * y * y * y + w.bias[i] +
                                    coupling;
                const double e = -(y - w.x[i]) + mudt * dVdx;
                sum_e2 += e * e;
                w.r[i] = e * inv_2kT;
            }
            if (!grad) continue;
            /* Visible biases are fixed at 0 in the PRL and not trained. */
            for (size_t i = 0; i < n; i++)
                if (th__gen_bias_trained(p, i)) w.grad_b[i] += w.r[i];
            add_pair_gradient(m, w.r, w.x1, w.grad_J);
        }
    *loss += sum_e2 / (4.0 * p->mu * p->kT * p->dt);

    if (grad) {
        /* One double value per unordered pair, written to both halves, keeps
         * the gradient exactly symmetric like J itself. */
        for (size_t g = 0; g < m->n_groups; g++)
            for (size_t h = g; h < m->n_groups; h++) {
                if (!m->couples[g][h]) continue;
                for (size_t i = m->group_start[g]; i < m->group_start[g + 1]; i++)
                    for (size_t j = g == h ? i + 1 : m->group_start[h];
                         j < m->group_start[h + 1]; j++) {
                        const double gij = w.grad_J[i * n + j];
                        th_ptr_set(grad->J, grad->dtype, i * n + j,
                               th_ptr_get(grad->J, grad->dtype, i * n + j) + gij);
                        th_ptr_set(grad->J, grad->dtype, j * n + i,
                               th_ptr_get(grad->J, grad->dtype, j * n + i) + gij);
                    }
            }
        for (size_t i = 0; i < n; i++)
            if (th__gen_bias_trained(p, i))
                th_ptr_set(grad->b, grad->dtype, i, th_ptr_get(grad->b, grad->dtype, i) + w.grad_b[i]);
    }
    ws_free(&w);
    return TH_OK;
}
