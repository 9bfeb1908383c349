/* computers.c - the hardware model applied to each computer at run time:
 * the generator's sampling, the student classifier, the neurons, and the
 * device of hardware-aware training (science.md section 9). */
#include "hw/hw_internal.h"

#include <math.h>
#include <string.h>

/* A generator's visible units hold standardised pixels squeezed by the
 * quartic wells: |x| < 2 covers them. */
#define GEN_ADC_RANGE 2.0
/* A neuron network's output y targets cos(2 pi z) in [-1, 1]. */
#define NEURON_ADC_RANGE 1.25
/* The classifier's range: its noise-free output end state with a margin. */
#define STUDENT_ADC_MARGIN 1.25

int th_hw_gen_sample(const th_hw *hw, const th_model *m, const th_gen_params *p, size_t count,
                     const th_gen_sample_opts *opts, float *out, double *heat)
{
    TH_ASSERT(hw != NULL && m != NULL && p != NULL && opts != NULL && out != NULL);
    if (p->segments != 1)
        return th__fail(TH_EINVAL, "th_hw_gen_sample takes one model, but the settings have %zu "
                        "segments: use th_hw_gen_protocol_sample", p->segments);
    th_gen_protocol *pr = th_gen_protocol_from_models(&m, 1);
    if (!pr) return TH_ENOMEM;
    int rc = th_hw_gen_protocol_sample(hw, pr, p, count, opts, out, heat);
    th_gen_protocol_free(pr);
    return rc;
}

int th_hw_gen_protocol_sample(const th_hw *hw, const th_gen_protocol *pr,
                              const th_gen_params *p, size_t count,
                              const th_gen_sample_opts *opts, float *out, double *heat)
{
    TH_ASSERT(hw != NULL && pr != NULL && p != NULL && opts != NULL && out != NULL);
    if (opts->bath)
        return th__fail(TH_EINVAL, "sampling on a device: the options already carry a bath");
    /* Every segment's couplings on the one chip: the same quantiser and
     * mismatch draw (hw's device seed) for each, the bath segment 0's. */
    const size_t S = th_gen_protocol_segments(pr);
    th_hw_device *d[TH_GEN_MAX_SEGMENTS] = {0};
    const th_model *models[TH_GEN_MAX_SEGMENTS];
    int rc = TH_OK;
    for (size_t k = 0; rc == TH_OK && k < S; k++) {
        rc = th_hw_device_make(hw, th_gen_protocol_segment(pr, k), &d[k]);
        if (rc == TH_OK) models[k] = d[k]->model;
    }
    th_gen_protocol *dev = rc == TH_OK ? th_gen_protocol_from_models(models, S) : NULL;
    if (rc == TH_OK && !dev) rc = TH_ENOMEM;
    th_gen_sample_opts o = *opts;
    if (rc == TH_OK) {
        o.bath = &d[0]->bath;
        rc = th_gen_protocol_sample_dist(dev, p, count, &o, out, heat);
    }
    if (rc == TH_OK)
        th_hw_adc_apply(hw->adc_bits, hw->adc_range > 0 ? hw->adc_range : GEN_ADC_RANGE, out,
                        count * p->n_visible);
    th_gen_protocol_free(dev);
    for (size_t k = 0; k < S; k++) th_hw_device_free(d[k]);
    return rc;
}

int th_hw_gen_samples(const th_hw *hw, const th_model *m, const th_gen_params *p, size_t count,
                      th_samples **out)
{
    TH_ASSERT(hw != NULL && m != NULL && p != NULL && out != NULL);
    *out = NULL;
    if (p->segments != 1)
        return th__fail(TH_EINVAL, "th_hw_gen_samples takes one model, but the settings have "
                        "%zu segments: use th_hw_gen_protocol_samples", p->segments);
    th_gen_protocol *pr = th_gen_protocol_from_models(&m, 1);
    if (!pr) return TH_ENOMEM;
    int rc = th_hw_gen_protocol_samples(hw, pr, p, count, 0, out);
    th_gen_protocol_free(pr);
    return rc;
}

