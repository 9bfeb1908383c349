/* test_circuit.c - the netlist writer and the comparison with ngspice's data
 * (src/circuit/), without ngspice: make spice-check runs ngspice itself.
 *
 * - known answers: every component of a 2-unit model computed by hand
 *   (science.md section 10), found in the netlist's text with its value;
 * - the circuit's Kirchhoff currents at random node voltages equal the
 *   model's force dV/dx, term by term assembled independently;
 * - the SPU's bandwidth-shifted covariance against the exact stationary
 *   covariance of the board driven by piecewise-linear noise, computed here
 *   as a discrete-time Lyapunov equation;
 * - the neuron network's model has the network's potential;
 * - reading wrdata files (names in any order, several runs, malformed
 *   files) and the comparison fed with thermo's own trajectories (every
 *   z = 0, the path heat equal to the Langevin heat);
 * - exports that must fail: too many units, a student, an unknown kind, a
 *   matrix no capacitors realise. */
#include "harness.h"

#include <stdlib.h>

#define KB 1.380649e-23

/* The 2-unit model of the known-answer test: J2 (0.75, 0.5), J3 (0.2, 0),
 * J4 (1, 2), b (0.3, -0.1), J_01 = 0.4, kT 0.1, mu 2. */
static th_model *two_units(void)
{
    size_t sizes[1] = {2};
    th_model *m = th_model_alloc(1, sizes, TH_F64);
    th_model_couple(m, 0, 0);
    m->kT = 0.1;
    m->mu = 2.0;
    const double J2[2] = {0.75, 0.5}, J3[2] = {0.2, 0.0}, J4[2] = {1.0, 2.0}, b[2] = {0.3, -0.1};
    for (size_t i = 0; i < 2; i++) {
        m->J2.f64[i] = J2[i];
        m->J3.f64[i] = J3[i];
        m->J4.f64[i] = J4[i];
        m->b.f64[i] = b[i];
    }
    th_model_set_coupling(m, 0, 1, 0.4);
    return m;
}

/* The line of text that defines element name (starts with "name "). */
static const char *element_line(const char *text, const char *name)
{
    const size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ' ') return p;
    return NULL;
}

/* The k-th whitespace-separated number on a line (0 = the name). */
static double field(const char *line, int k)
{
    const char *p = line;
    for (int i = 0; i < k && p; i++) {
        p = strpbrk(p, " ");
        while (p && *p == ' ') p++;
    }
    return p ? strtod(p, NULL) : (double)NAN;
}

