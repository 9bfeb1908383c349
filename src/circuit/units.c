/* units.c - an overdamped computer (any th_model) as RC units with
 * controlled sources (science.md section 10).
 *
 * Unit i is node u<i>: v_i = V0 x_i. Kirchhoff at the node,
 *
 *     C dv_i/dt = -(1/R) F_i(v) + i_noise,
 *     F_i(v) = V0 dV/dx_i(v / V0)
 *            = 2 J2 v_i + 3 J3 v_i^2 / V0 + 4 J4 v_i^3 / V0^2 + b_i V0 + sum_j J_ij v_j,
 *
 * is the model's Langevin equation in the time t_phys = tau0 t with
 * tau0 = mu R C, V0 = sqrt(k_B T / (C kT)) (check: the noise term of x has
 * intensity (tau0 / (C V0))^2 2 k_B T / (R tau0) = 2 mu kT). Each term of
 * F_i / R is one element, its current leaving the node:
 *
 *     v_i / R                     the resistor Ru<i> (friction and Johnson noise)
 *     (2 J2 - 1) v_i / R          Gu<i>, a VCCS on its own node (a conductance)
 *     (4 J4 v^3/V0^2 + 3 J3 v^2/V0) / R   Bu<i>, a behavioural source
 *     b_i V0 / R                  Ib<i> (a DC current), or Gb<i> from the switch
 *     J_ij v_j / R                G<i>_<j>, a VCCS from unit j (or its gated copy)
 *
 * and the noise current Iu<i> = TRNOISE(NA, NT), NA = sqrt(2 k_B T / (R NT)).
 * ngspice's resistors make no noise in a transient run, so the TRNOISE source
 * is the resistor's Johnson noise. A generator runs its noise phase with the
 * couplings and biases off: they listen to the gated copies g<j> = V(sw) v_j
 * and to sw itself, the switch stepping from 0 to 1 V at t_switch. */
#include "circuit/circuit_internal.h"

#include <math.h>
#include <string.h>

/* Relative tolerances of ngspice's Newton iteration and charge control,
 * scaled to the unit's voltage V0, current C V0 / tau0 and charge C V0. */
#define TOL_FRACTION 1e-6

static int check_opts(const th_circuit_opts *o)
{
    const struct { const char *name; double v; } pos[] = {
        {"capacitance", o->capacitance}, {"temperature", o->temperature},
        {"time unit", o->time_unit}};
    for (size_t k = 0; k < sizeof pos / sizeof pos[0]; k++)
        if (!(pos[k].v > 0.0 && isfinite(pos[k].v)))
            return th__fail(TH_EINVAL, "%s = %g: expected a finite value > 0", pos[k].name,
                            pos[k].v);
    if (!(o->noise_step >= 0.0 && isfinite(o->noise_step)))
        return th__fail(TH_EINVAL, "noise step = %g: expected 0 (the model's dt) or a value > 0",
                        o->noise_step);
    if (o->copies < 1) return th__fail(TH_EINVAL, "copies = 0: expected at least 1");
    return TH_OK;
}

/* The elements of free unit i: capacitor, resistor, noise, the rest of the
 * on-site force, the bias. */
static int add_unit(th_circuit *c, const th_model *m, size_t i, double R, double C, double V0,
                    double NA, double NT)
{
    char name[24], node[TH__NODE_LEN];
    snprintf(node, sizeof node, "u%u", (unsigned)i);
    const double J2 = th_ptr_get(m->J2, m->dtype, i), J3 = th_ptr_get(m->J3, m->dtype, i);
    const double J4 = th_ptr_get(m->J4, m->dtype, i), b = th_ptr_get(m->b, m->dtype, i);
    int rc;
    snprintf(name, sizeof name, "Cu%u", (unsigned)i);
    if ((rc = th__circuit_add(c, TH_ELEMENT_C, name, node, "0", NULL, NULL, C, 0)) != TH_OK)
        return rc;
    snprintf(name, sizeof name, "Ru%u", (unsigned)i);
    if ((rc = th__circuit_add(c, TH_ELEMENT_R, name, node, "0", NULL, NULL, R, 0)) != TH_OK)
        return rc;
    snprintf(name, sizeof name, "Iu%u", (unsigned)i);
    if ((rc = th__circuit_add(c, TH_ELEMENT_NOISE, name, node, "0", NULL, NULL, NA, NT)) != TH_OK)
        return rc;
    if (2.0 * J2 - 1.0 != 0.0) {
        snprintf(name, sizeof name, "Gu%u", (unsigned)i);
        rc = th__circuit_add(c, TH_ELEMENT_G, name, node, "0", node, "0", (2.0 * J2 - 1.0) / R, 0);
        if (rc != TH_OK) return rc;
    }
    if (J4 != 0.0 || J3 != 0.0) {
        snprintf(name, sizeof name, "Bu%u", (unsigned)i);
        rc = th__circuit_add(c, TH_ELEMENT_CUBIC, name, node, "0", node, NULL,
                             4.0 * J4 / (R * V0 * V0), 3.0 * J3 / (R * V0));
        if (rc != TH_OK) return rc;
    }
    if (b != 0.0) {
        snprintf(name, sizeof name, c->gated ? "Gb%u" : "Ib%u", (unsigned)i);
        rc = c->gated ? th__circuit_add(c, TH_ELEMENT_G, name, node, "0", "sw", "0", b * V0 / R, 0)
                      : th__circuit_add(c, TH_ELEMENT_I, name, node, "0", NULL, NULL, b * V0 / R, 0);
        if (rc != TH_OK) return rc;
    }
    return TH_OK;
}

