/* model.c - units, on-site terms, biases and the block pattern of couplings.
 *
 * V(x) = sum_i (J2_i x_i^2 + J3_i x_i^3 + J4_i x_i^4 + b_i x_i)
 *      + sum_{i<j} J_ij x_i x_j
 * (science.md section 1; the cubic term of section 4). J is stored dense and symmetric, both halves, so the
 * force on a batch, F = X J, is a plain row-major matrix product; entries
 * outside the coupled blocks are kept at zero and never multiplied (see the
 * block plan in langevin.c). */
#include "internal.h"

#include <math.h>
#include <string.h>

size_t th_dtype_size(th_dtype dtype)
{
    TH_ASSERT(dtype == TH_F32 || dtype == TH_F64);
    return dtype == TH_F32 ? sizeof(float) : sizeof(double);
}

double th_ptr_get(th_ptr p, th_dtype dtype, size_t i)
{
    return dtype == TH_F32 ? (double)p.f32[i] : p.f64[i];
}

void th_ptr_set(th_ptr p, th_dtype dtype, size_t i, double value)
{
    if (dtype == TH_F32)
        p.f32[i] = (float)value;
    else
        p.f64[i] = value;
}

th_model *th_model_alloc(size_t n_groups, const size_t *group_sizes, th_dtype dtype)
{
    if (dtype != TH_F32 && dtype != TH_F64) {
        th__fail(TH_EINVAL, "dtype %d: expected TH_F32 or TH_F64", (int)dtype);
        return NULL;
    }
    if (n_groups < 1 || n_groups > TH_MAX_GROUPS) {
        th__fail(TH_EINVAL, "%zu groups: expected 1 to %d", n_groups, TH_MAX_GROUPS);
        return NULL;
    }
    TH_ASSERT(group_sizes != NULL);
    size_t n = 0;
    for (size_t g = 0; g < n_groups; g++) {
        if (group_sizes[g] == 0) {
            th__fail(TH_EINVAL, "group %zu has 0 units: expected at least 1", g);
            return NULL;
        }
        n += group_sizes[g];
    }
    /* n^2 elements must fit a size_t with room for the byte count. */
    if (n > ((size_t)1 << 28)) {
        th__fail(TH_EINVAL, "%zu units: too many for a dense coupling matrix", n);
        return NULL;
    }

    th_model *m = calloc(1, sizeof *m);
    if (!m) {
        th__fail(TH_ENOMEM, "out of memory allocating a model");
        return NULL;
    }
    m->dtype = dtype;
    m->n = n;
    m->n_groups = n_groups;
    for (size_t g = 0; g < n_groups; g++)
        m->group_start[g + 1] = m->group_start[g] + group_sizes[g];
    m->kT = 1.0;
    m->mu = 1.0;
    size_t es = th_dtype_size(dtype);
    m->J2.v = th__calloc(n, es);
    m->J3.v = th__calloc(n, es);
    m->J4.v = th__calloc(n, es);
    m->b.v = th__calloc(n, es);
    m->J.v = th__calloc(n * n, es);
    if (!m->J2.v || !m->J3.v || !m->J4.v || !m->b.v || !m->J.v) {
        th__fail(TH_ENOMEM, "out of memory allocating a model of %zu units (%.1f MB)",
                 n, (double)(n * n * es) / 1e6);
        th_model_free(m);
        return NULL;
    }
    th_model_set_onsite(m, 1.0, 1.0);
    return m;
}

void th_model_free(th_model *m)
{
    if (!m) return;
    th__free(m->J2.v);
    th__free(m->J3.v);
    th__free(m->J4.v);
    th__free(m->b.v);
    th__free(m->J.v);
    free(m);
}

int th_model_couple(th_model *m, size_t g, size_t h)
{
    TH_ASSERT(m != NULL);
    if (g >= m->n_groups || h >= m->n_groups)
        return th__fail(TH_EINVAL, "coupling groups %zu and %zu: the model has %zu groups",
                        g, h, m->n_groups);
    m->couples[g][h] = m->couples[h][g] = 1;
    return TH_OK;
}

