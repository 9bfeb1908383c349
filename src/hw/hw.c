/* hw.c - the hardware model's parts (science.md section 9): the quantiser,
 * the mismatch draw, the ADC, and a trained model as a device realises it.
 * The bath's part (temperature, coloured noise, mobilities) runs in the
 * integrator (th_device_bath, src/core/langevin.c). */
#include "hw/hw_internal.h"

#include <math.h>
#include <string.h>

th_hw th_hw_ideal(void)
{
    th_hw h;
    memset(&h, 0, sizeof h);
    h.scaling = TH_HW_PER_BLOCK;
    h.device = 1;
    return h;
}

int th_hw_validate(const th_hw *hw)
{
    TH_ASSERT(hw != NULL);
    if (hw->bits > TH_HW_MAX_BITS)
        return th__fail(TH_EINVAL, "bits = %u: expected 1 to %d (0 = exact)", hw->bits,
                        TH_HW_MAX_BITS);
    if (hw->scaling != TH_HW_PER_BLOCK && hw->scaling != TH_HW_PER_ROW)
        return th__fail(TH_EINVAL, "scaling = %d: expected per block (0) or per row (1)",
                        hw->scaling);
    if (!(hw->mismatch >= 0) || !isfinite(hw->mismatch))
        return th__fail(TH_EINVAL, "mismatch = %g: expected a finite relative sd >= 0",
                        hw->mismatch);
    if (!(hw->kT_offset > -1) || !isfinite(hw->kT_offset))
        return th__fail(TH_EINVAL, "kT offset = %g: expected a finite value > -1 (kT (1 + "
                        "offset) > 0)", hw->kT_offset);
    if (!isfinite(hw->kT_drift))
        return th__fail(TH_EINVAL, "kT drift = %g: expected a finite value", hw->kT_drift);
    if (!(hw->tau_c >= 0) || !isfinite(hw->tau_c) || (hw->tau_c > 0 && !isfinite(1 / hw->tau_c)))
        return th__fail(TH_EINVAL, "tau_c = %g: expected a finite correlation time >= 0 (0 = "
                        "white noise)", hw->tau_c);
    if (hw->adc_bits > TH_HW_MAX_BITS)
        return th__fail(TH_EINVAL, "adc bits = %u: expected 1 to %d (0 = exact)", hw->adc_bits,
                        TH_HW_MAX_BITS);
    if (!(hw->adc_range >= 0) || !isfinite(hw->adc_range))
        return th__fail(TH_EINVAL, "adc range = %g: expected a finite value > 0 (0 = the "
                        "computer's own)", hw->adc_range);
    return TH_OK;
}

int th_hw_is_ideal(const th_hw *hw)
{
    return hw->bits == 0 && hw->mismatch == 0 && hw->kT_offset == 0 && hw->kT_drift == 0 &&
           hw->tau_c == 0 && hw->adc_bits == 0;
}

void th_hw_describe(const th_hw *hw, char *buf, size_t size)
{
    TH_ASSERT(hw != NULL && buf != NULL && size > 0);
    size_t at = 0;
    buf[0] = '\0';
#define PART(...)                                                                      \
    do {                                                                               \
        if (at < size) at += (size_t)snprintf(buf + at, size - at, at ? ", " : "");    \
        if (at < size) at += (size_t)snprintf(buf + at, size - at, __VA_ARGS__);       \
    } while (0)
    if (hw->bits)
        PART("%u bits per %s", hw->bits, hw->scaling == TH_HW_PER_ROW ? "row" : "block");
    if (hw->mismatch)
        PART("mismatch %g (device %llu)", hw->mismatch, (unsigned long long)hw->device);
    if (hw->kT_offset) PART("kT offset %+g", hw->kT_offset);
    if (hw->kT_drift) PART("kT drift %+g per unit time", hw->kT_drift);
    if (hw->tau_c) PART("coloured noise, tau_c %g", hw->tau_c);
    if (hw->adc_bits && hw->adc_range > 0)
        PART("ADC %u bits over [-%g, %g]", hw->adc_bits, hw->adc_range, hw->adc_range);
    else if (hw->adc_bits)
        PART("ADC %u bits over the computer's range", hw->adc_bits);
#undef PART
    if (!at) snprintf(buf, size, "ideal");
}

th_device_bath th_hw_bath(const th_hw *hw)
{
    th_device_bath b = {hw->kT_offset, hw->kT_drift, hw->tau_c, NULL};
    return b;
}

/* ------------------------------------------------------------ quantiser */

double th_hw_round(double v, double step, double levels)
{
    const double q = nearbyint(v / step);
    return fmax(-levels, fmin(levels, q)) * step;
}

double th_hw_quantise(double v, unsigned bits, double scale)
{
    if (bits == 0 || !(scale > 0)) return bits == 0 ? v : 0.0;
    if (bits == 1) return v > 0 ? scale : v < 0 ? -scale : 0.0;
    const double levels = ldexp(1.0, (int)bits - 1) - 1.0;
    return th_hw_round(v, scale / levels, levels);
}

