/* neuron.c - layered networks of thermodynamic neurons (Whitelam & Casert,
 * Nat. Commun. 2026; science.md sections 1 and 4): the settings, the
 * network's parameters, the runs and the loss against cos(2 pi z).
 *
 * A network is a thermodynamic computer like any other: its neurons are the
 * units of a th_model with a cubic on-site term, and its runs are the
 * core's Euler-Maruyama integrator (th_langevin_run), fast kernel or
 * reference twin, so the neurons share the core's physics, noise layout
 * and tests instead of keeping an integrator of their own. All inputs and
 * replicas of an evaluation go through the core as one batch. */
#include "classify/neuron_internal.h"

#include <math.h>
#include <string.h>

th_neuron_params th_neuron_params_default(void)
{
    th_neuron_params p = {
        .n_layers = 4,
        .width = 8,
        .kT = 0.1,
        .mu = 1.0,
        .J2 = 1.0,
        .J3 = 0.5,
        .J4 = 1.0,
        .dt = 0.01,
        .t_f = 1.0,
        .n_z = 16,
        .replicas = 32,
        .blowup = 1e3,
    };
    return p;
}

static int positive_finite(double v)
{
    return isfinite(v) && v > 0;
}

int th_neuron_params_validate(const th_neuron_params *p)
{
    TH_ASSERT(p != NULL);
    if (p->n_layers < 1) return th__fail(TH_EINVAL, "n_layers = 0: expected at least 1");
    if (p->width < 1) return th__fail(TH_EINVAL, "width = 0: expected at least 1");
    if (p->n_layers > TH__NEURON_MAX_UNITS || p->width > TH__NEURON_MAX_UNITS ||
        p->n_layers * p->width > TH__NEURON_MAX_UNITS)
        return th__fail(TH_EINVAL, "n_layers = %zu, width = %zu: expected at most %zu neurons",
                        p->n_layers, p->width, TH__NEURON_MAX_UNITS);
    if (!positive_finite(p->kT)) return th__fail(TH_EINVAL, "kT = %g: expected kT > 0", p->kT);
    if (!positive_finite(p->mu)) return th__fail(TH_EINVAL, "mu = %g: expected mu > 0", p->mu);
    if (!isfinite(p->J2)) return th__fail(TH_EINVAL, "J2 = %g: expected a finite value", p->J2);
    if (!isfinite(p->J3)) return th__fail(TH_EINVAL, "J3 = %g: expected a finite value", p->J3);
    /* J4 > 0 confines every neuron whatever its input; without it the
     * cubic term or a negative J2 would let x run away. */
    if (!positive_finite(p->J4))
        return th__fail(TH_EINVAL, "J4 = %g: expected J4 > 0 (the quartic term confines)", p->J4);
    if (!positive_finite(p->dt)) return th__fail(TH_EINVAL, "dt = %g: expected dt > 0", p->dt);
    if (!positive_finite(p->t_f)) return th__fail(TH_EINVAL, "t_f = %g: expected t_f > 0", p->t_f);
    if (p->t_f / p->dt < 0.5 || p->t_f / p->dt > 1e9)
        return th__fail(TH_EINVAL, "t_f = %g with dt = %g: expected 1 to 1e9 steps", p->t_f,
                        p->dt);
    if (p->n_z < 1) return th__fail(TH_EINVAL, "n_z = 0: expected at least 1 input");
    if (p->replicas < 1) return th__fail(TH_EINVAL, "replicas = 0: expected at least 1");
    if (p->n_z > TH__NEURON_MAX_TRAJECTORIES || p->replicas > TH__NEURON_MAX_TRAJECTORIES ||
        p->n_z * p->replicas > TH__NEURON_MAX_TRAJECTORIES)
        return th__fail(TH_EINVAL, "replicas = %zu with n_z = %zu inputs: expected at most "
                        "%llu trajectories (n_z x replicas) per evaluation", p->replicas, p->n_z,
                        (unsigned long long)TH__NEURON_MAX_TRAJECTORIES);
    if (!positive_finite(p->blowup))
        return th__fail(TH_EINVAL, "blowup = %g: expected blowup > 0", p->blowup);
    return TH_OK;
}