static void test_circuit_two_units_known_answer(void)
{
    th_model *m = two_units();
    th_circuit_opts o = th_circuit_opts_default(); /* C 1 pF, 300 K, tau0 1 us */
    th_circuit *c = NULL;
    CHECK_EQ_INT(th_circuit_from_model(m, NULL, NULL, 1e-3, 0.0, 0.1, &o, TH_CIRCUIT_NEURON,
                                       "two units", &c), TH_OK);
    if (!c) {
        th_model_free(m);
        return;
    }
    /* By hand: R = tau0 / (mu C) = 1e-6 / 2e-12; V0 = sqrt(k_B 300 / (1e-12 0.1));
     * NT = dt tau0 = 1e-9 s; NA = sqrt(2 k_B 300 / (R NT)). */
    const double R = 5e5, V0 = 2.0351773878460815e-4, NA = 4.070354775692163e-9;
    th_circuit_info I;
    th_circuit_get_info(c, &I);
    CHECK_REL(I.resistance, R, 1e-12);
    CHECK_REL(I.v0, V0, 1e-12);
    CHECK_REL(I.noise_rms, NA, 1e-12);
    CHECK_REL(I.noise_step, 1e-9, 1e-12);
    CHECK_REL(I.t_stop, 1e-7, 1e-12);
    CHECK_EQ_INT(I.units, 2);
    /* name, kind, value, aux: (2 J2 - 1) / R = 0.5 / R for unit 0 (unit 1 has
     * 2 J2 = 1, all in its resistor: no Gu1); 4 J4 / (R V0^2), 3 J3 / (R V0);
     * b V0 / R; J / R. */
    const struct { const char *name; th_element_kind kind; double value, aux; int field; } want[] = {
        {"Cu0", TH_ELEMENT_C, 1e-12, 0, 3},
        {"Ru0", TH_ELEMENT_R, 5e5, 0, 3},
        {"Iu0", TH_ELEMENT_NOISE, NA, 1e-9, -1},
        {"Gu0", TH_ELEMENT_G, 1e-6, 0, 5},
        {"Bu0", TH_ELEMENT_CUBIC, 193.1458804277312, 0.005896291926032126, -1},
        {"Ib0", TH_ELEMENT_I, 1.221106432707649e-10, 0, 4},
        {"G0_1", TH_ELEMENT_G, 8e-7, 0, 5},
        {"Cu1", TH_ELEMENT_C, 1e-12, 0, 3},
        {"Ru1", TH_ELEMENT_R, 5e5, 0, 3},
        {"Iu1", TH_ELEMENT_NOISE, NA, 1e-9, -1},
        {"Bu1", TH_ELEMENT_CUBIC, 386.2917608554624, 0, -1},
        {"Ib1", TH_ELEMENT_I, -4.0703547756921634e-11, 0, 4},
        {"G1_0", TH_ELEMENT_G, 8e-7, 0, 5},
    };
    size_t n_el;
    th_circuit_elements(c, &n_el);
    CHECK_EQ_INT(n_el, sizeof want / sizeof want[0]);
    CHECK(th_circuit_find(c, "Gu1") == NULL);
    char *text = th_circuit_text(c);
    CHECK(text != NULL);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const th_circuit_element *e = th_circuit_find(c, want[k].name);
        CHECK(e != NULL);
        if (!e) continue;
        CHECK_EQ_INT(e->kind, want[k].kind);
        CHECK_REL(e->value, want[k].value, 1e-12);
        CHECK_CLOSE(e->aux, want[k].aux, 1e-12 * fabs(want[k].aux) + 1e-300);
        const char *line = text ? element_line(text, want[k].name) : NULL;
        CHECK(line != NULL);
        if (line && want[k].field >= 0) CHECK_REL(field(line, want[k].field), want[k].value, 1e-9);
    }
    if (text) {
        CHECK_STR_CONTAINS(text, "Iu0 u0 0 DC 0 TRNOISE(4.070354776e-09 1e-09 0 0)");
        CHECK_STR_CONTAINS(text, "Bu0 u0 0 I = (193.1458804)*V(u0)*V(u0)*V(u0) + "
                                 "(0.005896291926)*V(u0)*V(u0)");
        CHECK_STR_CONTAINS(text, "G0_1 u0 0 u1 0 8e-07");
        CHECK_STR_CONTAINS(text, ".subckt computer\n");
        CHECK_STR_CONTAINS(text, "\nX0 computer\n");
        CHECK_STR_CONTAINS(text, ".tran 1e-08 1e-07 0 1e-09 uic");
        CHECK_STR_CONTAINS(text, ".save v(x0.u0) v(x0.u1)");
        CHECK_STR_CONTAINS(text, "wrdata thermo-spice.data all");
        CHECK_STR_CONTAINS(text, "\n.end\n");
        CHECK_STR_CONTAINS(text, "V0 = sqrt(k_B T / (C kT)) = 0.000203518 V");
        /* Every element line parses back: name, nodes, and its value. */
        CHECK(strstr(text, "nan") == NULL && strstr(text, "inf") == NULL);
    }
    /* The file is the text, written atomically. */
    if (scratch_begin()) {
        const char *path = scratch("two.cir");
        CHECK_EQ_INT(th_circuit_write(path, c), TH_OK);
        FILE *f = fopen(path, "r");
        char buf[8192] = {0};
        size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        CHECK(text && got == strlen(text) && memcmp(buf, text, got) == 0);
        scratch_end();
    }
    free(text);
    th_circuit_free(c);
    th_model_free(m);
}

/* The current leaving node u<i> through every element at node voltages v
 * (gated copies at V(sw) = 1), from the element list. */
