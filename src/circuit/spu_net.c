/* spu_net.c - the SPU board (science.md section 5; linalg/spu.c) as a
 * netlist: it is a circuit already. Cell i is node v<i> with its self
 * capacitance Cs<i>, inductor Lv<i>, resistor Rv<i> and noise current Iv<i>
 * to ground; every pair of cells is joined by its coupling capacitor
 * Cc<i>_<j>. The values are those of thermo linalg's simulation: the
 * Maxwell matrix s->cap (self capacitances its row sums, couplings minus its
 * off-diagonal entries) and the parts of s->params. The noise current
 * sqrt(2 kappa0) dW is TRNOISE(NA, NT) with NA = sqrt(2 kappa0 / NT), so that
 * Cov(v) = kappa0 R C^-1 (R = r I), less the share TRNOISE's finite bandwidth
 * removes (docs/spice.md). */
#include "circuit/circuit_internal.h"

#include <math.h>
#include <string.h>

/* Defaults: the noise step a twentieth of the fastest relaxation time, the
 * run 100 slowest relaxation times (ngspice 39's Gaussian generator drifts
 * over millions of draws, so many short runs beat one long one: docs/spice.md),
 * output about 8 times a relaxation time. */
#define NOISE_STEPS_PER_TAU_FAST 20.0
#define DEFAULT_TAUS 100.0
#define OUTPUTS_PER_TAU 8.0
#define TOL_FRACTION 1e-6

static const char *const MAPPING_TEXT[] = {"direct: C = alpha A",
                                           "scaled: C = alpha D A D, D = diag(u)",
                                           "doubled: signed pairs of cells"};

static int add_cells(th_circuit *c, const th_spu *s, double NA, double NT)
{
    const size_t cells = s->cells;
    const th_spu_params *p = &s->params;
    char name[24], node[TH__NODE_LEN], other[TH__NODE_LEN];
    int rc = TH_OK;
    for (size_t i = 0; i < cells && rc == TH_OK; i++) {
        snprintf(node, sizeof node, "v%u", (unsigned)i);
        double self = 0.0;
        for (size_t j = 0; j < cells; j++) self += s->cap[i * cells + j];
        snprintf(name, sizeof name, "Cs%u", (unsigned)i);
        if (self > 0.0) rc = th__circuit_add(c, TH_ELEMENT_C, name, node, "0", NULL, NULL, self, 0);
        snprintf(name, sizeof name, "Lv%u", (unsigned)i);
        if (rc == TH_OK)
            rc = th__circuit_add(c, TH_ELEMENT_L, name, node, "0", NULL, NULL, p->inductance, 0);
        snprintf(name, sizeof name, "Rv%u", (unsigned)i);
        if (rc == TH_OK)
            rc = th__circuit_add(c, TH_ELEMENT_R, name, node, "0", NULL, NULL, p->resistance, 0);
        snprintf(name, sizeof name, "Iv%u", (unsigned)i);
        if (rc == TH_OK) rc = th__circuit_add(c, TH_ELEMENT_NOISE, name, node, "0", NULL, NULL, NA, NT);
        for (size_t j = i + 1; j < cells && rc == TH_OK; j++) {
            const double cc = -s->cap[i * cells + j];
            if (!(cc > 0.0)) continue;
            snprintf(name, sizeof name, "Cc%u_%u", (unsigned)i, (unsigned)j);
            snprintf(other, sizeof other, "v%u", (unsigned)j);
            rc = th__circuit_add(c, TH_ELEMENT_C, name, node, other, NULL, NULL, cc, 0);
        }
    }
    return rc;
}