int th_hw_gen_protocol_samples(const th_hw *hw, const th_gen_protocol *pr,
                               const th_gen_params *p, size_t count, size_t readout_window,
                               th_samples **out)
{
    TH_ASSERT(hw != NULL && pr != NULL && p != NULL && out != NULL);
    *out = NULL;
    if (count == 0) return th__fail(TH_EINVAL, "0 samples: expected at least 1");
    th_samples *s = calloc(1, sizeof *s);
    if (!s) return th__fail(TH_ENOMEM, "out of memory for %zu samples", count);
    s->count = count;
    s->n_pix = p->n_visible;
    s->images = th__alloc(count * p->n_visible * sizeof *s->images);
    s->heat = malloc(count * sizeof *s->heat);
    s->classes = p->n_classes ? malloc(count * sizeof *s->classes) : NULL;
    int rc = s->images && s->heat && (!p->n_classes || s->classes)
                 ? TH_OK
                 : th__fail(TH_ENOMEM, "out of memory for %zu samples", count);
    for (size_t k = 0; rc == TH_OK && s->classes && k < count; k++)
        s->classes[k] = (int)(k % th_gen_classes(p));
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.readout_window = readout_window;
    if (rc == TH_OK) rc = th_hw_gen_protocol_sample(hw, pr, p, count, &so, s->images, s->heat);
    if (rc != TH_OK) {
        th_samples_free(s);
        return rc;
    }
    *out = s;
    return TH_OK;
}

double th_hw_student_adc_range(const th_student_params *p)
{
    TH_ASSERT(p != NULL);
    /* 2 J2 x + 4 J4 x^3 = gain is increasing in x >= 0 for J2, J4 > 0:
     * bisection between 0 and a bound where it exceeds the gain. */
    const double gain = th_student_gain(p);
    double lo = 0, hi = 1;
    while (2 * p->J2 * hi + 4 * p->J4 * hi * hi * hi < gain && hi < 1e6) hi *= 2;
    for (int k = 0; k < 200; k++) {
        const double mid = 0.5 * (lo + hi);
        if (2 * p->J2 * mid + 4 * p->J4 * mid * mid * mid < gain) lo = mid;
        else hi = mid;
    }
    return STUDENT_ADC_MARGIN * hi;
}

void th_hw_student_free(th_hw_student *d)
{
    if (!d) return;
    th_hw_device_free(d->device);
    th__free(d);
}

int th_hw_student_make(const th_hw *hw, const th_student *s, const th_student_eval_opts *base,
                       th_hw_student **out, th_student_eval_opts *o)
{
    TH_ASSERT(hw != NULL && s != NULL && base != NULL && out != NULL && o != NULL);
    *out = NULL;
    if (base->bath || base->readout)
        return th__fail(TH_EINVAL, "a student on a device: the options already carry a bath or "
                        "a readout");
    th_hw_student *d = th__calloc(1, sizeof *d);
    if (!d) return th__fail(TH_ENOMEM, "out of memory for a device");
    int rc = th_hw_device_make(hw, s->model, &d->device);
    if (rc != TH_OK) {
        th__free(d);
        return rc;
    }
    d->hw = *hw;
    if (d->hw.adc_range == 0) d->hw.adc_range = th_hw_student_adc_range(&s->params);
    d->student = *s;
    d->student.model = d->device->model;
    /* The free units (hidden, output) follow the inputs. */
    d->free_bath = d->device->bath;
    if (d->free_bath.mu_scale) d->free_bath.mu_scale += s->params.n_input;
    *o = *base;
    o->bath = &d->free_bath;
    if (hw->adc_bits) {
        o->readout = th_hw_readout;
        o->readout_ctx = &d->hw;
    }
    *out = d;
    return TH_OK;
}