/* Couplings into free unit i from every unit j with J_ij != 0; marks the
 * controlling units in used (n). */
static int add_couplings(th_circuit *c, const th_model *m, size_t i, double R,
                         unsigned char *used)
{
    char name[24], node[TH__NODE_LEN], ctrl[TH__NODE_LEN];
    snprintf(node, sizeof node, "u%u", (unsigned)i);
    for (size_t j = 0; j < m->n; j++) {
        if (j == i || !th_model_groups_couple(m, i, j)) continue;
        const double J = th_model_get_coupling(m, i, j);
        if (J == 0.0) continue;
        snprintf(name, sizeof name, "G%u_%u", (unsigned)i, (unsigned)j);
        snprintf(ctrl, sizeof ctrl, c->gated ? "g%u" : "u%u", (unsigned)j);
        int rc = th__circuit_add(c, TH_ELEMENT_G, name, node, "0", ctrl, "0", J / R, 0);
        if (rc != TH_OK) return rc;
        used[j] = 1;
    }
    return TH_OK;
}

static int add_notes(th_circuit *c, const th_model *m, double dt, double t_noise, double t_run,
                     const th_circuit_opts *o, double R, double V0)
{
    const th_circuit_info *I = &c->info;
    const double kB = TH_BOLTZMANN;
    int rc = TH_OK;
#define NOTE(...) \
    if (rc == TH_OK) rc = th__circuit_note(c, __VA_ARGS__)
    NOTE("The mapping (science.md section 10, docs/spice.md): model -> circuit");
    NOTE("  unit x_i        -> node voltage v_i = V0 x_i, V0 = sqrt(k_B T / (C kT)) = %.6g V", V0);
    NOTE("  time t (1/mu)   -> t_phys = tau0 t, tau0 = mu R C = %.6g s", I->tau0);
    NOTE("  friction 1/mu   -> R = tau0 / (mu C) = %.6g ohm to ground, C = %.6g F to ground", R,
         o->capacitance);
    NOTE("  bath kT = %.6g  -> resistors at T = %.6g K: energy E (model) = E k_B T / kT J,",
         m->kT, o->temperature);
    NOTE("                     1 kT of the model = k_B T = %.6g J", kB * o->temperature);
    NOTE("  noise           -> Iu<i> TRNOISE(NA NT): NA = sqrt(2 k_B T / (R NT)) = %.6g A rms",
         I->noise_rms);
    NOTE("                     every NT = %.6g s (%.6g model time units; the model's dt is %.6g)",
         I->noise_step, I->noise_step / I->tau0, dt);
    NOTE("  force           -> C dv/dt = -(1/R) [2 J2 v + 3 J3 v^2/V0 + 4 J4 v^3/V0^2 + b V0");
    NOTE("                     + sum_j J_ij v_j] + noise: Ru (the 1 of 2 J2), Gu (the rest of");
    NOTE("                     2 J2), Bu (cubic and quadratic), %s (bias), G<i>_<j> (couplings)",
         c->gated ? "Gb from the switch" : "Ib");
    if (I->clamped)
        NOTE("  clamped units   -> the subcircuit's ports, voltage sources V<copy>_u<j> at V0 x_j");
    if (t_noise > 0) {
        NOTE("Protocol: every unit starts at 0 V; from 0 to %.6g s (%.6g model time units) the",
             I->t_switch, t_noise);
        NOTE("  uncoupled wells relax (noise phase: couplings and biases off), then Vsw steps to");
        NOTE("  1 V and the couplings (which read the gated copies g<j> = V(sw) v_j) and biases");
        NOTE("  act until %.6g s (computing phase, %.6g model time units).", I->t_stop, t_run);
    } else {
        NOTE("Protocol: every unit starts at 0 V and runs with everything on until %.6g s",
             I->t_stop);
        NOTE("  (%.6g model time units).", t_run);
    }
    NOTE("Heat (Sekimoto) of a phase: Q = -C sum_i integral F_i(v) dv_i = k_B T [V(x_start) -");
    NOTE("  V(x_end)] / kT for fixed couplings: thermo spice compare takes it from the node voltages.");
#undef NOTE
    return rc;
}