size_t th_model_group_of(const th_model *m, size_t unit)
{
    TH_ASSERT(m != NULL && unit < m->n);
    size_t g = 0;
    while (unit >= m->group_start[g + 1]) g++;
    return g;
}

int th_model_groups_couple(const th_model *m, size_t i, size_t j)
{
    return m->couples[th_model_group_of(m, i)][th_model_group_of(m, j)];
}

int th_model_set_coupling(th_model *m, size_t i, size_t j, double value)
{
    TH_ASSERT(m != NULL);
    if (i >= m->n || j >= m->n)
        return th__fail(TH_EINVAL, "coupling (%zu, %zu): units run from 0 to %zu", i, j,
                        m->n - 1);
    if (i == j)
        return th__fail(TH_EINVAL, "coupling (%zu, %zu): a unit does not couple to itself "
                        "(use J2 for on-site terms)", i, j);
    if (!th_model_groups_couple(m, i, j))
        return th__fail(TH_EINVAL, "coupling (%zu, %zu): groups %zu and %zu are not coupled",
                        i, j, th_model_group_of(m, i), th_model_group_of(m, j));
    if (!isfinite(value))
        return th__fail(TH_EINVAL, "coupling (%zu, %zu) = %g: expected a finite value", i, j,
                        value);
    th_ptr_set(m->J, m->dtype, i * m->n + j, value);
    th_ptr_set(m->J, m->dtype, j * m->n + i, value);
    return TH_OK;
}

double th_model_get_coupling(const th_model *m, size_t i, size_t j)
{
    TH_ASSERT(m != NULL && i < m->n && j < m->n);
    return th_ptr_get(m->J, m->dtype, i * m->n + j);
}

void th_model_set_onsite3(th_model *m, double J2, double J3, double J4)
{
    TH_ASSERT(m != NULL);
    for (size_t i = 0; i < m->n; i++) {
        th_ptr_set(m->J2, m->dtype, i, J2);
        th_ptr_set(m->J3, m->dtype, i, J3);
        th_ptr_set(m->J4, m->dtype, i, J4);
    }
}

void th_model_set_onsite(th_model *m, double J2, double J4)
{
    th_model_set_onsite3(m, J2, 0.0, J4);
}

int th_model_has_cubic(const th_model *m)
{
    TH_ASSERT(m != NULL);
    for (size_t i = 0; i < m->n; i++)
        if (th_ptr_get(m->J3, m->dtype, i) != 0) return 1;
    return 0;
}

size_t th_model_coupling_pairs(const th_model *m)
{
    TH_ASSERT(m != NULL);
    size_t pairs = 0;
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = 0; h < m->n_groups; h++) {
            if (!m->couples[g][h]) continue;
            size_t ng = m->group_start[g + 1] - m->group_start[g];
            size_t nh = m->group_start[h + 1] - m->group_start[h];
            pairs += g == h ? ng * (ng - 1) : ng * nh;
        }
    return pairs;
}

static int check_finite_array(th_ptr p, th_dtype dtype, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(th_ptr_get(p, dtype, i)))
            return th__fail(TH_EINVAL, "%s[%zu] = %g: expected a finite value", name, i,
                            th_ptr_get(p, dtype, i));
    return TH_OK;
}

/* Checks the block of J with rows in group g and columns in group h: finite,
 * symmetric, zero diagonal, and all zero when the groups do not couple. */