int th_hw_student_evaluate(const th_hw *hw, const th_student *s, const th_student_params *p,
                           const th_dataset *d, const float *X, const th_student_eval_opts *o,
                           double temperature_K, double mac_energy_J, th_student_report *r)
{
    th_hw_student *dev = NULL;
    th_student_eval_opts eo;
    int rc = th_hw_student_make(hw, s, o, &dev, &eo);
    if (rc == TH_OK)
        rc = th_student_evaluate(&dev->student, p, d, X, &eo, temperature_K, mac_energy_J, r);
    th_hw_student_free(dev);
    return rc;
}

/* ------------------------------------------------------------- neurons */

int th_hw_neuron_device(const th_hw *hw, const th_neuron_params *p, const th_neuron_net *net,
                        th_neuron_params *out_p, th_neuron_net **out_net)
{
    TH_ASSERT(hw != NULL && p != NULL && net != NULL && out_p != NULL && out_net != NULL);
    *out_net = NULL;
    int rc = th_hw_validate(hw);
    if (rc != TH_OK) return rc;
    if (hw->kT_drift != 0 || hw->tau_c != 0)
        return th__fail(TH_EINVAL, "kT drift %g, tau_c %g: neurons run their own Euler loop, "
                        "with white noise at a fixed temperature; drift and coloured noise "
                        "come when they move onto the core integrator", hw->kT_drift,
                        hw->tau_c);
    const size_t L = net->n_layers, w = net->width;
    th_neuron_net *d = th_neuron_net_alloc(L, w);
    if (!d) return TH_ENOMEM;
    memcpy(d->theta, net->theta, net->n_params * sizeof *d->theta);
    /* Quantisation: the input field, each layer's biases, each layer
     * pair's couplings (per row: each neuron's couplings to the next layer). */
    th_hw_quantise_array(d->W, w, hw->bits);
    for (size_t l = 0; l < L; l++) th_hw_quantise_array(d->b + l * w, w, hw->bits);
    const size_t block = hw->scaling == TH_HW_PER_ROW ? w : w * w;
    for (size_t k = 0; k + 1 < L; k++)
        for (size_t r = 0; r < w * w; r += block)
            th_hw_quantise_array(d->w + k * w * w + r, block, hw->bits);
    /* Mismatch: every analog parameter (W, b, w; the readout f is digital),
     * one normal each in their order in theta. */
    const size_t analog = (size_t)(d->f - d->theta);
    if (hw->mismatch > 0) {
        double *eps = th__alloc(analog * sizeof *eps);
        if (!eps) {
            th_neuron_net_free(d);
            return th__fail(TH_ENOMEM, "out of memory for the mismatch draw");
        }
        th_normal_fill_f64(hw->device, TH_HW_STREAM, 0, eps, analog);
        for (size_t k = 0; k < analog; k++) d->theta[k] *= th__hw_factor(hw->mismatch, eps[k], 0);
        th__free(eps);
    }
    *out_p = *p;
    out_p->kT = p->kT * (1.0 + hw->kT_offset);
    *out_net = d;
    return TH_OK;
}

/* The index of the curve's time nearest t. */
static size_t nearest_time(const th_neuron_eval *e, double t)
{
    size_t best = 0;
    for (size_t k = 1; k < TH_NEURON_CURVE_POINTS; k++)
        if (fabs(e->times[k] - t) < fabs(e->times[best] - t)) best = k;
    return best;
}

/* The curve again from the same runs (same seed and streams), y read
 * through the ADC before each loss. */