static double node_current(const th_circuit *c, const char *node, const double *v, size_t n)
{
    size_t n_el;
    const th_circuit_element *el = th_circuit_elements(c, &n_el);
    double out = 0.0;
    for (size_t k = 0; k < n_el; k++) {
        const th_circuit_element *e = &el[k];
        if (strcmp(e->node[0], node) != 0) continue;
        /* controlling node -> voltage: u<j> and g<j> are v_j, sw is 1 V */
        double vc = 0.0;
        if (e->kind == TH_ELEMENT_G || e->kind == TH_ELEMENT_CUBIC) {
            const char *ctl = e->node[2];
            if (strcmp(ctl, "sw") == 0)
                vc = 1.0;
            else
                vc = v[strtoul(ctl + 1, NULL, 10) % n];
        }
        const double vi = v[strtoul(node + 1, NULL, 10)];
        switch (e->kind) {
        case TH_ELEMENT_R: out += vi / e->value; break;
        case TH_ELEMENT_G: out += e->value * vc; break;
        case TH_ELEMENT_CUBIC: out += e->value * vc * vc * vc + e->aux * vc * vc; break;
        case TH_ELEMENT_I: out += e->value; break;
        default: break;
        }
    }
    return out;
}

static void test_circuit_currents_are_the_force(void)
{
    /* 5 units, unit 4 clamped, random on-site terms, biases and couplings,
     * gated (a noise phase): after the switch, R i_out / V0 = dV/dx. */
    size_t sizes[1] = {5};
    th_model *m = th_model_alloc(1, sizes, TH_F64);
    th_model_couple(m, 0, 0);
    m->kT = 0.37;
    m->mu = 1.5;
    uint64_t seed = 11;
    for (size_t i = 0; i < 5; i++) {
        m->J2.f64[i] = test_uniform(&seed, -0.5, 1.5);
        m->J3.f64[i] = test_uniform(&seed, -0.3, 0.3);
        m->J4.f64[i] = test_uniform(&seed, 0.5, 2.0);
        m->b.f64[i] = test_uniform(&seed, -1, 1);
        for (size_t j = 0; j < i; j++) th_model_set_coupling(m, i, j, test_uniform(&seed, -1, 1));
    }
    const unsigned char clamped[5] = {0, 0, 0, 0, 1};
    const double clamp_x[2] = {0.8, -0.6}; /* two copies */
    th_circuit_opts o = th_circuit_opts_default();
    o.copies = 2;
    o.capacitance = 3e-12;
    o.temperature = 77;
    th_circuit *c = NULL;
    CHECK_EQ_INT(th_circuit_from_model(m, clamped, clamp_x, 1e-3, 0.05, 0.1, &o,
                                       TH_CIRCUIT_GENERATOR, "five", &c), TH_OK);
    if (!c) {
        th_model_free(m);
        return;
    }
    th_circuit_info I;
    th_circuit_get_info(c, &I);
    CHECK_EQ_INT(I.units, 4);
    CHECK_EQ_INT(I.clamped, 1);
    CHECK_REL(I.t_switch, 0.05e-6, 1e-12);
    CHECK_REL(I.v0, sqrt(KB * 77 / (3e-12 * 0.37)), 1e-12);
    CHECK_REL(I.resistance, 1e-6 / (1.5 * 3e-12), 1e-12);
    for (int trial = 0; trial < 3; trial++) {
        double x[5], v[5];
        for (size_t i = 0; i < 5; i++) {
            x[i] = test_uniform(&seed, -1.5, 1.5);
            v[i] = x[i] * I.v0;
        }
        for (size_t i = 0; i < 4; i++) {
            /* dV/dx_i from the model's arrays */
            double F = 2 * m->J2.f64[i] * x[i] + 3 * m->J3.f64[i] * x[i] * x[i] +
                       4 * m->J4.f64[i] * x[i] * x[i] * x[i] + m->b.f64[i];
            for (size_t j = 0; j < 5; j++) F += m->J.f64[i * 5 + j] * x[j];
            char node[8];
            snprintf(node, sizeof node, "u%zu", i);
            CHECK_REL(node_current(c, node, v, 5) * I.resistance / I.v0, F, 1e-10);
        }
    }
    /* Noise intensity in model units: (tau0 / (C V0))^2 NA^2 NT / tau0 = 2 mu kT. */
    CHECK_REL(pow(I.tau0 / (3e-12 * I.v0), 2) * I.noise_rms * I.noise_rms * I.noise_step / I.tau0,
              2 * 1.5 * 0.37, 1e-12);
    char *text = th_circuit_text(c);
    CHECK_STR_CONTAINS(text, "Vsw sw 0 PWL(0 0 5e-08 0 5.0001e-08 1)");
    CHECK_STR_CONTAINS(text, "V1_u4 k1_u4 0 DC");
    CHECK_STR_CONTAINS(text, "X1 k1_u4 sw computer");
    CHECK_STR_CONTAINS(text, "Bg4 g4 0 V = V(sw)*V(u4)");
    CHECK_STR_CONTAINS(text, "Gb0 u0 0 sw 0");
    char name[40];
    th_circuit_vector_name(c, 1, 3, name);
    CHECK(strcmp(name, "x1.u3") == 0);
    free(text);
    th_circuit_free(c);
    th_model_free(m);
}

