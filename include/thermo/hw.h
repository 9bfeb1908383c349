/* thermo/hw.h - one hardware model for every computer: quantised couplings and biases, device mismatch, temperature offset and drift, coloured noise, ADC readout; the hardware sweep and its budget.
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_HW_H
#define THERMO_HW_H

#include <stddef.h>
#include <stdint.h>

#include "thermo/core.h"
#include "thermo/io.h"
#include "thermo/gen.h"
#include "thermo/classify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================= the hardware (hw) */

/* What a chip does to a trained computer (science.md section 9). Each part
 * is applied at run time to the trained parameters, in this order:
 *   1. quantisation: couplings and biases stored in `bits` bits by the
 *      symmetric uniform quantiser that includes zero (th_hw_quantise), one
 *      scale per coupling block (pair of coupled groups; biases per group)
 *      or per row (unit);
 *   2. mismatch: every J2, J3, J4, mu, coupling and bias of the device is the
 *      programmed value times (1 + mismatch eps), eps ~ N(0, 1) drawn once per
 *      device from the device seed (the positive parts J2 > 0, J4 and mu keep
 *      their sign: the factor is at least TH_HW_MIN_FACTOR);
 *   3. the bath: kT (1 + kT_offset + kT_drift t) and coloured noise of
 *      correlation time tau_c (th_device_bath, in the integrator);
 *   4. readout: the outputs (a generator's visible units, a classifier's
 *      output units of each trajectory, a neuron network's output y) through
 *      an ADC of adc_bits bits over [-adc_range, adc_range].
 * Every field 0 is the ideal computer, and the result is then bit-identical
 * to the run without the hardware model. */
typedef enum th_hw_scaling {
    TH_HW_PER_BLOCK = 0, /* one scale per coupling block and per group's biases */
    TH_HW_PER_ROW = 1    /* one per unit: its couplings and bias; a pair takes the finer */
} th_hw_scaling;

typedef struct th_hw {
    unsigned bits;       /* couplings and biases: 1 .. TH_HW_MAX_BITS; 0 = exact */
    int scaling;         /* th_hw_scaling: TH_HW_PER_BLOCK */
    double mismatch;     /* relative sd of every part, >= 0: 0 */
    uint64_t device;     /* device seed of the mismatch draw: 1 */
    double kT_offset;    /* delta, > -1: kT_device = kT (1 + delta): 0 */
    double kT_drift;     /* relative change of kT per unit time (1/mu), finite: 0 */
    double tau_c;        /* correlation time of the noise, >= 0 finite; 0 = white */
    unsigned adc_bits;   /* readout: 1 .. TH_HW_MAX_BITS; 0 = exact */
    double adc_range;    /* X > 0; 0 = the computer's own (th_hw_adc_range_for) */
} th_hw;

#define TH_HW_MAX_BITS 32
#define TH_HW_MIN_FACTOR 0.01

/* The ideal computer (every field as above). */
th_hw th_hw_ideal(void);
/* TH_EINVAL naming the first bad field: "bits", "mismatch", "tau_c", ... */
int th_hw_validate(const th_hw *hw);
/* 1 when nothing departs from the ideal. */
int th_hw_is_ideal(const th_hw *hw);
/* One line for reports: "ideal", or the parts that depart from it ("4 bits
 * per block, mismatch 0.02 (device 1), kT offset 0.05, tau_c 0.01, ADC 6
 * bits over [-X, X]"), into buf (size, cut if need be). */
void th_hw_describe(const th_hw *hw, char *buf, size_t size);
/* The part of hw the integrator applies (mu_scale NULL). */
th_device_bath th_hw_bath(const th_hw *hw);

/* ------------------------------------------------------------ quantiser */

/* The one rounding rule of every quantiser thermo models (couplings and
 * biases, ADCs, the SPU's capacitor banks, src/linalg/spu.c): v to the
 * nearest q step, q a whole number clipped to [-levels, levels]. */
double th_hw_round(double v, double step, double levels);

/* The b-bit symmetric uniform quantiser that includes zero: levels q Delta,
 * q in {-(2^(b-1) - 1) .. 2^(b-1) - 1}, Delta = scale / (2^(b-1) - 1),
 * values beyond scale clipped; b = 1 is sign(v) scale (sign(0) = 0). bits
 * 0: v unchanged. */
double th_hw_quantise(double v, unsigned bits, double scale);

/* The scale the quantiser of b bits uses for a set of values sharing it:
 * max |v| (b >= 2), or the mean |v| over the nonzero values (b = 1, the
 * least-squares scale of sign(v)). 0 for all-zero values. */