double th_hw_scale_of(const double *v, size_t n, unsigned bits)
{
    double top = 0, sum = 0;
    size_t nonzero = 0;
    for (size_t k = 0; k < n; k++) {
        const double a = fabs(v[k]);
        top = fmax(top, a);
        sum += a;
        nonzero += a > 0;
    }
    if (bits == 1) return nonzero ? sum / (double)nonzero : 0.0;
    return top;
}

void th_hw_quantise_array(double *v, size_t n, unsigned bits)
{
    if (bits == 0) return;
    const double scale = th_hw_scale_of(v, n, bits);
    for (size_t k = 0; k < n; k++) v[k] = th_hw_quantise(v[k], bits, scale);
}

/* The scale of one block of couplings, rows [r0, r1) x columns [c0, c1) of J,
 * only i < j when the block is a group with itself. */
static double block_scale(const th_model *m, size_t r0, size_t r1, size_t c0, size_t c1,
                          unsigned bits)
{
    double top = 0, sum = 0;
    size_t nonzero = 0;
    for (size_t i = r0; i < r1; i++)
        for (size_t j = c0 > i + 1 ? c0 : i + 1; j < c1; j++) {
            const double a = fabs(th_ptr_get(m->J, m->dtype, i * m->n + j));
            top = fmax(top, a);
            sum += a;
            nonzero += a > 0;
        }
    if (bits == 1) return nonzero ? sum / (double)nonzero : 0.0;
    return top;
}

static void set_pair(th_model *m, size_t i, size_t j, double v)
{
    th_ptr_set(m->J, m->dtype, i * m->n + j, v);
    th_ptr_set(m->J, m->dtype, j * m->n + i, v);
}

/* Per block: every pair of coupled groups g <= h (i < j within a group),
 * then each group's biases. */
static void quantise_blocks(th_model *m, unsigned bits)
{
    const size_t n = m->n;
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = g; h < m->n_groups; h++) {
            if (!m->couples[g][h]) continue;
            const size_t r0 = m->group_start[g], r1 = m->group_start[g + 1];
            const size_t c0 = m->group_start[h], c1 = m->group_start[h + 1];
            const double scale = block_scale(m, r0, r1, c0, c1, bits);
            for (size_t i = r0; i < r1; i++)
                for (size_t j = c0 > i + 1 ? c0 : i + 1; j < c1; j++)
                    set_pair(m, i, j, th_hw_quantise(th_ptr_get(m->J, m->dtype, i * n + j),
                                                     bits, scale));
        }
    for (size_t g = 0; g < m->n_groups; g++) {
        const size_t u0 = m->group_start[g], u1 = m->group_start[g + 1];
        double top = 0, sum = 0;
        size_t nonzero = 0;
        for (size_t i = u0; i < u1; i++) {
            const double a = fabs(th_ptr_get(m->b, m->dtype, i));
            top = fmax(top, a);
            sum += a;
            nonzero += a > 0;
        }
        const double scale = bits == 1 ? (nonzero ? sum / (double)nonzero : 0.0) : top;
        for (size_t i = u0; i < u1; i++)
            th_ptr_set(m->b, m->dtype, i,
                       th_hw_quantise(th_ptr_get(m->b, m->dtype, i), bits, scale));
    }
}

/* Per row: unit i's scale from its couplings and bias (row[i]); the pair
 * (i, j) quantised with the smaller of the two, which both rows' values
 * reach, so nothing is clipped and J stays symmetric. */
static int quantise_rows(th_model *m, unsigned bits)
{
    const size_t n = m->n;
    double *row = th__alloc(n * sizeof *row);
    if (!row) return th__fail(TH_ENOMEM, "out of memory quantising %zu rows", n);
    for (size_t i = 0; i < n; i++) {
        double top = fabs(th_ptr_get(m->b, m->dtype, i)), sum = top;
        size_t nonzero = top > 0;
        for (size_t j = 0; j < n; j++) {
            const double a = fabs(th_ptr_get(m->J, m->dtype, i * n + j));
            top = fmax(top, a);
            sum += a;
            nonzero += a > 0;
        }
        row[i] = bits == 1 ? (nonzero ? sum / (double)nonzero : 0.0) : top;
    }
    for (size_t i = 0; i < n; i++) {
        th_ptr_set(m->b, m->dtype, i, th_hw_quantise(th_ptr_get(m->b, m->dtype, i), bits, row[i]));
        for (size_t j = i + 1; j < n; j++) {
            const double v = th_ptr_get(m->J, m->dtype, i * n + j);
            if (v != 0) set_pair(m, i, j, th_hw_quantise(v, bits, fmin(row[i], row[j])));
        }
    }
    th__free(row);
    return TH_OK;
}

