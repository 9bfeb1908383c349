/* student_train.c - training the PNAS student (science.md section 3): Adam
 * (Kingma & Ba 2015, with bias correction) on minibatches of idealised
 * paths, the gradient of the Onsager-Machlup objective of student.c per
 * path; and the student's settings as model-file metadata. */
#include "classify_internal.h"
#include "io/io_internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* The streams of the per-epoch shuffles: epoch e uses stream base + e. */
#define SHUFFLE_STREAM ((uint64_t)1 << 36)

th_student_train_opts th_student_train_opts_default(void)
{
    th_student_train_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = 1;
    o.batch = 20;
    o.learning_rate = 0.1;
    o.beta1 = 0.9;
    o.beta2 = 0.999;
    o.epsilon = 1e-8;
    o.cosine = 1;
    return o;
}

static int check_opts(const th_student_train_opts *o, size_t count)
{
    if (count == 0) return th__fail(TH_EINVAL, "no training images");
    if (o->epochs == 0) return th__fail(TH_EINVAL, "epochs = 0: expected at least 1");
    if (o->batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1 path");
    if (!(o->learning_rate > 0) || !isfinite(o->learning_rate))
        return th__fail(TH_EINVAL, "learning rate %g: expected a finite value > 0",
                        o->learning_rate);
    if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
        return th__fail(TH_EINVAL, "beta1 = %g, beta2 = %g: expected each in [0, 1)", o->beta1,
                        o->beta2);
    if (!(o->epsilon > 0) || !isfinite(o->epsilon))
        return th__fail(TH_EINVAL, "epsilon = %g: expected a finite value > 0", o->epsilon);
    return TH_OK;
}

/* Everything training allocates, once. */
typedef struct train_work {
    th_model *theta;   /* the parameters in double: the master copy */
    th_model *grad;    /* (same architecture, double) */
    double *mJ, *vJ;   /* (n, n) Adam moments of the couplings */
    double *mb, *vb;   /* (n) and of the biases */
    size_t *trainable; /* (n_trainable) flat indices i n + j of coupled pairs i != j */
    size_t n_trainable;
    size_t *order;     /* (count) the epoch's permutation */
    float *images;     /* (batch, n_input) */
    float *targets;    /* (batch, n_free) */
    uint64_t *ids;     /* (batch) */
} train_work;

static void train_work_free(train_work *w)
{
    th_model_free(w->theta);
    th_model_free(w->grad);
    th__free(w->mJ);
    th__free(w->vJ);
    th__free(w->mb);
    th__free(w->vb);
    th__free(w->trainable);
    th__free(w->order);
    th__free(w->images);
    th__free(w->targets);
    th__free(w->ids);
}

/* Fisher-Yates with the epoch's own Philox stream. */
static void shuffle(size_t *order, size_t count, uint64_t seed, size_t epoch)
{
    th_rng r;
    th_rng_init(&r, seed, SHUFFLE_STREAM + epoch);
    for (size_t i = 0; i < count; i++) order[i] = i;
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = (size_t)(th_rng_uniform(&r) * (double)(i + 1));
        if (j > i) j = i;
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void copy_model_values(const th_model *from, th_model *to)
{
    const size_t n = from->n;
    for (size_t i = 0; i < n; i++) {
        th_ptr_set(to->b, to->dtype, i, th_ptr_get(from->b, from->dtype, i));
        th_ptr_set(to->J2, to->dtype, i, th_ptr_get(from->J2, from->dtype, i));
        th_ptr_set(to->J3, to->dtype, i, th_ptr_get(from->J3, from->dtype, i));
        th_ptr_set(to->J4, to->dtype, i, th_ptr_get(from->J4, from->dtype, i));
    }
    for (size_t i = 0; i < n * n; i++) th_ptr_set(to->J, to->dtype, i, th_ptr_get(from->J, from->dtype, i));
}

/* One Adam step on every trainable parameter; 0 when one stops being finite. */
static int adam_step(train_work *w, const th_student_train_opts *o, double lr, size_t t,
                     double scale, size_t n, size_t n_in)
{
    const double c1 = 1 - pow(o->beta1, (double)t), c2 = 1 - pow(o->beta2, (double)t);
    double *J = w->theta->J.f64, *b = w->theta->b.f64;
    const double *gJ = w->grad->J.f64, *gb = w->grad->b.f64;
    int ok = 1;
    for (size_t t_ = 0; t_ < w->n_trainable; t_++) {
        const size_t a = w->trainable[t_];
        const double g = gJ[a] * scale;
        w->mJ[a] = o->beta1 * w->mJ[a] + (1 - o->beta1) * g;
        w->vJ[a] = o->beta2 * w->vJ[a] + (1 - o->beta2) * g * g;
        J[a] -= lr * (w->mJ[a] / c1) / (sqrt(w->vJ[a] / c2) + o->epsilon);
        ok &= isfinite(J[a]);
    }
    for (size_t i = n_in; i < n; i++) {
        const double g = gb[i] * scale;
        w->mb[i] = o->beta1 * w->mb[i] + (1 - o->beta1) * g;
        w->vb[i] = o->beta2 * w->vb[i] + (1 - o->beta2) * g * g;
        b[i] -= lr * (w->mb[i] / c1) / (sqrt(w->vb[i] / c2) + o->epsilon);
        ok &= isfinite(b[i]);
    }
    return ok;
}

int th_student_train(th_model *m, const th_student_params *p, const float *images,
                     const float *targets, size_t count, const th_student_train_opts *o,
                     double *epoch_loss)
{
    TH_ASSERT(m != NULL && p != NULL && images != NULL && targets != NULL && o != NULL);
    int rc = th_student_params_validate(p);
    if (rc == TH_OK) rc = th_student_check_model(m, p);
    if (rc == TH_OK) rc = check_opts(o, count);
    if (rc != TH_OK) return rc;

    const size_t n = m->n, n_in = p->n_input, nf = th__student_free(p);
    const size_t B = o->batch < count ? o->batch : count;
    const size_t per_epoch = (count + B - 1) / B, total = per_epoch * o->epochs;
    train_work w;
    memset(&w, 0, sizeof w);
    w.theta = th_student_model_alloc(p, TH_F64);
    w.grad = th_student_model_alloc(p, TH_F64);
    w.mJ = th__calloc(n * n, sizeof(double));
    w.vJ = th__calloc(n * n, sizeof(double));
    w.mb = th__calloc(n, sizeof(double));
    w.vb = th__calloc(n, sizeof(double));
    w.trainable = th__alloc(n * n * sizeof(size_t));
    w.order = th__alloc(count * sizeof(size_t));
    w.images = th__alloc(B * n_in * sizeof(float));
    w.targets = th__alloc(B * nf * sizeof(float));
    w.ids = th__alloc(B * sizeof(uint64_t));
    if (!w.theta || !w.grad || !w.mJ || !w.vJ || !w.mb || !w.vb || !w.trainable || !w.order ||
        !w.images || !w.targets || !w.ids) {
        train_work_free(&w);
        return th__fail(TH_ENOMEM, "out of memory for training a student of %zu units", n);
    }
    copy_model_values(m, w.theta);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && th_model_groups_couple(m, i, j)) w.trainable[w.n_trainable++] = i * n + j;

    size_t u = 0;
    for (size_t e = 0; e < o->epochs && rc == TH_OK; e++) {
        shuffle(w.order, count, p->seed, e);
        double sum = 0;
        for (size_t first = 0; first < count && rc == TH_OK; first += B, u++) {
            const size_t nb = count - first < B ? count - first : B;
            for (size_t k = 0; k < nb; k++) {
                const size_t q = w.order[first + k];
                memcpy(w.images + k * n_in, images + q * n_in, n_in * sizeof(float));
                memcpy(w.targets + k * nf, targets + q * nf, nf * sizeof(float));
                w.ids[k] = (uint64_t)e * count + q;
            }
            /* only trainable entries ever receive gradient */
            for (size_t t_ = 0; t_ < w.n_trainable; t_++) w.grad->J.f64[w.trainable[t_]] = 0;
            memset(w.grad->b.v, 0, n * sizeof(double));
            double loss;
            rc = th_student_path_loss(w.theta, p, w.images, w.targets, w.ids, nb,
                                      TH_KERNEL_FAST, &loss, w.grad);
            if (rc != TH_OK) break;
            const double lr = o->cosine ? o->learning_rate * 0.5 *
                                              (1 + cos(3.14159265358979323846 * (double)u / (double)total))
                                        : o->learning_rate;
            if (!isfinite(loss) || !adam_step(&w, o, lr, u + 1, 1.0 / (double)nb, n, n_in)) {
                rc = th__fail(TH_EDIVERGED, "training diverged at update %zu (loss %g per "
                              "path): lower the learning rate (now %g)", u,
                              loss / (double)nb, o->learning_rate);
                break;
            }
            sum += loss;
            if (o->on_update && o->on_update(u + 1, total, loss / (double)nb, o->ctx)) {
                rc = th__fail(TH_ECANCELED, "training stopped after update %zu", u + 1);
                break;
            }
        }
        if (rc == TH_OK && epoch_loss) epoch_loss[e] = sum / (double)count;
    }
    /* The model takes the trained values also when stopped by the callback. */
    if (rc == TH_OK || rc == TH_ECANCELED) copy_model_values(w.theta, m);
    train_work_free(&w);
    return rc;
}

/* ------------------------------------------------------------ metadata */

#define FIELD(name, kind) {"student." #name, kind, offsetof(th_student_params, name), 0, NULL, 0}

/* One table for writing and reading (io/meta_fields.c). */
static const th__field fields[] = {
    FIELD(n_input, TH__FIELD_SIZE), FIELD(n_hidden, TH__FIELD_SIZE),
    FIELD(n_output, TH__FIELD_SIZE), FIELD(kT, TH__FIELD_DOUBLE),
    FIELD(J2, TH__FIELD_DOUBLE),     FIELD(J4, TH__FIELD_DOUBLE),
    FIELD(mu, TH__FIELD_DOUBLE),     FIELD(dt, TH__FIELD_DOUBLE),
    FIELD(t_f, TH__FIELD_DOUBLE),    FIELD(gain, TH__FIELD_DOUBLE),
    FIELD(seed, TH__FIELD_U64),
    /* files from before the setting have the paper's 1 (set before reading) */
    {"student.output_temperature", TH__FIELD_DOUBLE,
     offsetof(th_student_params, output_temperature), 1, NULL, 0},
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

int th_student_params_to_meta(const th_student_params *p, th_meta *meta)
{
    TH_ASSERT(p != NULL && meta != NULL);
    int rc = th_student_params_validate(p);
    return rc == TH_OK ? th__fields_to_meta(fields, N_FIELDS, p, meta) : rc;
}

int th_student_params_from_meta(const th_meta *meta, th_student_params *p)
{
    TH_ASSERT(meta != NULL && p != NULL);
    th_student_params q = th_student_params_default();
    q.output_temperature = 1.0; /* the value of files that do not record it */
    int rc = th__fields_from_meta(fields, N_FIELDS, meta, &q);
    if (rc != TH_OK) return rc;
    if (th_student_params_validate(&q) != TH_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        return th__fail(TH_EFORMAT, "student settings in the metadata: %s", why);
    }
    *p = q;
    return TH_OK;
}