size_t th_neuron_steps(const th_neuron_params *p, double t)
{
    TH_ASSERT(p != NULL && p->dt > 0 && t >= 0);
    return (size_t)llround(t / p->dt);
}

double th_neuron_input(const th_neuron_params *p, size_t j)
{
    TH_ASSERT(p != NULL && j < p->n_z);
    return p->n_z == 1 ? 0.0 : (double)j / (double)(p->n_z - 1);
}

double th_neuron_target(double z)
{
    const double two_pi = 6.283185307179586476925;
    return cos(two_pi * z);
}

/* ------------------------------------------------------------ network */

size_t th__neuron_param_count(size_t n_layers, size_t width)
{
    return width + n_layers * width + (n_layers - 1) * width * width + width;
}

void th__neuron_net_view(th_neuron_net *net, double *theta)
{
    const size_t L = net->n_layers, w = net->width;
    net->theta = theta;
    net->W = theta;
    net->b = net->W + w;
    net->w = net->b + L * w;
    net->f = net->w + (L - 1) * w * w;
}

th_neuron_net *th_neuron_net_alloc(size_t n_layers, size_t width)
{
    if (n_layers < 1 || width < 1 || n_layers > TH__NEURON_MAX_UNITS ||
        width > TH__NEURON_MAX_UNITS || n_layers * width > TH__NEURON_MAX_UNITS) {
        th__fail(TH_EINVAL, "a network of %zu layers of %zu neurons: expected 1 to %zu neurons",
                 n_layers, width, TH__NEURON_MAX_UNITS);
        return NULL;
    }
    th_neuron_net *net = th__calloc(1, sizeof *net);
    if (!net) {
        th__fail(TH_ENOMEM, "out of memory for a network");
        return NULL;
    }
    net->n_layers = n_layers;
    net->width = width;
    net->n_params = th__neuron_param_count(n_layers, width);
    double *theta = th__calloc(net->n_params, sizeof(double));
    if (!theta) {
        th__free(net);
        th__fail(TH_ENOMEM, "out of memory for %zu network parameters", net->n_params);
        return NULL;
    }
    th__neuron_net_view(net, theta);
    return net;
}

void th_neuron_net_free(th_neuron_net *net)
{
    if (!net) return;
    th__free(net->theta);
    th__free(net);
}

size_t th_neuron_fan_in(const th_neuron_net *net, size_t k)
{
    TH_ASSERT(net != NULL && k < net->n_params);
    /* Input field and biases act on one neuron's input alone; a coupling is
     * one of width terms that make up the input from the layer below, and a
     * readout weight one of width terms of the output. */
    return k < (size_t)(net->w - net->theta) ? 1 : net->width;
}

void th_neuron_readout(const th_neuron_net *net, const double *means, size_t count, double *y)
{
    TH_ASSERT(net != NULL && (count == 0 || (means != NULL && y != NULL)));
    const size_t w = net->width;
    for (size_t k = 0; k < count; k++) {
        double s = 0;
        for (size_t i = 0; i < w; i++) s += net->f[i] * means[k * w + i];
        y[k] = s;
    }
}

/* --------------------------------------------------------------- runs */

/* The network as a th_model (science.md sections 1 and 4): U0's J2, J3, J4
 * on every unit, biases -b (the neurons' V has -b x where the model's has
 * +b x) and couplings J = -w between adjacent layers. The input W z is not
 * in the model: it differs between inputs that share a batch, so it is a
 * per-trajectory drive of amplitude 1 (neuron_drive). Layers map onto the
 * model's groups, spread evenly when there are more layers than groups;
 * each group couples to its neighbour, and to itself when it holds several
 * layers (the zeros between non-adjacent layers cost flops, not bits). */