static int add_notes(th_circuit *c, const th_spu *s)
{
    const th_circuit_info *I = &c->info;
    const th_spu_params *p = &s->params;
    int rc = TH_OK;
#define NOTE(...) \
    if (rc == TH_OK) rc = th__circuit_note(c, __VA_ARGS__)
    NOTE("The board (thermo linalg's RLC model, science.md section 5): %zu cells for a %zu x %zu",
         s->cells, s->d, s->d);
    NOTE("  matrix A, mapping %s, alpha = %.6g F per unit of A.", MAPPING_TEXT[s->mapping],
         s->alpha);
    NOTE("  Cell i: node v<i>, self capacitance Cs<i> (the row sum of the Maxwell matrix C),");
    NOTE("  inductor L = %.6g H, resistor R = %.6g ohm, noise current Iv<i> to ground;", p->inductance,
         p->resistance);
    NOTE("  coupling capacitors Cc<i>_<j> = -C_ij between the cells.");
    NOTE("  Noise: sqrt(2 kappa0) dW, kappa0 = %.6g A^2 s, as TRNOISE(NA NT): NA = sqrt(2 kappa0 /",
         p->kappa0);
    NOTE("  NT) = %.6g A every NT = %.6g s. As Johnson noise of R it is a temperature",
         I->noise_rms, I->noise_step);
    NOTE("  T = kappa0 R / k_B = %.6g K (amplified noise, not the room's).", I->temperature);
    NOTE("  Stationary law: Cov(v) = kappa0 R C^-1, and the readout x = D v (doubled: the");
    NOTE("  difference of the pair over sqrt 2) has Cov(x) = %.6g A^-1 (V^2). TRNOISE's",
         s->cov_scale);
    NOTE("  bandwidth lowers it by (7/15) kappa0 NT C^-2 to first order (docs/spice.md).");
    NOTE("  Relaxation times: slowest tau = %.6g s, fastest %.6g s; the run lasts %.6g s.",
         s->tau, s->tau_fast, I->t_stop);
    NOTE("  Every cell starts at 0 V and 0 A: discard the first 20 tau.");
#undef NOTE
    return rc;
}

int th_circuit_from_spu(const th_spu *s, const th_circuit_opts *o, const char *name,
                        th_circuit **out)
{
    TH_ASSERT(s && o && out && name);
    *out = NULL;
    const th_spu_params *p = &s->params;
    if (p->model != TH_SPU_RLC || !s->cap)
        return th__fail(TH_EINVAL, "the SPU is the overdamped idealisation: only the RLC board "
                        "is a circuit");
    if (p->mismatch != 0.0)
        return th__fail(TH_EINVAL, "SPU mismatch %g: the netlist holds nominal parts only "
                        "(mismatched L, R and kappa0 are not kept by the simulation)",
                        p->mismatch);
    if (!(o->noise_step >= 0 && isfinite(o->noise_step)) ||
        !(o->spu_time >= 0 && isfinite(o->spu_time)))
        return th__fail(TH_EINVAL, "noise step %g s, run %g s: expected 0 (the default) or a "
                        "value > 0", o->noise_step, o->spu_time);
    if (o->copies < 1) return th__fail(TH_EINVAL, "copies = 0: expected at least 1");
    th_circuit *c = th__circuit_new(s->cells, 0);
    if (!c) return TH_ENOMEM;
    th_circuit_info *I = &c->info;
    const double NT = o->noise_step > 0 ? o->noise_step : s->tau_fast / NOISE_STEPS_PER_TAU_FAST;
    double top = 0.0;
    for (size_t i = 0; i < s->cells; i++) top = fmax(top, s->cap[i * s->cells + i]);
    I->kind = TH_CIRCUIT_SPU;
    I->copies = o->copies;
    I->v0 = 1.0;
    I->tau0 = 1.0;
    I->resistance = p->resistance;
    I->capacitance = top;
    I->kT = p->kappa0 * p->resistance;
    I->temperature = I->kT / TH_BOLTZMANN;
    I->noise_step = NT;
    I->noise_rms = sqrt(2.0 * p->kappa0 / NT);
    I->t_stop = o->spu_time > 0 ? o->spu_time : DEFAULT_TAUS * s->tau;
    const double per = floor(s->tau / (OUTPUTS_PER_TAU * NT));
    c->t_step = NT * (per > 1 ? per : 1);
    const double v_rms = sqrt(I->kT / top);
    c->vntol = TOL_FRACTION * v_rms;
    c->abstol = TOL_FRACTION * v_rms / p->resistance;
    c->chgtol = TOL_FRACTION * top * v_rms;
    snprintf(c->name, sizeof c->name, "%s", name);
    for (size_t i = 0; i < s->cells; i++) snprintf(c->unit[i], TH__NODE_LEN, "v%u", (unsigned)i);
    int rc = th__circuit_set_data_path(c, o->data_path);
    if (rc == TH_OK) rc = add_cells(c, s, I->noise_rms, NT);
    if (rc == TH_OK) rc = th__circuit_check_limits(c);
    if (rc == TH_OK) rc = add_notes(c, s);
    if (rc != TH_OK) {
        th_circuit_free(c);
        return rc;
    }
    *out = c;
    return TH_OK;
}