int th_circuit_from_model(const th_model *m, const unsigned char *clamped,
                          const double *clamp_values, double dt, double t_noise, double t_run,
                          const th_circuit_opts *o, th_circuit_kind kind, const char *name,
                          th_circuit **out)
{
    TH_ASSERT(m && o && out && name);
    *out = NULL;
    int rc = th_model_validate(m);
    if (rc != TH_OK) return rc;
    if ((rc = check_opts(o)) != TH_OK) return rc;
    if (!(dt > 0 && isfinite(dt)) || !(t_run > 0 && isfinite(t_run)) ||
        !(t_noise >= 0 && isfinite(t_noise)))
        return th__fail(TH_EINVAL, "dt = %g, noise phase %g, run %g: expected dt > 0, a run > 0 "
                        "and a noise phase >= 0", dt, t_noise, t_run);
    const size_t n = m->n;
    size_t n_clamped = 0;
    for (size_t i = 0; i < n; i++) n_clamped += clamped && clamped[i];
    const int gated = t_noise > 0;
    th_circuit *c = th__circuit_new(n - n_clamped, n_clamped + (size_t)gated);
    unsigned char *used = calloc(n, 1);
    if (!c || !used) {
        th_circuit_free(c);
        free(used);
        return c ? th__fail(TH_ENOMEM, "netlist: out of memory") : TH_ENOMEM;
    }
    th_circuit_info *I = &c->info;
    const double C = o->capacitance, kB = TH_BOLTZMANN;
    const double R = o->time_unit / (m->mu * C);
    const double V0 = sqrt(kB * o->temperature / (C * m->kT));
    const double NT = (o->noise_step > 0 ? o->noise_step : dt) * o->time_unit;
    I->kind = kind;
    I->clamped = n_clamped;
    I->copies = o->copies;
    I->v0 = V0;
    I->resistance = R;
    I->capacitance = C;
    I->tau0 = o->time_unit;
    I->kT = m->kT;
    I->temperature = o->temperature;
    I->noise_step = NT;
    I->noise_rms = sqrt(2.0 * kB * o->temperature / (R * NT));
    I->t_switch = t_noise * o->time_unit;
    I->t_stop = (t_noise + t_run) * o->time_unit;
    I->model_dt = dt;
    c->gated = gated;
    /* The phases must end on noise steps, where the output rows are. */
    const double per_noise = t_noise * o->time_unit / NT, per_run = t_run * o->time_unit / NT;
    if (fabs(per_noise - nearbyint(per_noise)) > 1e-6 || fabs(per_run - nearbyint(per_run)) > 1e-6 ||
        nearbyint(per_run) < 1) {
        th_circuit_free(c);
        free(used);
        return th__fail(TH_EINVAL, "noise step %g (model time): expected a whole fraction of "
                        "the run (%g) and of the noise phase (%g)", NT / o->time_unit, t_run,
                        t_noise);
    }
    /* A generator's heat is integrated along every noise step; otherwise
     * only the end matters: about ten rows, the last at the end. */
    const size_t steps = (size_t)nearbyint(per_run + per_noise);
    size_t every = 1;
    for (size_t f = steps / 10; !gated && f > 1; f--)
        if (steps % f == 0) {
            every = f;
            break;
        }
    c->t_step = NT * (double)every;
    c->vntol = TOL_FRACTION * V0;
    c->abstol = TOL_FRACTION * C * V0 / o->time_unit;
    c->chgtol = TOL_FRACTION * C * V0;
    snprintf(c->name, sizeof c->name, "%s", name);
    if ((rc = th__circuit_set_data_path(c, o->data_path)) != TH_OK) goto fail;
    c->unit_index = malloc((n - n_clamped + 1) * sizeof *c->unit_index);
    c->clamp_index = malloc((n_clamped + 1) * sizeof *c->clamp_index);
    if (!c->unit_index || !c->clamp_index) {
        rc = th__fail(TH_ENOMEM, "netlist: out of memory");
        goto fail;
    }
    size_t u = 0, p = 0;
    for (size_t i = 0; i < n; i++) {
        if (clamped && clamped[i]) {
            c->clamp_index[p] = i;
            snprintf(c->port[p++], TH__NODE_LEN, "u%u", (unsigned)i);
        } else {
            c->unit_index[u] = i;
            snprintf(c->unit[u++], TH__NODE_LEN, "u%u", (unsigned)i);
        }
    }
    if (gated) snprintf(c->port[p], TH__NODE_LEN, "sw");
    if (I->units > TH_CIRCUIT_MAX_UNITS) {
        rc = th__circuit_check_limits(c);
        goto fail;
    }
    c->clamp_volts = calloc(o->copies * (n_clamped ? n_clamped : 1), sizeof *c->clamp_volts);
    if (!c->clamp_volts) {
        rc = th__fail(TH_ENOMEM, "netlist: out of memory");
        goto fail;
    }
    for (size_t k = 0; k < o->copies * n_clamped; k++) {
        const double x = clamp_values ? clamp_values[k] : 0.0;
        if (!isfinite(x)) {
            rc = th__fail(TH_EINVAL, "clamped value %zu of copy %zu is not finite",
                          k % n_clamped, k / n_clamped);
            goto fail;
        }
        c->clamp_volts[k] = x * V0;
    }
    for (size_t i = 0; i < n && rc == TH_OK; i++) {
        if (clamped && clamped[i]) continue;
        rc = add_unit(c, m, i, R, C, V0, I->noise_rms, NT);
        if (rc == TH_OK) rc = add_couplings(c, m, i, R, used);
    }
    /* The gated copies of every unit a coupling listens to. */
    for (size_t j = 0; j < n && rc == TH_OK && gated; j++) {
        if (!used[j]) continue;
        char gname[24], gnode[TH__NODE_LEN], unode[TH__NODE_LEN];
        snprintf(gname, sizeof gname, "Bg%u", (unsigned)j);
        snprintf(gnode, sizeof gnode, "g%u", (unsigned)j);
        snprintf(unode, sizeof unode, "u%u", (unsigned)j);
        rc = th__circuit_add(c, TH_ELEMENT_GATE, gname, gnode, "0", "sw", unode, 0, 0);
    }
    if (rc == TH_OK) rc = th__circuit_check_limits(c);
    if (rc == TH_OK) rc = add_notes(c, m, dt, t_noise, t_run, o, R, V0);
    if (rc != TH_OK) goto fail;
    free(used);
    *out = c;
    return TH_OK;
fail:
    free(used);
    th_circuit_free(c);
    return rc;
}