double th_hw_scale_of(const double *v, size_t n, unsigned bits);

/* Quantises the n values v in place with one shared scale (th_hw_scale_of). */
void th_hw_quantise_array(double *v, size_t n, unsigned bits);

/* Quantises m's couplings (every coupled block) and biases in place, by
 * block or by row (th_hw_scaling). Per row, unit i's scale covers its
 * couplings and its bias, and the pair (i, j) takes the finer of rows i and
 * j, so that J stays symmetric and no coupling is clipped. */
int th_hw_quantise_model(th_model *m, unsigned bits, int scaling);

/* The ADC: x (n) in place to the adc_bits-bit quantiser of scale range;
 * nothing when adc_bits is 0. */
void th_hw_adc_apply(unsigned adc_bits, double range, float *x, size_t n);
/* The same as a readout callback (th_student_eval_opts.readout): ctx is a
 * const th_hw * whose adc_range is resolved (> 0). */
void th_hw_readout(float *x, size_t n, const void *ctx);

/* ------------------------------------------------------------- a device */

/* The mismatch draw of device seed `device`: unit i's factors come from
 * stream TH_HW_STREAM of that seed, block 2 i (J2, J3, J4, bias, mu in that
 * order); the couplings of row i with the units j > i from stream
 * TH_HW_STREAM + 1 + i, value j. A unit's draw depends on its index and the
 * seed alone. */
#define TH_HW_STREAM ((uint64_t)0xB0 << 56)

/* Multiplies m's parts by their factors in place; mu_scale (n) receives the
 * mobility factors (NULL: not wanted). sd 0 leaves m as it is (mu_scale 1). */
int th_hw_mismatch_model(th_model *m, double sd, uint64_t device, double *mu_scale);

/* A trained model as a device realises it. */
typedef struct th_hw_device {
    th_hw hw;
    th_model *model;     /* quantised, then mismatched copy of the trained model */
    double *mu_scale;    /* (n) mobility factors */
    th_device_bath bath; /* for every unit of model (th_run.bath) */
} th_hw_device;

/* The device of model m under hw (validated). Free with th_hw_device_free. */
int th_hw_device_make(const th_hw *hw, const th_model *m, th_hw_device **out);
void th_hw_device_free(th_hw_device *d);

/* ----------------------------------------------------- the computers */

/* thermo sample on a device: th_gen_sample_dist of the device's model with
 * its bath in both phases (the noise phase is on the same chip), then the
 * visible units through the ADC (adc_range 0: 2, the scale of the
 * standardised pixels the units hold). opts->bath must be NULL. */
int th_hw_gen_sample(const th_hw *hw, const th_model *m, const th_gen_params *p, size_t count,
                     const th_gen_sample_opts *opts, float *out, double *heat);

/* count samples of generator m (settings p) on hw, as thermo eval reads
 * them: sample k (noise stream k) of class k mod n_classes for a
 * conditional generator (classes NULL for an unconditional one), with its
 * heat. Free with th_samples_free. */
int th_hw_gen_samples(const th_hw *hw, const th_model *m, const th_gen_params *p, size_t count,
                      th_samples **out);

/* The same for a time-dependent protocol (th_gen_protocol_sample): every
 * segment's model realised by the same device (hw's quantiser and mismatch
 * draw), the bath the device's. _samples reads the samples with the given
 * readout window (th_gen_sample_opts.readout_window). */
int th_hw_gen_protocol_sample(const th_hw *hw, const th_gen_protocol *pr,
                              const th_gen_params *p, size_t count,
                              const th_gen_sample_opts *opts, float *out, double *heat);
int th_hw_gen_protocol_samples(const th_hw *hw, const th_gen_protocol *pr,
                               const th_gen_params *p, size_t count, size_t readout_window,
                               th_samples **out);

/* The ADC range a classifier's outputs need when adc_range is 0: the
 * noise-free end state x* of an output unit under the largest target force
 * gain (2 J2 x + 4 J4 x^3 = gain), times 1.25. */
double th_hw_student_adc_range(const th_student_params *p);

/* A student on a device: the device's student (s's settings and teacher, the
 * device's model; free with th_hw_student_free) and the evaluation options
 * that carry its bath and readout. o is filled from base. The device must
 * live while the student and options are used. */
typedef struct th_hw_student {
    th_hw_device *device;
    th_hw hw;                  /* hw with its ADC range resolved */
    th_student student;        /* model: the device's; the rest s's (not owned) */
    th_device_bath free_bath;  /* the free units' part of the device's bath */
} th_hw_student;