/* Stationary covariance, at the grid points, of dz = -M z dt + G u dt with u
 * the piecewise-linear interpolation of white samples of variance q every h
 * (TRNOISE): over a step z' = F z + G0 a_k + G1 a_{k+1}, with F = e^{-Mh},
 * G0 + G1 = int e^{-M(h-s)} ds G, G1 = int e^{-M(h-s)} s ds G / h (one
 * exponential of an augmented matrix); the pair (z_k, a_k) is then a
 * first-order recursion whose covariance a fixed-point iteration finds. */
static void pwl_covariance(const double *M, const double *G, size_t n, size_t m, double q,
                           double h, double *cov)
{
    const size_t N = 3 * n, S = n + m;
    double *Z = calloc(N * N, sizeof *Z), *E = calloc(N * N, sizeof *E);
    double *A = calloc(S * S, sizeof *A), *B = calloc(S * m, sizeof *B);
    double *Y = calloc(S * S, sizeof *Y), *T = calloc(S * S, sizeof *T), *Q = calloc(S * S, sizeof *Q);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) Z[i * N + j] = -M[i * n + j] * h;
        Z[i * N + n + i] = h;
        Z[(n + i) * N + 2 * n + i] = h;
    }
    /* e^{Z}: top-left F, top-middle int_0^h e^{-M(h-s)} ds, top-right
     * int_0^h e^{-M(h-s)} s ds. */
    CHECK_EQ_INT(th_matrix_expm(Z, N, E), TH_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m; k++) {
            double g0 = 0, g1 = 0;
            for (size_t j = 0; j < n; j++) {
                g1 += E[i * N + 2 * n + j] * G[j * m + k] / h;
                g0 += E[i * N + n + j] * G[j * m + k];
            }
            A[i * S + n + k] = g0 - g1;
            B[i * m + k] = g1;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) A[i * S + j] = E[i * N + j];
    for (size_t k = 0; k < m; k++) B[(n + k) * m + k] = 1.0;
    for (size_t i = 0; i < S; i++)
        for (size_t j = 0; j < S; j++) {
            double acc = 0;
            for (size_t k = 0; k < m; k++) acc += B[i * m + k] * q * B[j * m + k];
            Q[i * S + j] = acc;
        }
    for (int it = 0; it < 20000; it++) { /* Y = A Y A^T + Q */
        for (size_t i = 0; i < S; i++)
            for (size_t j = 0; j < S; j++) {
                double acc = 0;
                for (size_t k = 0; k < S; k++) acc += A[i * S + k] * Y[k * S + j];
                T[i * S + j] = acc;
            }
        double change = 0;
        for (size_t i = 0; i < S; i++)
            for (size_t j = 0; j < S; j++) {
                double acc = Q[i * S + j];
                for (size_t k = 0; k < S; k++) acc += T[i * S + k] * A[j * S + k];
                change = fmax(change, fabs(acc - Y[i * S + j]));
                Y[i * S + j] = acc;
            }
        if (change < 1e-15 * fabs(Y[0])) break;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) cov[i * n + j] = Y[i * S + j];
    free(Z), free(E), free(A), free(B), free(Y), free(T), free(Q);
}