/* ------------------------------------------------------------- neurons */

int th_neuron_as_model(const th_neuron_params *p, const th_neuron_net *net, th_model **out)
{
    TH_ASSERT(p && net && out);
    *out = NULL;
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    if (net->n_layers != p->n_layers || net->width != p->width)
        return th__fail(TH_EINVAL, "network of %zu layers of %zu: the settings say %zu of %zu",
                        net->n_layers, net->width, p->n_layers, p->width);
    const size_t W = p->width, N = p->n_layers * W;
    const size_t sizes[2] = {1, N};
    th_model *m = th_model_alloc(2, sizes, TH_F64);
    if (!m) return TH_ENOMEM;
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    m->kT = p->kT;
    m->mu = p->mu;
    th_model_set_onsite3(m, p->J2, p->J3, p->J4);
    /* The input unit's own well is a constant of the clamped unit. */
    for (size_t i = 0; i < W; i++) th_model_set_coupling(m, 0, 1 + i, -net->W[i]);
    for (size_t i = 0; i < N; i++) m->b.f64[1 + i] = -net->b[i];
    for (size_t l = 0; l + 1 < p->n_layers; l++)
        for (size_t i = 0; i < W; i++)
            for (size_t j = 0; j < W; j++)
                th_model_set_coupling(m, 1 + l * W + i, 1 + (l + 1) * W + j,
                                      -net->w[(l * W + i) * W + j]);
    if ((rc = th_model_validate(m)) != TH_OK) {
        th_model_free(m);
        return rc;
    }
    *out = m;
    return TH_OK;
}