#define DEFINE_CHECK_BLOCK(SUFFIX, REAL, MEMBER)                                             \
    static int check_block_##SUFFIX(const th_model *m, size_t g, size_t h)                   \
    {                                                                                        \
        const size_t n = m->n;                                                               \
        const REAL *J = m->J.MEMBER;                                                         \
        for (size_t i = m->group_start[g]; i < m->group_start[g + 1]; i++)                   \
            for (size_t j = m->group_start[h]; j < m->group_start[h + 1]; j++) {             \
                const REAL v = J[i * n + j];                                                 \
                if (v == 0) continue;                                                        \
                if (!isfinite(v))                                                            \
                    return th__fail(TH_EINVAL, "J[%zu][%zu] = %g: expected a finite value",  \
                                    i, j, (double)v);                                        \
                if (i == j)                                                                  \
                    return th__fail(TH_EINVAL, "J[%zu][%zu] = %g: the diagonal must be 0",   \
                                    i, i, (double)v);                                        \
                if (!m->couples[g][h])                                                       \
                    return th__fail(TH_EINVAL, "J[%zu][%zu] = %g: groups %zu and %zu are "   \
                                    "not coupled, so it must be 0", i, j, (double)v, g, h);  \
                if (v != J[j * n + i])                                                       \
                    return th__fail(TH_EINVAL, "J[%zu][%zu] = %g but J[%zu][%zu] = %g: J "   \
                                    "must be symmetric", i, j, (double)v, j, i,              \
                                    (double)J[j * n + i]);                                   \
            }                                                                                \
        return TH_OK;                                                                        \
    }
DEFINE_CHECK_BLOCK(f32, float, f32)
DEFINE_CHECK_BLOCK(f64, double, f64)

int th_model_validate(const th_model *m)
{
    TH_ASSERT(m != NULL);
    if (!(m->kT > 0) || !isfinite(m->kT))
        return th__fail(TH_EINVAL, "kT = %g: expected a finite temperature > 0", m->kT);
    if (!(m->mu > 0) || !isfinite(m->mu))
        return th__fail(TH_EINVAL, "mu = %g: expected a finite mobility > 0", m->mu);
    int rc;
    if ((rc = check_finite_array(m->J2, m->dtype, m->n, "J2")) ||
        (rc = check_finite_array(m->J3, m->dtype, m->n, "J3")) ||
        (rc = check_finite_array(m->J4, m->dtype, m->n, "J4")) ||
        (rc = check_finite_array(m->b, m->dtype, m->n, "b")))
        return rc;
    for (size_t i = 0; i < m->n; i++) {
        const double J3 = th_ptr_get(m->J3, m->dtype, i), J4 = th_ptr_get(m->J4, m->dtype, i);
        if (J4 < 0)
            return th__fail(TH_EINVAL, "J4[%zu] = %g: expected J4 >= 0 (a negative quartic "
                            "term has no bounded equilibrium)", i, J4);
        if (J3 != 0 && J4 == 0)
            return th__fail(TH_EINVAL, "J3[%zu] = %g with J4[%zu] = 0: a cubic term needs "
                            "J4 > 0 (without it the well has no bounded equilibrium)", i, J3,
                            i);
    }
    /* J block by block, so that each entry costs a compare and a load: this
     * runs before every simulation and must stay cheap next to it. */
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = 0; h < m->n_groups; h++) {
            int rc_block = m->dtype == TH_F32 ? check_block_f32(m, g, h) : check_block_f64(m, g, h);
            if (rc_block) return rc_block;
        }
    return TH_OK;
}

th_model *th__model_copy(const th_model *m)
{
    size_t sizes[TH_MAX_GROUPS];
    for (size_t g = 0; g < m->n_groups; g++) sizes[g] = m->group_start[g + 1] - m->group_start[g];
    th_model *c = th_model_alloc(m->n_groups, sizes, m->dtype);
    if (!c) return NULL;
    const size_t n = m->n, es = th_dtype_size(m->dtype);
    memcpy(c->couples, m->couples, sizeof c->couples);
    c->kT = m->kT;
    c->mu = m->mu;
    memcpy(c->J2.v, m->J2.v, n * es);
    memcpy(c->J3.v, m->J3.v, n * es);
    memcpy(c->J4.v, m->J4.v, n * es);
    memcpy(c->b.v, m->b.v, n * es);
    memcpy(c->J.v, m->J.v, n * n * es);
    return c;
}