static th_model *network_model(const th_neuron_params *p, const th_neuron_net *net)
{
    const size_t L = p->n_layers, w = p->width, N = L * w;
    const size_t G = L < TH_MAX_GROUPS ? L : TH_MAX_GROUPS;
    size_t sizes[TH_MAX_GROUPS];
    for (size_t g = 0; g < G; g++) sizes[g] = ((g + 1) * L / G - g * L / G) * w;
    th_model *m = th_model_alloc(G, sizes, TH_F64);
    if (!m) return NULL;
    for (size_t g = 0; g < G; g++) {
        if (sizes[g] > w) th_model_couple(m, g, g);
        if (g + 1 < G) th_model_couple(m, g, g + 1);
    }
    m->kT = p->kT;
    m->mu = p->mu;
    th_model_set_onsite3(m, p->J2, p->J3, p->J4);
    for (size_t i = 0; i < N; i++) m->b.f64[i] = -net->b[i];
    for (size_t l = 0; l + 1 < L; l++)
        for (size_t i = 0; i < w; i++)
            for (size_t j = 0; j < w; j++) {
                const size_t a = l * w + i, c = (l + 1) * w + j;
                m->J.f64[a * N + c] = m->J.f64[c * N + a] = -net->w[(l * w + i) * w + j];
            }
    return m;
}

/* The input field's amplitude: constant, the field itself carries -W z. */
static double neuron_drive(double t, void *ctx)
{
    (void)t;
    (void)ctx;
    return 1.0;
}

/* Trajectories per batch: every trajectory at once when they fit in about
 * 2^20 states (8 MB an array), so the core spreads one batch over the
 * threads; the means do not depend on the split, since every trajectory's
 * bits depend on its stream alone (th_langevin_run) and the sums run in
 * trajectory order. */
static size_t chunk_rows(size_t total, size_t N)
{
    const size_t rows = ((size_t)1 << 20) / N;
    return rows < 1 ? 1 : (rows < total ? rows : total);
}

static int check_net(const th_neuron_params *p, const th_neuron_net *net)
{
    if (net->n_layers != p->n_layers || net->width != p->width)
        return th__fail(TH_EINVAL, "network of %zu layers of %zu: expected %zu layers of %zu "
                        "(the settings)", net->n_layers, net->width, p->n_layers, p->width);
    for (size_t k = 0; k < net->n_params; k++)
        if (!isfinite(net->theta[k]))
            return th__fail(TH_EINVAL, "network parameter %zu = %g: expected a finite value", k,
                            net->theta[k]);
    return TH_OK;
}

/* After TH_EDIVERGED from the core: the first trajectory whose new state
 * (left in work_next, th_langevin_run) is beyond the bound, named as the
 * neurons' input, replica, neuron and step. */
static int report_divergence(const th_neuron_params *p, const th_batch *s, const double *z,
                             size_t first, size_t replicas)
{
    const size_t N = s->n;
    for (size_t k = 0; k < s->b; k++)
        for (size_t i = 0; i < N; i++) {
            const double v = s->work_next.f64[k * N + i];
            if (fabs(v) <= p->blowup) continue;
            const size_t t = first + k, j = t / replicas;
            return th__fail(TH_EDIVERGED, "input z = %g, replica %zu: neuron %zu (layer %zu) "
                            "reached x = %g at step %llu, beyond the bound %g (dt = %g too "
                            "large for couplings this strong?)", z[j], t % replicas, i,
                            i / p->width, v, (unsigned long long)s->step, p->blowup, p->dt);
        }
    return th__fail(TH_EDIVERGED, "a run of the network diverged at step %llu (dt = %g)",
                    (unsigned long long)s->step, p->dt);
}

/* Trajectories [first, first + b) of the run (trajectory t = j replicas +
 * r: input j, replica r, noise stream stream_base + t) from x = 0 through
 * every snapshot, adding their last layer's states to sums (n_snaps, n_z,
 * w) in trajectory order. field: (b, N) workspace for the inputs. */