int th_hw_student_make(const th_hw *hw, const th_student *s, const th_student_eval_opts *base,
                       th_hw_student **out, th_student_eval_opts *o);
void th_hw_student_free(th_hw_student *d);
/* th_student_evaluate of s on the device hw makes of it (o without a bath
 * or readout). */
int th_hw_student_evaluate(const th_hw *hw, const th_student *s, const th_student_params *p,
                           const th_dataset *d, const float *X, const th_student_eval_opts *o,
                           double temperature_K, double mac_energy_J, th_student_report *r);

/* Neurons (src/classify/neuron.c runs its own Euler loop): quantisation and
 * mismatch of the input field W, biases b and couplings w (blocks: W, each
 * layer's biases, each layer pair's couplings; rows: a neuron's couplings to
 * the next layer), the temperature offset through kT, and the ADC on the
 * output y (adc_range 0: 1.25, the target's range with a margin).
 * kT_drift and tau_c need the core integrator: TH_EINVAL naming them. The
 * readout weights f stay digital. out_p, out_net: the device's settings and
 * network (allocated; free with th_neuron_net_free). */
int th_hw_neuron_device(const th_hw *hw, const th_neuron_params *p, const th_neuron_net *net,
                        th_neuron_params *out_p, th_neuron_net **out_net);
/* th_neuron_evaluate on the device, y read through the ADC at every time
 * of the curve (the losses use the read y). */
int th_hw_neuron_evaluate(const th_hw *hw, const th_neuron_params *p, const th_neuron_net *net,
                          size_t replicas, uint64_t seed, th_neuron_eval *out);

/* ===================================================== the hardware sweep */

/* A trained computer with what measuring it needs: a generator (every
 * segment of a time-dependent protocol on the one device,
 * th_hw_gen_protocol_samples, its samples read with the model file's
 * sample.readout_window when it records one; quality:
 * the judge's conditional accuracy for a conditional one; for an
 * unconditional one the share of samples whose |correlation| with a
 * training image is at least 0.5, the training set rebuilt from the model's
 * data.* metadata; the Frechet distance with a judge) or a student
 * classifier (top-1 with the outputs averaged over its trajectories). */
typedef enum th_hw_kind {
    TH_HW_GENERATOR = 0,
    TH_HW_CONDITIONAL = 1,
    TH_HW_CLASSIFIER = 2
} th_hw_kind;

typedef struct th_hw_target_opts {
    const char *judge;       /* judge network for generators; NULL: none (no Frechet) */
    const char *data;        /* folder of the real images: "data/mnist" */
    size_t samples;          /* generator: samples a measurement: 200 */
    size_t images;           /* classifier: test images: 1000 */
    size_t trajectories;     /* classifier: per image: 10 */
    size_t reference;        /* training images the judge's floor and nearest search use: 200 */
} th_hw_target_opts;

th_hw_target_opts th_hw_target_opts_default(void);

typedef struct th_hw_target th_hw_target;

/* Loads the model file path (a generator written by thermo train, or a
 * student by thermo classify train) and what measuring it needs. TH_EINVAL
 * when a conditional generator has no judge; TH_EFORMAT naming the file when
 * it is neither kind. */
int th_hw_target_load(const char *path, const th_hw_target_opts *o, th_hw_target **out);
void th_hw_target_free(th_hw_target *t);
int th_hw_target_kind(const th_hw_target *t);

typedef struct th_hw_measure {
    double quality;  /* in [0, 1] */
    double heat;     /* kT per sample (generator) or per classification (classifier) */
    double frechet;  /* generators with a judge; NAN otherwise */
} th_hw_measure;

/* One measurement of t on hw (validated; adc_range 0 resolved per
 * computer), with the noise of the model's seed + noise: the same noise
 * gives measurements that differ by the hardware alone. */
int th_hw_target_measure(const th_hw_target *t, const th_hw *hw, uint64_t noise,
                         th_hw_measure *out);

/* The parameter a sweep varies. */
typedef enum th_hw_param {
    TH_HW_PARAM_BITS = 0,     /* bits */
    TH_HW_PARAM_MISMATCH = 1, /* mismatch */
    TH_HW_PARAM_TAU = 2,      /* tau_c */
    TH_HW_PARAM_DKT = 3,      /* kT_offset */
    TH_HW_PARAM_ADC = 4       /* adc_bits */
} th_hw_param;