static void test_circuit_spu_bandwidth_shift(void)
{
    /* A 2-cell board; the noise step a tenth and a fortieth of the fastest
     * time: the first-order shift must match the exact piecewise-linear
     * answer to within a fifth of the shift (its second order). */
    const double A[4] = {2.0, -0.6, -0.6, 1.5};
    th_spu_params hw = th_spu_params_default();
    th_spu *s = th_spu_alloc(&hw, A, NULL, 2);
    CHECK(s != NULL);
    if (!s) return;
    const size_t n = s->n, cells = s->cells;
    double G[16 * 2] = {0}, ideal[4], expected[4], exact[16];
    /* The noise enters the voltage rows through C^-1: G's columns of the
     * voltage block, without the sqrt(2 kappa0) the sample variance holds. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < cells; k++)
            G[i * cells + k] = s->G[i * n + cells + k] / sqrt(2.0 * hw.kappa0);
    CHECK_EQ_INT(th_spu_stationary(s, NULL, ideal), TH_OK);
    for (int pass = 0; pass < 2; pass++) {
        const double NT = s->tau_fast / (pass ? 40.0 : 10.0);
        CHECK_EQ_INT(th_circuit_spu_expected(s, NT, expected), TH_OK);
        pwl_covariance(s->M, G, n, cells, 2.0 * hw.kappa0 / NT, NT, exact);
        for (size_t i = 0; i < 2; i++)
            for (size_t j = 0; j < 2; j++) {
                const double e = exact[(cells + i) * n + cells + j];
                const double shift = ideal[i * 2 + j] - e;
                CHECK(shift > 0.002 * ideal[i * 2 + j]); /* a visible shift, downwards */
                CHECK_CLOSE(expected[i * 2 + j], e, 0.2 * shift);
            }
    }
    th_spu_free(s);
}

/* The network's own potential (classify.h) at state x and input z. */
static double network_potential(const th_neuron_params *p, const th_neuron_net *net,
                                const double *x, double z)
{
    const size_t W = p->width, N = p->n_layers * W;
    double V = 0;
    for (size_t i = 0; i < N; i++)
        V += p->J2 * x[i] * x[i] + p->J3 * pow(x[i], 3) + p->J4 * pow(x[i], 4) - net->b[i] * x[i];
    for (size_t i = 0; i < W; i++) V -= z * net->W[i] * x[i];
    for (size_t l = 0; l + 1 < p->n_layers; l++)
        for (size_t i = 0; i < W; i++)
            for (size_t j = 0; j < W; j++)
                V -= net->w[(l * W + i) * W + j] * x[l * W + i] * x[(l + 1) * W + j];
    return V;
}

static void test_circuit_neuron_model_potential(void)
{
    th_neuron_params p = th_neuron_params_default();
    p.n_layers = 3;
    p.width = 4;
    th_neuron_net *net = th_neuron_net_alloc(3, 4);
    uint64_t seed = 3;
    for (size_t k = 0; k < net->n_params; k++) net->theta[k] = test_uniform(&seed, -1, 1);
    th_model *m = NULL;
    CHECK_EQ_INT(th_neuron_as_model(&p, net, &m), TH_OK);
    if (m) {
        CHECK_EQ_INT(m->n, 13);
        for (int trial = 0; trial < 4; trial++) {
            double x[13], V;
            const double z = test_uniform(&seed, 0, 1);
            x[0] = z;
            for (size_t i = 1; i < 13; i++) x[i] = test_uniform(&seed, -1.2, 1.2);
            th_model_potential(m, NULL, 0.0, (th_ptr){.f64 = x}, 1, &V);
            /* the input unit's own well is a constant of the run */
            const double own = p.J2 * z * z + p.J3 * z * z * z + p.J4 * z * z * z * z;
            CHECK_CLOSE(V - own, network_potential(&p, net, x + 1, z), 1e-12);
        }
    }
    th_model_free(m);
    th_neuron_net_free(net);
}