static int run_chunk(const th_neuron_params *p, const th_neuron_net *net, const th_model *m,
                     th_batch *s, double *field, const double *z, size_t n_z, size_t first,
                     size_t replicas, uint64_t stream_base, const size_t *snap_steps,
                     size_t n_snaps, th_kernel kernel, double *sums)
{
    const size_t N = m->n, w = p->width, last = (p->n_layers - 1) * w, b = s->b;
    th_batch_reset(s);
    memset(field, 0, b * N * sizeof *field);
    for (size_t k = 0; k < b; k++) {
        s->stream[k] = stream_base + first + k;
        for (size_t i = 0; i < w; i++) field[k * N + i] = -net->W[i] * z[(first + k) / replicas];
    }
    th_drive drive = {.amplitude = neuron_drive, .field.f64 = field, .per_trajectory = 1};
    th_run r = th_run_default();
    r.dt = p->dt;
    r.drive = &drive;
    r.kernel = kernel;
    r.noise = TH_NOISE_F32; /* the neurons' noise: float32 normals (th_run.noise) */
    r.blowup = p->blowup;
    size_t done = 0;
    for (size_t q = 0; q < n_snaps; q++) {
        /* The run goes on from where the last one stopped: the noise of a
         * step depends on the batch's step count, not on the call. */
        if (snap_steps[q] > done) {
            r.n_steps = snap_steps[q] - done;
            const int rc = th__langevin_run_states(m, s, &r);
            if (rc == TH_EDIVERGED) return report_divergence(p, s, z, first, replicas);
            if (rc != TH_OK) return rc;
            done = snap_steps[q];
        }
        for (size_t k = 0; k < b; k++) {
            double *to = sums + (q * n_z + (first + k) / replicas) * w;
            const double *x = s->x.f64 + k * N + last;
            for (size_t i = 0; i < w; i++) to[i] += x[i];
        }
    }
    return TH_OK;
}

int th_neuron_run(const th_neuron_params *p, const th_neuron_net *net, const double *z,
                  size_t n_z, size_t replicas, uint64_t seed, uint64_t stream_base,
                  const size_t *snap_steps, size_t n_snaps, th_kernel kernel, double *means)
{
    TH_ASSERT(p != NULL && net != NULL && (n_z == 0 || z != NULL));
    TH_ASSERT(n_snaps == 0 || (snap_steps != NULL && means != NULL));
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    if ((rc = check_net(p, net)) != TH_OK) return rc;
    if (n_z < 1 || replicas < 1)
        return th__fail(TH_EINVAL, "%zu inputs x %zu replicas: expected at least 1 of each", n_z,
                        replicas);
    if (n_z > TH__NEURON_MAX_TRAJECTORIES || replicas > TH__NEURON_MAX_TRAJECTORIES ||
        n_z * replicas > UINT64_MAX - stream_base)
        return th__fail(TH_EINVAL, "%zu inputs x %zu replicas from stream %llu: the stream "
                        "numbers overflow", n_z, replicas, (unsigned long long)stream_base);
    for (size_t j = 0; j < n_z; j++)
        if (!isfinite(z[j]))
            return th__fail(TH_EINVAL, "input z[%zu] = %g: expected a finite value", j, z[j]);
    for (size_t s = 1; s < n_snaps; s++)
        if (snap_steps[s] < snap_steps[s - 1])
            return th__fail(TH_EINVAL, "snapshot steps %zu then %zu: expected ascending",
                            snap_steps[s - 1], snap_steps[s]);
    if (n_snaps && snap_steps[n_snaps - 1] > UINT64_MAX / ((p->n_layers * p->width + 3) / 4))
        return th__fail(TH_EINVAL, "%zu steps: the noise blocks overflow",
                        snap_steps[n_snaps - 1]);
    if (kernel != TH_KERNEL_FAST && kernel != TH_KERNEL_REFERENCE)
        return th__fail(TH_EINVAL, "kernel %d: expected TH_KERNEL_FAST or TH_KERNEL_REFERENCE",
                        (int)kernel);

    const size_t w = p->width, N = p->n_layers * w, total = n_z * replicas;
    const size_t rows = chunk_rows(total, N);
    th_model *m = network_model(p, net);
    th_batch *s = m ? th_batch_alloc(m, rows, seed) : NULL;
    double *field = th__alloc(rows * N * sizeof *field);
    if (!m || !s || !field) {
        rc = th__fail(TH_ENOMEM, "out of memory for a network of %zu neurons", N);
        goto done;
    }
    /* Checked once here, so that the many short runs between snapshots
     * skip the model's scan and the heat (th__langevin_run_states). */
    if ((rc = th_model_validate(m)) != TH_OK) goto done;
    if (n_snaps) memset(means, 0, n_snaps * n_z * w * sizeof *means);
    for (size_t first = 0; first < total && rc == TH_OK; first += rows) {
        if (total - first < rows) {
            /* The last, partial batch: a smaller batch gives the same bits
             * for each of its trajectories. */
            th_batch_free(s);
            s = th_batch_alloc(m, total - first, seed);
            if (!s) {
                rc = th__fail(TH_ENOMEM, "out of memory for a network of %zu neurons", N);
                break;
            }
        }
        rc = run_chunk(p, net, m, s, field, z, n_z, first, replicas, stream_base, snap_steps,
                       n_snaps, kernel, means);
    }
    if (rc == TH_OK)
        for (size_t k = 0; k < n_snaps * n_z * w; k++) means[k] /= (double)replicas;
done:
    th__free(field);
    th_batch_free(s);
    th_model_free(m);
    return rc;
}