/* "bits", "mismatch", "tau", "dkT", "adc", NULL-terminated. */
const char *const *th_hw_param_names(void);
/* hw with the parameter set to value; TH_EINVAL naming the parameter for a
 * value it cannot take (bits not whole, mismatch < 0, ...). */
int th_hw_param_set(th_hw *hw, int param, double value);

typedef struct th_hw_sweep_opts {
    int param;               /* th_hw_param */
    const double *values;    /* (n_values), ascending */
    size_t n_values;
    size_t devices;          /* device draws per value: 3 */
    uint64_t first_device;   /* seeds first_device .. + devices - 1: 1 */
    th_hw base;              /* what is held fixed while param varies: ideal */
    th_progress_fn progress; /* measurements done */
    void *progress_ctx;
} th_hw_sweep_opts;

th_hw_sweep_opts th_hw_sweep_opts_default(void);

/* A sweep of one target and optionally of a comparison (a hardware-aware
 * model): one comparison target measured at every value, or one per value
 * (target k at value k: a model trained for that value). */
/* Device k of a sweep (k = 0 .. devices - 1) is the chip of seed
 * first_device + k running noise k (th_hw_target_measure): a chip's own
 * thermal noise is part of it. The ideal computer runs the same noises, so
 * that each device's point pairs with an ideal one. */
typedef struct th_hw_sweep {
    int param, kind;
    size_t n_values, devices;
    double *values;          /* (n_values) */
    th_hw_measure ideal;     /* the ideal computer: the mean over its noises */
    th_hw_measure *ideal_points; /* (devices) */
    th_hw_measure *points;   /* (n_values, devices) */
    int has_compare;
    th_hw_measure *compare;  /* (n_values, devices) or NULL */
} th_hw_sweep;

/* The mean and the standard deviation (n - 1; 0 for one device) over the
 * devices at value v of the target (which 0) or the comparison (1). */
void th_hw_sweep_stats(const th_hw_sweep *s, int which, size_t v, th_hw_measure *mean,
                       th_hw_measure *sd);

int th_hw_sweep_run(th_hw_target *target, th_hw_target *const *compare, size_t n_compare,
                    const th_hw_sweep_opts *o, th_hw_sweep **out);
void th_hw_sweep_free(th_hw_sweep *s);

/* The budget: the fewest bits (bits, adc), or the largest mismatch, tau_c
 * or |kT offset|, whose mean quality over the devices costs at most 1 point
 * of accuracy (classifier) or 5% of the quality (generator) against the
 * ideal, with every value beyond it in the same direction (more bits, less
 * imperfection) passing too. which: 0 the target, 1 the comparison. */
typedef struct th_hw_budget {
    int found;
    int at_edge;           /* the most departing value swept (but 1 bit): it may lie beyond */
    double value;          /* the parameter's value at the budget */
    double threshold;      /* the quality it had to reach */
    double quality, heat;  /* means over the devices at the budget */
} th_hw_budget;

int th_hw_sweep_budget(const th_hw_sweep *s, int which, th_hw_budget *b);

/* sweep.csv: param,value,device,quality,heat (+ frechet for a generator
 * measured with a judge; + model, "target" or "compare", when there is a
 * comparison), the first row the ideal (param "ideal"), then one per value
 * and device. Atomic. */
int th_hw_sweep_write_csv(const char *path, const th_hw_sweep *s);

/* sweep.png: quality (top) and heat (bottom) against the parameter, the
 * mean over the devices with error bars of one standard deviation, the
 * ideal as a dashed line, the comparison in red; title and axis labels. */
int th_hw_sweep_write_png(const char *path, const th_hw_sweep *s, const char *title);

/* ================================================ hardware-aware training */

/* The device callback of th_gen_train_opts for quantisation- and
 * mismatch-aware gradient descent: the loss and gradient of update u are
 * taken at the model quantised to ctx's bits and, with a mismatch, realised
 * on device TH_HW_TRAIN_DEVICES + ctx->device + u (a new device every
 * update, never one a sweep measures), and applied to the full-precision
 * parameters: the straight-through estimate. ctx: const th_hw * (its bath
 * and readout are not used). */
#define TH_HW_TRAIN_DEVICES ((uint64_t)1 << 48)
int th_hw_train_device(const th_model *m, size_t update, th_model *out, void *ctx);

/* "train.aware_bits", "train.aware_mismatch", "train.aware_device" for a
 * model trained with th_hw_train_device (nothing for the ideal). */
int th_hw_train_meta(const th_hw *hw, th_meta *meta);

#ifdef __cplusplus
}
#endif
#endif /* THERMO_HW_H */