int th_hw_quantise_model(th_model *m, unsigned bits, int scaling)
{
    TH_ASSERT(m != NULL);
    if (bits > TH_HW_MAX_BITS)
        return th__fail(TH_EINVAL, "bits = %u: expected 1 to %d (0 = exact)", bits,
                        TH_HW_MAX_BITS);
    if (bits == 0) return TH_OK;
    if (scaling == TH_HW_PER_ROW) return quantise_rows(m, bits);
    if (scaling != TH_HW_PER_BLOCK)
        return th__fail(TH_EINVAL, "scaling = %d: expected per block or per row", scaling);
    quantise_blocks(m, bits);
    return TH_OK;
}

void th_hw_adc_apply(unsigned adc_bits, double range, float *x, size_t n)
{
    if (adc_bits == 0) return;
    for (size_t k = 0; k < n; k++) x[k] = (float)th_hw_quantise((double)x[k], adc_bits, range);
}

void th_hw_readout(float *x, size_t n, const void *ctx)
{
    const th_hw *hw = ctx;
    th_hw_adc_apply(hw->adc_bits, hw->adc_range, x, n);
}

/* ------------------------------------------------------------- a device */

double th__hw_factor(double sd, double eps, int positive)
{
    const double f = 1.0 + sd * eps;
    return positive ? fmax(TH_HW_MIN_FACTOR, f) : f;
}

int th_hw_mismatch_model(th_model *m, double sd, uint64_t device, double *mu_scale)
{
    TH_ASSERT(m != NULL);
    const size_t n = m->n;
    for (size_t i = 0; mu_scale && i < n; i++) mu_scale[i] = 1.0;
    if (sd == 0) return TH_OK;
    if (!(sd > 0) || !isfinite(sd))
        return th__fail(TH_EINVAL, "mismatch = %g: expected a finite relative sd >= 0", sd);
    double *eps = th__alloc((n > 8 ? n : 8) * sizeof *eps);
    if (!eps) return th__fail(TH_ENOMEM, "out of memory for the mismatch of %zu units", n);
    for (size_t i = 0; i < n; i++) {
        th_normal_fill_f64(device, TH_HW_STREAM, 2 * (uint64_t)i, eps, 5);
        const double J2 = th_ptr_get(m->J2, m->dtype, i);
        th_ptr_set(m->J2, m->dtype, i, J2 * th__hw_factor(sd, eps[0], J2 > 0));
        const double J3 = th_ptr_get(m->J3, m->dtype, i), J4 = th_ptr_get(m->J4, m->dtype, i);
        th_ptr_set(m->J3, m->dtype, i, J3 * th__hw_factor(sd, eps[1], 0));
        th_ptr_set(m->J4, m->dtype, i, J4 * th__hw_factor(sd, eps[2], 1));
        const double b = th_ptr_get(m->b, m->dtype, i);
        th_ptr_set(m->b, m->dtype, i, b * th__hw_factor(sd, eps[3], 0));
        if (mu_scale) mu_scale[i] = th__hw_factor(sd, eps[4], 1);
    }
    for (size_t i = 0; i + 1 < n; i++) {
        th_normal_fill_f64(device, TH_HW_STREAM + 1 + i, 0, eps, n);
        for (size_t j = i + 1; j < n; j++) {
            const double v = th_ptr_get(m->J, m->dtype, i * n + j);
            if (v != 0) set_pair(m, i, j, v * th__hw_factor(sd, eps[j], 0));
        }
    }
    th__free(eps);
    return TH_OK;
}

void th_hw_device_free(th_hw_device *d)
{
    if (!d) return;
    th_model_free(d->model);
    th__free(d->mu_scale);
    th__free(d);
}

int th_hw_device_make(const th_hw *hw, const th_model *m, th_hw_device **out)
{
    TH_ASSERT(hw != NULL && m != NULL && out != NULL);
    *out = NULL;
    int rc = th_hw_validate(hw);
    if (rc != TH_OK) return rc;
    th_hw_device *d = th__calloc(1, sizeof *d);
    if (!d) return th__fail(TH_ENOMEM, "out of memory for a device");
    d->hw = *hw;
    d->model = th__model_copy(m);
    d->mu_scale = th__alloc(m->n * sizeof *d->mu_scale);
    if (!d->model || !d->mu_scale) {
        th_hw_device_free(d);
        return th__fail(TH_ENOMEM, "out of memory for a device of %zu units", m->n);
    }
    rc = th_hw_quantise_model(d->model, hw->bits, hw->scaling);
    if (rc == TH_OK) rc = th_hw_mismatch_model(d->model, hw->mismatch, hw->device, d->mu_scale);
    if (rc == TH_OK) rc = th_model_validate(d->model);
    if (rc != TH_OK) {
        th_hw_device_free(d);
        return rc;
    }
    d->bath = th_hw_bath(hw);
    if (hw->mismatch > 0) d->bath.mu_scale = d->mu_scale;
    *out = d;
    return TH_OK;
}