/* --------------------------------------------------------------- loss */

/* mean over j of (y_j - cos(2 pi z_j))^2 */
static double task_loss(const th_neuron_params *p, const double *y)
{
    double s = 0;
    for (size_t j = 0; j < p->n_z; j++) {
        const double d = y[j] - th_neuron_target(th_neuron_input(p, j));
        s += d * d;
    }
    return s / (double)p->n_z;
}

int th_neuron_loss(const th_neuron_params *p, const th_neuron_net *net, uint64_t seed,
                   uint64_t stream_base, double *loss, double *y_out)
{
    TH_ASSERT(p != NULL && net != NULL && loss != NULL);
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    const size_t n_z = p->n_z, w = p->width;
    double *buf = th__alloc((n_z + n_z * w + n_z) * sizeof(double));
    if (!buf) return th__fail(TH_ENOMEM, "out of memory for %zu inputs", n_z);
    double *z = buf, *means = buf + n_z, *y = means + n_z * w;
    for (size_t j = 0; j < n_z; j++) z[j] = th_neuron_input(p, j);
    const size_t steps = th_neuron_steps(p, p->t_f);
    rc = th_neuron_run(p, net, z, n_z, p->replicas, seed, stream_base, &steps, 1,
                       TH_KERNEL_FAST, means);
    if (rc == TH_OK) {
        th_neuron_readout(net, means, n_z, y);
        *loss = task_loss(p, y);
        if (y_out) memcpy(y_out, y, n_z * sizeof *y);
    }
    th__free(buf);
    return rc;
}

int th_neuron_loss_curve(const th_neuron_params *p, const th_neuron_net *net, size_t replicas,
                         uint64_t seed, const double *times, size_t n_times, double *loss)
{
    TH_ASSERT(p != NULL && net != NULL && (n_times == 0 || (times != NULL && loss != NULL)));
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    if (n_times == 0) return th__fail(TH_EINVAL, "a loss curve of 0 times: expected at least 1");
    for (size_t k = 0; k < n_times; k++) {
        if (!(isfinite(times[k]) && times[k] > 0 && times[k] / p->dt <= 1e9))
            return th__fail(TH_EINVAL, "time[%zu] = %g: expected 0 < t <= 1e9 dt", k, times[k]);
        if (k > 0 && !(times[k] > times[k - 1]))
            return th__fail(TH_EINVAL, "time[%zu] = %g after %g: expected ascending times", k,
                            times[k], times[k - 1]);
    }
    const size_t n_z = p->n_z, w = p->width;
    size_t *steps = th__alloc(n_times * sizeof *steps);
    double *buf = th__alloc((n_z + n_times * n_z * w + n_z) * sizeof(double));
    if (!steps || !buf) {
        th__free(steps);
        th__free(buf);
        return th__fail(TH_ENOMEM, "out of memory for a loss curve of %zu times", n_times);
    }
    double *z = buf, *means = buf + n_z, *y = means + n_times * n_z * w;
    for (size_t j = 0; j < n_z; j++) z[j] = th_neuron_input(p, j);
    for (size_t k = 0; k < n_times; k++) steps[k] = th_neuron_steps(p, times[k]);
    rc = th_neuron_run(p, net, z, n_z, replicas, seed, 0, steps, n_times, TH_KERNEL_FAST, means);
    if (rc == TH_OK)
        for (size_t k = 0; k < n_times; k++) {
            th_neuron_readout(net, means + k * n_z * w, n_z, y);
            loss[k] = task_loss(p, y);
        }
    th__free(steps);
    th__free(buf);
    return rc;
}