/* ---------------------------------------------------------- data files */

static int write_text(const char *path, const char *text)
{
    return th_write_text_atomic(path, text);
}

static void test_circuit_data_read(void)
{
    if (!scratch_begin()) return;
    th_model *m = two_units();
    th_circuit_opts o = th_circuit_opts_default();
    o.copies = 2;
    th_circuit *c = NULL;
    CHECK_EQ_INT(th_circuit_from_model(m, NULL, NULL, 1e-3, 0.0, 0.002, &o, TH_CIRCUIT_NEURON,
                                       "two", &c), TH_OK);
    /* wrdata's "all": time twice, then the vectors in its own order */
    const char *a = scratch("a.data"), *b = scratch("b.data"), *bad = scratch("bad.data");
    const char *grid = scratch("grid.data"), *miss = scratch("miss.data");
    write_text(a, " time time x1.u1 x0.u0 x1.u0 x0.u1\n"
                  " 1e-09 1e-09 11 0 10 1\n 2e-09 2e-09 21 2 20 3\n");
    write_text(b, "time time x0.u0 x0.u1 x1.u0 x1.u1\n"
                  "1e-09 1e-09 -1 -2 -3 -4\n2e-09 2e-09 -5 -6 -7 -8\n");
    write_text(bad, "time time x0.u0 x0.u1 x1.u0 x1.u1\n1e-09 1e-09 1 2 3\n");
    write_text(grid, "time time x0.u0 x0.u1 x1.u0 x1.u1\n1e-09 1e-09 1 2 3 4\n3e-09 3e-09 1 2 3 4\n");
    write_text(miss, "time time x0.u0 x0.u1 x1.u0\n1e-09 1e-09 1 2 3\n");
    th_circuit_data *d = NULL;
    const char *both[2] = {a, b};
    CHECK_EQ_INT(th_circuit_data_read(both, 2, c, &d), TH_OK);
    if (d) {
        CHECK_EQ_INT(d->n_runs, 2);
        CHECK_EQ_INT(d->n_rows, 2);
        CHECK_EQ_INT(d->n_vectors, 4);
        /* run 0, row 1: x0.u0 x0.u1 x1.u0 x1.u1 = 2 3 20 21; run 1, row 0: -1 -2 -3 -4 */
        const double want0[4] = {2, 3, 20, 21}, want1[4] = {-1, -2, -3, -4};
        for (size_t q = 0; q < 4; q++) {
            CHECK_CLOSE(d->v[1 * 4 + q], want0[q], 0);
            CHECK_CLOSE(d->v[(2 + 0) * 4 + q], want1[q], 0);
        }
        CHECK_CLOSE(d->time[1], 2e-9, 0);
    }
    th_circuit_data_free(d);
    d = NULL;
    CHECK_EQ_INT(th_circuit_data_read(&bad, 1, c, &d), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "line 2: 5 columns");
    const char *grids[2] = {a, grid};
    CHECK_EQ_INT(th_circuit_data_read(grids, 2, c, &d), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "another time grid");
    CHECK_EQ_INT(th_circuit_data_read(&miss, 1, c, &d), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "no column 'x1.u1'");
    const char *none = scratch("none.data");
    CHECK_EQ_INT(th_circuit_data_read(&none, 1, c, &d), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "none.data: cannot open");
    CHECK(d == NULL);
    th_circuit_free(c);
    th_model_free(m);
    scratch_end();
}

/* thermo's own trajectories of a generator as "ngspice data": the comparison
 * must find them identical (every z = 0) and its path heat, integrated from
 * the node voltages, equal to the Langevin heat up to O(dt). */