static int curve_through_adc(const th_hw *hw, const th_neuron_params *p,
                             const th_neuron_net *net, th_neuron_eval *e)
{
    const size_t n_z = e->n_z, w = p->width, T = TH_NEURON_CURVE_POINTS;
    const double range = hw->adc_range > 0 ? hw->adc_range : NEURON_ADC_RANGE;
    th_neuron_params q = *p;
    q.replicas = e->replicas;
    size_t steps[TH_NEURON_CURVE_POINTS];
    for (size_t k = 0; k < T; k++) steps[k] = th_neuron_steps(p, e->times[k]);
    double *means = th__alloc((T * n_z * w + n_z) * sizeof *means), *y = means + T * n_z * w;
    float *read = th__alloc(n_z * sizeof *read);
    int rc = means && read ? th_neuron_run(&q, net, e->z, n_z, e->replicas, e->seed, 0, steps, T,
                                           TH_KERNEL_FAST, means)
                           : th__fail(TH_ENOMEM, "out of memory for the curve");
    const size_t at_tf = nearest_time(e, p->t_f);
    for (size_t k = 0; rc == TH_OK && k < T; k++) {
        th_neuron_readout(net, means + k * n_z * w, n_z, y);
        for (size_t j = 0; j < n_z; j++) read[j] = (float)y[j];
        th_hw_adc_apply(hw->adc_bits, range, read, n_z);
        double loss = 0;
        for (size_t j = 0; j < n_z; j++) {
            loss += ((double)read[j] - e->target[j]) * ((double)read[j] - e->target[j]);
            if (k == at_tf) e->y[j] = (double)read[j];
        }
        e->loss[k] = loss / (double)n_z;
    }
    if (rc == TH_OK) {
        e->best = 0;
        for (size_t k = 1; k < T; k++)
            if (e->loss[k] < e->loss[e->best]) e->best = k;
        e->loss_half = e->loss[nearest_time(e, 0.5 * p->t_f)];
        e->loss_tf = e->loss[at_tf];
        e->loss_double = e->loss[nearest_time(e, 2.0 * p->t_f)];
    }
    th__free(means);
    th__free(read);
    return rc;
}

int th_hw_neuron_evaluate(const th_hw *hw, const th_neuron_params *p, const th_neuron_net *net,
                          size_t replicas, uint64_t seed, th_neuron_eval *out)
{
    TH_ASSERT(hw != NULL && p != NULL && net != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    th_neuron_params dp;
    th_neuron_net *dn = NULL;
    int rc = th_hw_neuron_device(hw, p, net, &dp, &dn);
    if (rc == TH_OK) rc = th_neuron_evaluate(&dp, dn, replicas, seed, out);
    if (rc == TH_OK && hw->adc_bits) rc = curve_through_adc(hw, &dp, dn, out);
    if (rc != TH_OK) th_neuron_eval_free(out);
    th_neuron_net_free(dn);
    return rc;
}

/* ------------------------------------------------ hardware-aware training */

int th_hw_train_device(const th_model *m, size_t update, th_model *out, void *ctx)
{
    TH_ASSERT(m != NULL && out != NULL && ctx != NULL && out->n == m->n &&
              out->dtype == m->dtype);
    const th_hw *hw = ctx;
    const size_t n = m->n, es = th_dtype_size(m->dtype);
    memcpy(out->J2.v, m->J2.v, n * es);
    memcpy(out->J3.v, m->J3.v, n * es);
    memcpy(out->J4.v, m->J4.v, n * es);
    memcpy(out->b.v, m->b.v, n * es);
    memcpy(out->J.v, m->J.v, n * n * es);
    int rc = th_hw_quantise_model(out, hw->bits, hw->scaling);
    /* The path objective has one mu: the mobilities' mismatch is not drawn. */
    if (rc == TH_OK && hw->mismatch > 0)
        rc = th_hw_mismatch_model(out, hw->mismatch, TH_HW_TRAIN_DEVICES + hw->device + update,
                                  NULL);
    return rc;
}

int th_hw_train_meta(const th_hw *hw, th_meta *meta)
{
    TH_ASSERT(hw != NULL && meta != NULL);
    int rc = TH_OK;
    if (hw->bits) rc = th_meta_setf(meta, "train.aware_bits", "%u", hw->bits);
    if (rc == TH_OK && hw->bits)
        rc = th_meta_set(meta, "train.aware_scaling",
                         hw->scaling == TH_HW_PER_ROW ? "row" : "block");
    if (rc == TH_OK && hw->mismatch > 0) {
        rc = th_meta_setf(meta, "train.aware_mismatch", "%.17g", hw->mismatch);
        if (rc == TH_OK)
            rc = th_meta_setf(meta, "train.aware_device", "%llu", (unsigned long long)hw->device);
    }
    return rc;
}
