/* student.c - the thermodynamic classifier of Whitelam's PNAS 2026 paper
 * (arXiv 2509.15324; science.md section 3) as a student of a digital
 * teacher: its architecture, the teacher's targets, the idealised
 * trajectories built from them, and the Onsager-Machlup objective with its
 * gradient.
 *
 * The student's dynamics (science.md section 1), Euler-Maruyama with the
 * force at the start point of each step as in the published code:
 *
 *     x_{k+1} = x_k - mu dt dV/dx(x_k) + sqrt(2 mu kT dt) xi_k,
 *     dV/dx_i = 2 J2 x_i + 4 J4 x_i^3 + b_i + sum_j J_ij x_j,
 *
 * the sum over j running over the clamped inputs s and the free units. One
 * step is Gaussian with mean x_k - mu dt dV/dx(x_k) and variance
 * 2 mu kT dt per free unit, so the probability that the student produces a
 * given path {x_k} is, up to a theta-independent constant,
 *
 *     -ln P = sum_k sum_{i free} D_{k,i}^2 / (4 mu kT dt),
 *     D_{k,i} = (x_{k+1,i} - x_{k,i}) + mu dt dV/dx_i(x_k).          (1)
 *
 * dV/dx_i is linear in theta = {b, J}, so (1) is a convex quadratic in
 * theta. With r_{k,i} = D_{k,i} / (2 kT) (the mu dt of dD/dtheta cancels the
 * one in the denominator):
 *
 *     d(-ln P)/db_i  = sum_k r_{k,i},
 *     d(-ln P)/dJ_ij = sum_k (r_{k,i} x_{k,j} + r_{k,j} x_{k,i})    (i, j free),
 *     d(-ln P)/dJ_ij = sum_k r_{k,i} s_j                          (j clamped: r_j = 0).
 *
 * Over a batch the sums over (paths x steps) are matrix products: with the
 * start points X (rows, n_free) and residuals R (rows, n_free),
 * G_free = R^T X, and the input part is S^T (sum over steps of R). */
#include "classify_internal.h"

#include <math.h>
#include <string.h>

/* Images whose paths are held in memory at once by the fast objective. */
#define LOSS_CHUNK 32

th_student_params th_student_params_default(void)
{
    th_student_params p;
    memset(&p, 0, sizeof p);
    p.n_input = 784;
    p.n_hidden = 64;
    p.n_output = 10;
    p.kT = 1.0;
    p.J2 = 1.0;
    p.J4 = 1.0;
    p.mu = 1.0;
    p.dt = 1e-3;
    p.t_f = 0.2;
    p.gain = 200.0;
    p.output_temperature = 4.0;
    p.seed = 1;
    return p;
}

static int positive_finite(double v)
{
    return v > 0 && isfinite(v);
}

int th_student_params_validate(const th_student_params *p)
{
    TH_ASSERT(p != NULL);
    if (p->n_input == 0) return th__fail(TH_EINVAL, "n_input = 0: expected at least 1 input");
    if (p->n_hidden == 0)
        return th__fail(TH_EINVAL, "n_hidden = 0: expected at least 1 hidden unit");
    if (p->n_output < 2)
        return th__fail(TH_EINVAL, "n_output = %zu: expected at least 2 classes", p->n_output);
    if (p->n_input > 100000 || p->n_hidden > 100000 || p->n_output > 100000)
        return th__fail(TH_EINVAL, "%zu inputs, %zu hidden, %zu outputs: expected at most "
                        "100000 units in each group", p->n_input, p->n_hidden, p->n_output);
    if (!positive_finite(p->kT)) return th__fail(TH_EINVAL, "kT = %g: expected kT > 0", p->kT);
    if (!positive_finite(p->mu)) return th__fail(TH_EINVAL, "mu = %g: expected mu > 0", p->mu);
    if (!(p->J2 >= 0) || !isfinite(p->J2))
        return th__fail(TH_EINVAL, "J2 = %g: expected J2 >= 0", p->J2);
    if (!(p->J4 >= 0) || !isfinite(p->J4))
        return th__fail(TH_EINVAL, "J4 = %g: expected J4 >= 0", p->J4);
    if (!positive_finite(p->dt)) return th__fail(TH_EINVAL, "dt = %g: expected dt > 0", p->dt);
    if (!positive_finite(p->t_f))
        return th__fail(TH_EINVAL, "t_f = %g: expected t_f > 0", p->t_f);
    const double steps = floor(p->t_f / p->dt + 0.5);
    if (steps < 1 || steps > 1e7)
        return th__fail(TH_EINVAL, "t_f / dt = %g steps: expected 1 to 1e7", steps);
    if (!positive_finite(p->output_temperature))
        return th__fail(TH_EINVAL, "output_temperature = %g: expected a value > 0",
                        p->output_temperature);
    if (!(p->gain >= 0) || !isfinite(p->gain))
        return th__fail(TH_EINVAL, "gain = %g: expected gain >= 0 (0 = automatic)", p->gain);
    return TH_OK;
}