static void test_circuit_compare_with_thermo_data(void)
{
    if (!scratch_begin()) return;
    th_gen_params p = test_gen_tiny_params(0);
    th_model *m = test_gen_random_model(&p, TH_F64, 0.4, 21);
    th_meta meta = {0};
    th_gen_params_to_meta(&p, &meta);
    const char *path = scratch("gen.safetensors");
    CHECK_EQ_INT(th_model_save(path, m, &meta), TH_OK);
    th_meta_clear(&meta);
    const size_t Q = 32, n = m->n, steps = th_gen_steps(&p);
    th_circuit_opts o = th_circuit_opts_default();
    o.copies = Q;
    th_circuit *c = NULL;
    CHECK_EQ_INT(th_circuit_export(path, &o, &c), TH_OK);
    th_circuit_info I;
    if (c) th_circuit_get_info(c, &I);
    /* Q trajectories as thermo spice compare runs them: the sampler's
     * streams, uncoupled wells, then the model, every step saved. */
    th_model *noise = th_gen_model_alloc(&p, TH_F64);
    th_batch *s = th_batch_alloc(m, Q, 1);
    size_t *snap = malloc(steps * sizeof *snap);
    double *xs = malloc(2 * steps * Q * n * sizeof *xs);
    th_circuit_data *d = calloc(1, sizeof *d);
    d->n_runs = 1;
    d->n_rows = 2 * steps;
    d->n_vectors = Q * n;
    d->time = malloc(2 * steps * sizeof *d->time);
    d->v = malloc(2 * steps * Q * n * sizeof *d->v);
    for (size_t k = 0; k < steps; k++) snap[k] = k + 1;
    for (size_t k = 0; k < Q; k++) th_batch_set_stream(s, k, TH_GEN_SAMPLE_STREAM + k);
    th_run r = th_run_default();
    r.dt = p.dt;
    r.n_steps = steps;
    r.snap_steps = snap;
    r.n_snaps = steps;
    r.snap_out.f64 = xs;
    CHECK_EQ_INT(th_langevin_run(noise, s, &r), TH_OK);
    double heat0[32];
    memcpy(heat0, th_batch_heat(s), Q * sizeof *heat0);
    r.snap_out.f64 = xs + steps * Q * n;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_OK);
    double heat = 0;
    for (size_t k = 0; k < Q; k++) heat += (th_batch_heat(s)[k] - heat0[k]) / (double)Q;
    for (size_t row = 0; row < 2 * steps; row++) {
        d->time[row] = (double)(row + 1) * p.dt * 1e-6;
        for (size_t q = 0; q < Q * n; q++) d->v[row * Q * n + q] = xs[row * Q * n + q] * I.v0;
    }
    th_circuit_compare_opts co = th_circuit_compare_opts_default();
    co.trajectories = Q;
    th_circuit_report *rep = NULL;
    CHECK_EQ_INT(th_circuit_compare(path, &o, c, d, &co, &rep), TH_OK);
    CHECK(rep != NULL);
    if (rep) {
        CHECK_EQ_INT(rep->n, 3 + 2 * n);
        for (size_t k = 1; k < rep->n; k++) {
            CHECK_CLOSE(rep->q[k].spice, rep->q[k].thermo, 1e-12 * (fabs(rep->q[k].thermo) + 1));
            CHECK_CLOSE(rep->q[k].z, 0.0, 1e-6);
        }
        /* trapezoidal path heat against th_langevin_run's midpoint heat, and
         * both against the energy balance, in kT */
        CHECK_CLOSE(rep->q[0].thermo, heat, 1e-9 * fabs(heat));
        CHECK_CLOSE(rep->q[0].spice, heat, 0.01 * fabs(heat) + 0.01);
        CHECK_CLOSE(rep->heat_balance, rep->q[0].spice, 0.01 * fabs(heat) + 0.01);
        CHECK(rep->agree);
        char *text = th_circuit_report_text(rep);
        CHECK_STR_CONTAINS(text, "heat, computing phase (kT)");
        CHECK_STR_CONTAINS(text, "AGREE");
        free(text);
        CHECK(th_circuit_report_chart(rep, 300, 200) == NULL); /* the SPU's only */
    }
    th_circuit_report_free(rep);
    th_circuit_data_free(d);
    free(snap);
    free(xs);
    th_batch_free(s);
    th_model_free(noise);
    th_circuit_free(c);
    th_model_free(m);
    scratch_end();
}

static void test_circuit_export_refusals(void)
{
    if (!scratch_begin()) return;
    th_circuit_opts o = th_circuit_opts_default();
    th_circuit *c = NULL;
    /* Too many units for ngspice. */
    size_t sizes[1] = {TH_CIRCUIT_MAX_UNITS + 1};
    th_model *big = th_model_alloc(1, sizes, TH_F32);
    CHECK_EQ_INT(th_circuit_from_model(big, NULL, NULL, 1e-3, 0, 0.01, &o, TH_CIRCUIT_GENERATOR,
                                       "big", &c), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "too large for ngspice");
    th_model_free(big);
    /* A noise step that does not divide the run. */
    th_model *m = two_units();
    o.noise_step = 0.003;
    CHECK_EQ_INT(th_circuit_from_model(m, NULL, NULL, 1e-3, 0, 0.01, &o, TH_CIRCUIT_NEURON, "m",
                                       &c), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "whole fraction");
    o.noise_step = 0;
    /* Kinds: a student, an unknown kind, a matrix, a file that is neither. */
    th_meta meta = {0};
    th_meta_set(&meta, "thermo.kind", "student");
    const char *student = scratch("student.safetensors"), *mlp = scratch("mlp.safetensors");
    CHECK_EQ_INT(th_model_save(student, m, &meta), TH_OK);
    th_meta_set(&meta, "thermo.kind", "mlp");
    CHECK_EQ_INT(th_model_save(mlp, m, &meta), TH_OK);
    th_meta_clear(&meta);
    th_circuit_kind kind;
    CHECK_EQ_INT(th_circuit_export(student, &o, &c), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "student classifier");
    CHECK_EQ_INT(th_circuit_kind_of(mlp, &kind), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "unknown kind 'mlp'");
    const double A[9] = {1, 0.9, 0.9, 0.9, 1, 0.9, 0.9, 0.9, 1}; /* <A> not an M-matrix */
    const double B[4] = {2, -1, -1, 2};
    const char *bad = scratch("bad.mtx"), *good = scratch("good.mtx");
    CHECK_EQ_INT(th_mtx_write(bad, A, 3, 3, NULL), TH_OK);
    CHECK_EQ_INT(th_mtx_write(good, B, 2, 2, NULL), TH_OK);
    CHECK_EQ_INT(th_circuit_kind_of(bad, &kind), TH_OK);
    CHECK_EQ_INT(kind, TH_CIRCUIT_SPU);
    CHECK_EQ_INT(th_circuit_export(bad, &o, &c), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "cannot realise");
    CHECK(c == NULL);
    /* The board that is realisable: its cells and parts. */
    CHECK_EQ_INT(th_circuit_export(good, &o, &c), TH_OK);
    if (c) {
        const th_circuit_element *cc = th_circuit_find(c, "Cc0_1"), *L = th_circuit_find(c, "Lv1");
        CHECK(cc && L && th_circuit_find(c, "Iv0") && th_circuit_find(c, "Rv1"));
        /* alpha = cap_max / max A_ii = 0.5 nF: coupling alpha 1, self alpha (2 - 1) */
        if (cc) CHECK_REL(cc->value, 0.5e-9, 1e-12);
        if (L) CHECK_REL(L->value, 1e-3, 1e-12);
        const th_circuit_element *cs = th_circuit_find(c, "Cs0");
        if (cs) CHECK_REL(cs->value, 0.5e-9, 1e-12);
        th_circuit_info I;
        th_circuit_get_info(c, &I);
        CHECK_REL(I.noise_rms, sqrt(2 * 1e-14 / I.noise_step), 1e-12);
    }
    th_circuit_free(c);
    th_model_free(m);
    scratch_end();
}

void suite_circuit(void)
{
    RUN_TEST(test_circuit_two_units_known_answer);
    RUN_TEST(test_circuit_currents_are_the_force);
    RUN_TEST(test_circuit_spu_bandwidth_shift);
    RUN_TEST(test_circuit_neuron_model_potential);
    RUN_TEST(test_circuit_data_read);
    RUN_TEST(test_circuit_compare_with_thermo_data);
    RUN_TEST(test_circuit_export_refusals);
}