size_t th_student_steps(const th_student_params *p)
{
    return (size_t)floor(p->t_f / p->dt + 0.5);
}

/* The end point of the noise-free idealised path of a unit driven by the
 * constant force f; NaN when it leaves any sensible range. */
static double noise_free_end(const th_student_params *p, double f)
{
    const size_t K = th_student_steps(p);
    const double mudt = p->mu * p->dt;
    double x = 0;
    for (size_t k = 0; k < K; k++) {
        x -= mudt * (2 * p->J2 * x + 4 * p->J4 * x * x * x - f);
        if (!(fabs(x) < 1e6)) return NAN;
    }
    return x;
}

double th_student_gain(const th_student_params *p)
{
    TH_ASSERT(p != NULL);
    if (p->gain > 0) return p->gain;
    /* x_K(f) rises monotonically with f while Euler is stable: bisect for
     * x_K = 1 between 0 and the first doubling that overshoots. */
    double lo = 0, hi = 1;
    while (hi < 1e6) {
        double e = noise_free_end(p, hi);
        if (!isfinite(e) || e >= 1) break;
        lo = hi;
        hi *= 2;
    }
    for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        double e = noise_free_end(p, mid);
        if (isfinite(e) && e < 1)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

th_model *th_student_model_alloc(const th_student_params *p, th_dtype dtype)
{
    TH_ASSERT(p != NULL);
    if (th_student_params_validate(p) != TH_OK) return NULL;
    const size_t sizes[3] = {p->n_input, p->n_hidden, p->n_output};
    th_model *m = th_model_alloc(3, sizes, dtype);
    if (!m) return NULL;
    /* PNAS pattern: input-hidden, input-output, hidden-hidden,
     * hidden-output, output-output; inputs do not couple among themselves. */
    th_model_couple(m, 0, 1);
    th_model_couple(m, 0, 2);
    th_model_couple(m, 1, 1);
    th_model_couple(m, 1, 2);
    th_model_couple(m, 2, 2);
    th_model_set_onsite(m, p->J2, p->J4);
    m->kT = p->kT;
    m->mu = p->mu;
    return m;
}

int th_student_check_model(const th_model *m, const th_student_params *p)
{
    TH_ASSERT(m != NULL && p != NULL);
    const size_t sizes[3] = {p->n_input, p->n_hidden, p->n_output};
    if (m->n_groups != 3)
        return th__fail(TH_EINVAL, "student model has %zu groups: expected 3 (input, hidden, "
                        "output)", m->n_groups);
    for (size_t g = 0; g < 3; g++)
        if (m->group_start[g + 1] - m->group_start[g] != sizes[g])
            return th__fail(TH_EINVAL, "student model group %zu has %zu units: expected %zu", g,
                            m->group_start[g + 1] - m->group_start[g], sizes[g]);
    static const unsigned char pattern[3][3] = {{0, 1, 1}, {1, 1, 1}, {1, 1, 1}};
    for (size_t g = 0; g < 3; g++)
        for (size_t h = 0; h < 3; h++)
            if (m->couples[g][h] != pattern[g][h])
                return th__fail(TH_EINVAL, "student model: groups %zu and %zu %s; expected the "
                                "PNAS pattern (all pairs but input-input)", g, h,
                                m->couples[g][h] ? "couple" : "do not couple");
    if (m->kT != p->kT || m->mu != p->mu)
        return th__fail(TH_EINVAL, "student model has kT = %g, mu = %g: its settings say kT = "
                        "%g, mu = %g", m->kT, m->mu, p->kT, p->mu);
    return TH_OK;
}

/* ------------------------------------------------------------ targets */

int th_student_targets(const th_student_params *p, const th_mlp *teacher, const float *X,
                       size_t B, float *targets)
{
    TH_ASSERT(p != NULL && teacher != NULL && X != NULL && targets != NULL);
    int rc = th_student_params_validate(p);
    if (rc != TH_OK) return rc;
    const int L = teacher->n_layers;
    if (L < 2)
        return th__fail(TH_EINVAL, "teacher has no hidden layer: expected at least one");
    if (teacher->width[0] != p->n_input)
        return th__fail(TH_EINVAL, "teacher takes %zu inputs: the student has %zu",
                        teacher->width[0], p->n_input);
    if (teacher->width[L] != p->n_output)
        return th__fail(TH_EINVAL, "teacher has %zu outputs: the student has %zu",
                        teacher->width[L], p->n_output);
    size_t H = 0; /* the teacher's hidden activations, all layers concatenated */
    for (int l = 1; l < L; l++) H += teacher->width[l];
    const size_t nf = th__student_free(p), nh = p->n_hidden, no = p->n_output;
    float *logits = th__alloc(B * no * sizeof(float));      /* (B, n_output) */
    float *hid[TH_MLP_MAX_LAYERS] = {NULL};                 /* layer l: (B, width[l+1]) */
    int ok = logits != NULL;
    for (int l = 0; l + 1 < L; l++) ok &= (hid[l] = th__alloc(B * teacher->width[l + 1] *
                                                              sizeof(float))) != NULL;
    rc = ok ? th_mlp_forward(teacher, X, B, logits, hid)
            : th__fail(TH_ENOMEM, "out of memory for the teacher's activations of %zu "
                           "images", B);
    if (rc == TH_OK) {
        for (size_t k = 0; k < B; k++) {
            float *a = targets + k * nf;
            /* hidden unit h <- concatenated hidden activation (h mod H) */
            for (size_t h = 0; h < nh; h++) {
                size_t c = h % H;
                int l = 0;
                while (c >= teacher->width[l + 1]) c -= teacher->width[++l];
                a[h] = hid[l][k * teacher->width[l + 1] + c];
            }
            /* output c <- 2 softmax_c(z / T) - 1, in [-1, 1] like tanh */
            const float *z = logits + k * no;
            const double inv_T = 1.0 / p->output_temperature;
            double zmax = z[0], sum = 0;
            for (size_t c = 1; c < no; c++) zmax = fmax(zmax, (double)z[c]);
            for (size_t c = 0; c < no; c++) sum += exp(((double)z[c] - zmax) * inv_T);
            for (size_t c = 0; c < no; c++)
                a[nh + c] = (float)(2.0 * exp(((double)z[c] - zmax) * inv_T) / sum - 1.0);
        }
        for (size_t i = 0; i < B * nf; i++)
            if (!isfinite(targets[i])) {
                rc = th__fail(TH_EINVAL, "teacher activation %zu of image %zu is %g: expected "
                              "a finite value", i % nf, i / nf, (double)targets[i]);
                break;
            }
    }
    th__free(logits);
    for (int l = 0; l + 1 < L; l++) th__free(hid[l]);
    return rc;
}

/* --------------------------------------------------- idealised paths */

int th_student_ideal_paths(const th_student_params *p, const float *targets,
                           const uint64_t *path_ids, size_t B, double *paths)
{
    TH_ASSERT(p != NULL && targets != NULL && path_ids != NULL && paths != NULL);
    int rc = th_student_params_validate(p);
    if (rc != TH_OK) return rc;
    const size_t nf = th__student_free(p), K = th_student_steps(p);
    const double mudt = p->mu * p->dt, sigma = sqrt(2 * p->mu * p->kT * p->dt);
    const double gain = th_student_gain(p);
    const uint64_t bps = th__student_blocks_per_step(p);
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
    for (size_t k = 0; k < B; k++) {
        double *x = paths + k * (K + 1) * nf; /* (K + 1, nf) */
        const float *a = targets + k * nf;
        const uint64_t stream = TH_STUDENT_PATH_STREAM + path_ids[k];
        for (size_t i = 0; i < nf; i++) x[i] = 0;
        for (size_t s = 0; s < K; s++) {
            const double *xo = x + s * nf;
            double *xn = x + (s + 1) * nf;
            th_normal_fill_f64(p->seed, stream, s * bps, xn, nf); /* the noise, then x */
            for (size_t i = 0; i < nf; i++) {
                const double v = xo[i];
                xn[i] = v - mudt * (2 * p->J2 * v + 4 * p->J4 * v * v * v - gain * (double)a[i]) +
                        sigma * xn[i];
                bad |= !(fabs(xn[i]) < 1e6);
            }
        }
    }
    if (bad)
        return th__fail(TH_EDIVERGED, "an idealised path diverged: the gain %g with dt = %g "
                        "is too large for the wells, or a target is not finite", gain, p->dt);
    return TH_OK;
}

/* ------------------------------------------------------ the objective */

/* The trainable parameters of the free units, in double, read once per
 * call: the free-free block, the input-free block (both zero outside the
 * coupling pattern, as the model keeps them), biases and on-site terms. */
typedef struct free_params {
    double *Jff; /* (nf, nf) */
    double *Win; /* (n_in, nf): Win[j][i] = J_{input j, free i} */
    double *b;   /* (nf) */
    double *J2;  /* (nf) */
    double *J4;  /* (nf) */
} free_params;

static void free_params_free(free_params *fp)
{
    th__free(fp->Jff);
    th__free(fp->Win);
    th__free(fp->b);
    th__free(fp->J2);
    th__free(fp->J4);
}

static int free_params_read(const th_model *m, size_t n_in, size_t nf, free_params *fp)
{
    fp->Jff = th__alloc(nf * nf * sizeof(double));
    fp->Win = th__alloc(n_in * nf * sizeof(double));
    fp->b = th__alloc(nf * sizeof(double));
    fp->J2 = th__alloc(nf * sizeof(double));
    fp->J4 = th__alloc(nf * sizeof(double));
    if (!fp->Jff || !fp->Win || !fp->b || !fp->J2 || !fp->J4) {
        free_params_free(fp);
        return th__fail(TH_ENOMEM, "out of memory for the student's parameters");
    }
    const size_t n = m->n;
    for (size_t i = 0; i < nf; i++) {
        fp->b[i] = th_ptr_get(m->b, m->dtype, n_in + i);
        fp->J2[i] = th_ptr_get(m->J2, m->dtype, n_in + i);
        fp->J4[i] = th_ptr_get(m->J4, m->dtype, n_in + i);
        for (size_t j = 0; j < nf; j++)
            fp->Jff[i * nf + j] = th_ptr_get(m->J, m->dtype, (n_in + i) * n + n_in + j);
    }
    for (size_t j = 0; j < n_in; j++)
        for (size_t i = 0; i < nf; i++)
            fp->Win[j * nf + i] = th_ptr_get(m->J, m->dtype, j * n + n_in + i);
    return TH_OK;
}

/* Work arrays of one chunk of LOSS_CHUNK paths. */
typedef struct loss_work {
    double *paths; /* (C, K + 1, nf) */
    double *X;     /* (C K, nf) start points */
    double *R;     /* (C K, nf) coupling force, then residuals */
    double *S;     /* (C, n_in) images in double */
    double *H;     /* (C, nf) input field S Win, then the summed residuals */
    double *row_loss; /* (C K) */
    double *Gff;   /* (nf, nf) sum R^T X */
    double *Gin;   /* (n_in, nf) sum S^T R */
    double *gb;    /* (nf) */
} loss_work;

static void loss_work_free(loss_work *w)
{
    th__free(w->paths);
    th__free(w->X);
    th__free(w->R);
    th__free(w->S);
    th__free(w->H);
    th__free(w->row_loss);
    th__free(w->Gff);
    th__free(w->Gin);
    th__free(w->gb);
}

/* The fast objective: per chunk, the coupling force of every (path, step)
 * row in one product, the residuals in one fused pass, the gradient in two
 * more products. Partial sums are combined in a fixed order, so results do
 * not depend on the number of threads. */
static int loss_fast(const th_model *m, const th_student_params *p, const float *images,
                     const float *targets, const uint64_t *path_ids, size_t B, double *loss,
                     th_model *grad)
{
    const size_t n_in = p->n_input, nf = th__student_free(p), K = th_student_steps(p);
    const size_t C = B < LOSS_CHUNK ? B : LOSS_CHUNK;
    const double mudt = p->mu * p->dt, kT = p->kT;
    const double norm = 1.0 / (4 * p->mu * kT * p->dt);
    free_params fp;
    int rc = free_params_read(m, n_in, nf, &fp);
    if (rc != TH_OK) return rc;
    loss_work w;
    memset(&w, 0, sizeof w);
    w.paths = th__alloc(C * (K + 1) * nf * sizeof(double));
    w.X = th__alloc(C * K * nf * sizeof(double));
    w.R = th__alloc(C * K * nf * sizeof(double));
    w.S = th__alloc(C * n_in * sizeof(double));
    w.H = th__alloc(C * nf * sizeof(double));
    w.row_loss = th__alloc(C * K * sizeof(double));
    w.Gff = th__calloc(nf * nf, sizeof(double));
    w.Gin = th__calloc(n_in * nf, sizeof(double));
    w.gb = th__calloc(nf, sizeof(double));
    if (!w.paths || !w.X || !w.R || !w.S || !w.H || !w.row_loss || !w.Gff || !w.Gin || !w.gb) {
        rc = th__fail(TH_ENOMEM, "out of memory for the objective of %zu paths of %zu steps",
                      C, K);
        goto done;
    }
    double total = 0;
    for (size_t c0 = 0; c0 < B; c0 += C) {
        const size_t nc = B - c0 < C ? B - c0 : C, rows = nc * K;
        rc = th_student_ideal_paths(p, targets + c0 * nf, path_ids + c0, nc, w.paths);
        if (rc != TH_OK) goto done;
        for (size_t i = 0; i < nc * n_in; i++) w.S[i] = (double)images[c0 * n_in + i];
        /* H = S Win: the clamped inputs' constant force on each free unit. */
        th__gemm_f64(TH__N, TH__N, nc, nf,
                    n_in, 1.0, w.S, n_in, fp.Win, nf, 0.0, w.H,
                    nf);
        for (size_t c = 0; c < nc; c++)
            memcpy(w.X + c * K * nf, w.paths + c * (K + 1) * nf, K * nf * sizeof(double));
        /* R = X Jff: the free units' coupling force at every start point. */
        th__gemm_f64(TH__N, TH__N, rows, nf,
                    nf, 1.0, w.X, nf, fp.Jff, nf, 0.0, w.R,
                    nf);
        /* Residuals (1): D = Dx + mu dt dV/dx(x_k); r = D / (2 kT). */
#pragma omp parallel for schedule(static) if (rows * nf >= 8192)
        for (size_t q = 0; q < rows; q++) {
            const size_t c = q / K, k = q % K;
            const double *x = w.paths + (c * (K + 1) + k) * nf, *xn = x + nf;
            const double *h = w.H + c * nf;
            double *r = w.R + q * nf;
            double acc = 0;
            for (size_t i = 0; i < nf; i++) {
                const double v = x[i];
                const double force = 2 * fp.J2[i] * v + 4 * fp.J4[i] * v * v * v + fp.b[i] +
                                     h[i] + r[i];
                const double D = (xn[i] - v) + mudt * force;
                acc += D * D;
                r[i] = D / (2 * kT);
            }
            w.row_loss[q] = acc * norm;
        }
        for (size_t q = 0; q < rows; q++) total += w.row_loss[q];
        if (!grad) continue;
        /* Gff += R^T X: entry (i, j) = sum over rows of r_i x_j. */
        th__gemm_f64(TH__T, TH__N, nf, nf,
                    rows, 1.0, w.R, nf, w.X, nf, 1.0, w.Gff,
                    nf);
        /* Residuals summed over each path's steps, into H (no longer needed). */
        for (size_t c = 0; c < nc; c++) {
            double *rs = w.H + c * nf;
            for (size_t i = 0; i < nf; i++) rs[i] = 0;
            for (size_t k = 0; k < K; k++) {
                const double *r = w.R + (c * K + k) * nf;
                for (size_t i = 0; i < nf; i++) rs[i] += r[i];
            }
            for (size_t i = 0; i < nf; i++) w.gb[i] += rs[i];
        }
        /* Gin += S^T Rsum: entry (j, i) = sum over paths of s_j sum_k r_i. */
        th__gemm_f64(TH__T, TH__N, n_in, nf,
                    nc, 1.0, w.S, n_in, w.H, nf, 1.0, w.Gin,
                    nf);
    }
    *loss = total;
    if (grad) {
        const size_t n = m->n;
        const th_dtype gt = grad->dtype;
        for (size_t i = 0; i < nf; i++) {
            const size_t ui = n_in + i;
            th_ptr_set(grad->b, gt, ui, th_ptr_get(grad->b, gt, ui) + w.gb[i]);
            for (size_t j = 0; j < nf; j++) {
                const size_t uj = n_in + j;
                if (i == j || !th_model_groups_couple(m, ui, uj)) continue;
                const size_t at = ui * n + uj;
                th_ptr_set(grad->J, gt, at,
                       th_ptr_get(grad->J, gt, at) + w.Gff[i * nf + j] + w.Gff[j * nf + i]);
            }
            for (size_t j = 0; j < n_in; j++) {
                if (!th_model_groups_couple(m, ui, j)) continue;
                const double g = w.Gin[j * nf + i];
                th_ptr_set(grad->J, gt, ui * n + j, th_ptr_get(grad->J, gt, ui * n + j) + g);
                th_ptr_set(grad->J, gt, j * n + ui, th_ptr_get(grad->J, gt, j * n + ui) + g);
            }
        }
    }
done:
    loss_work_free(&w);
    free_params_free(&fp);
    return rc;
}

/* The reference twin: each path generated alone, then, step by step, the
 * full gradient of the potential of every free unit summed over all n units
 * of the model (inputs held at the image), and the gradient accumulated
 * pair by pair. Serial and slow on purpose. */
static int loss_reference(const th_model *m, const th_student_params *p, const float *images,
                          const float *targets, const uint64_t *path_ids, size_t B,
                          double *loss, th_model *grad)
{
    const size_t n_in = p->n_input, nf = th__student_free(p), K = th_student_steps(p);
    const size_t n = m->n;
    const double mudt = p->mu * p->dt, kT = p->kT;
    double *path = th__alloc((K + 1) * nf * sizeof(double));
    double *x = th__alloc(n * sizeof(double));
    if (!path || !x) {
        th__free(path);
        th__free(x);
        return th__fail(TH_ENOMEM, "out of memory for a reference path");
    }
    const th_dtype dt = m->dtype;
    double total = 0;
    int rc = TH_OK;
    for (size_t c = 0; c < B && rc == TH_OK; c++) {
        rc = th_student_ideal_paths(p, targets + c * nf, path_ids + c, 1, path);
        for (size_t j = 0; j < n_in; j++) x[j] = (double)images[c * n_in + j];
        for (size_t k = 0; k < K && rc == TH_OK; k++) {
            for (size_t i = 0; i < nf; i++) x[n_in + i] = path[k * nf + i];
            for (size_t i = n_in; i < n; i++) {
                double force = 2 * th_ptr_get(m->J2, dt, i) * x[i] +
                               4 * th_ptr_get(m->J4, dt, i) * x[i] * x[i] * x[i] +
                               th_ptr_get(m->b, dt, i);
                for (size_t j = 0; j < n; j++) force += th_ptr_get(m->J, dt, i * n + j) * x[j];
                const double D = path[(k + 1) * nf + (i - n_in)] - x[i] + mudt * force;
                total += D * D / (4 * p->mu * kT * p->dt);
                if (!grad) continue;
                const double r = D / (2 * kT);
                th_ptr_set(grad->b, grad->dtype, i, th_ptr_get(grad->b, grad->dtype, i) + r);
                for (size_t j = 0; j < n; j++) {
                    if (j == i || !th_model_groups_couple(m, i, j)) continue;
                    th_ptr_set(grad->J, grad->dtype, i * n + j,
                           th_ptr_get(grad->J, grad->dtype, i * n + j) + r * x[j]);
                    th_ptr_set(grad->J, grad->dtype, j * n + i,
                           th_ptr_get(grad->J, grad->dtype, j * n + i) + r * x[j]);
                }
            }
        }
    }
    th__free(path);
    th__free(x);
    *loss = total;
    return rc;
}

int th_student_path_loss(const th_model *m, const th_student_params *p, const float *images,
                         const float *targets, const uint64_t *path_ids, size_t B,
                         th_kernel kernel, double *loss, th_model *grad)
{
    TH_ASSERT(m != NULL && p != NULL && images != NULL && targets != NULL &&
              path_ids != NULL && loss != NULL);
    int rc = th_student_params_validate(p);
    if (rc == TH_OK) rc = th_student_check_model(m, p);
    if (rc == TH_OK && grad) {
        rc = th_student_check_model(grad, p);
        if (rc != TH_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", th_last_error());
            return th__fail(rc, "gradient container: %s", why);
        }
    }
    if (rc != TH_OK) return rc;
    if (B == 0) return th__fail(TH_EINVAL, "no paths: expected at least 1");
    if (kernel == TH_KERNEL_FAST)
        return loss_fast(m, p, images, targets, path_ids, B, loss, grad);
    if (kernel == TH_KERNEL_REFERENCE)
        return loss_reference(m, p, images, targets, path_ids, B, loss, grad);
    return th__fail(TH_EINVAL, "kernel %d: expected TH_KERNEL_FAST or TH_KERNEL_REFERENCE",
                    (int)kernel);
}
