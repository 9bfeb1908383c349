/* export.c - from a file to a netlist: which computer the file holds, and
 * the protocol thermo itself runs it with.
 *
 * - generator (thermo train): every unit from 0, the uncoupled wells for t_f
 *   (the noise phase), then the trained couplings and biases for t_f (the
 *   computing phase), as th_gen_sample runs it; label units of a
 *   conditional generator are clamped at the one-hot code of one class; a
 *   time-dependent protocol of several segments is refused;
 * - neuron (thermo neuron train): the network from 0 for t_f with its
 *   input z clamped (th_neuron_as_model), one group of copies per input;
 * - SPU (a Matrix Market matrix, as thermo linalg reads it): the board
 *   programmed with the matrix. */
#include "circuit/circuit_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>


#define KIND_KEY "thermo.kind"

static const double DEFAULT_INPUT = 0.5;

void th__circuit_inputs(const th_circuit_opts *o, const double **z, size_t *n)
{
    if (o->inputs && o->n_inputs) {
        *z = o->inputs;
        *n = o->n_inputs;
    } else {
        *z = &DEFAULT_INPUT;
        *n = 1;
    }
}

static int is_matrix_market(const char *path, int *yes)
{
    FILE *f = fopen(path, "rb");
    if (!f) return th__fail(TH_EIO, "%s: cannot open: %s", path, strerror(errno));
    char head[15] = {0};
    size_t got = fread(head, 1, 14, f);
    fclose(f);
    *yes = got == 14 && memcmp(head, "%%MatrixMarket", 14) == 0;
    return TH_OK;
}

int th_circuit_kind_of(const char *path, th_circuit_kind *kind)
{
    TH_ASSERT(path && kind);
    int mtx = 0;
    int rc = is_matrix_market(path, &mtx);
    if (rc != TH_OK) return rc;
    if (mtx) {
        *kind = TH_CIRCUIT_SPU;
        return TH_OK;
    }
    th_tensor_file *f = NULL;
    if ((rc = th_safetensors_read(path, &f)) != TH_OK) return rc;
    const char *k = th_meta_get(&f->meta, KIND_KEY);
    if (k && (strcmp(k, "neuron") == 0 || strcmp(k, "neuron-network") == 0)) {
        *kind = TH_CIRCUIT_NEURON;
    } else if ((!k || strcmp(k, "generator") == 0) && th_meta_get(&f->meta, "gen.n_visible")) {
        *kind = TH_CIRCUIT_GENERATOR;
    } else if ((k && strcmp(k, TH_STUDENT_KIND) == 0) || th_student_meta_is(&f->meta)) {
        rc = th__fail(TH_EINVAL, "%s is a student classifier (thermo.kind 'student'): not "
                      "exported; thermo spice export takes a generator, a neuron network or an "
                      "SPU matrix (Matrix Market)", path);
    } else {
        rc = th__fail(TH_EINVAL, "%s: unknown kind '%.40s': expected a generator (gen.* "
                      "settings), a neuron network (thermo.kind 'neuron') or an SPU matrix "
                      "(Matrix Market)", path, k ? k : "(no thermo.kind, no gen.* settings)");
    }
    th_tensor_file_free(f);
    return rc;
}

void th__circuit_source_clear(th__circuit_source *src)
{
    if (!src) return;
    th_model_free(src->model);
    th_neuron_net_free(src->net);
    free(src->A);
    th_spu_free(src->spu);
    memset(src, 0, sizeof *src);
}

static int load_generator(th__circuit_source *src)
{
    th_meta meta = {0};
    int rc = th_model_load(src->path, &src->model, &meta);
    if (rc == TH_OK) rc = th_gen_params_from_meta(&meta, &src->gp);
    th_meta_clear(&meta);
    if (rc != TH_OK) return rc;
    /* A netlist of segment 0 alone would run another computer than the one
     * trained: refused until the switches are in the circuit (docs/spice.md). */
    if (src->gp.segments > 1)
        return th__fail(TH_EINVAL, "%s is a time-dependent protocol of %zu segments "
                        "(gen.segments): its couplings and biases switch between segments, and "
                        "thermo spice exports a generator of fixed couplings (one segment) "
                        "only; train it without --segments to export it", src->path,
                        src->gp.segments);
    if (src->model->n != th_gen_units(&src->gp))
        return th__fail(TH_EFORMAT, "%s: %zu units, its gen.* settings say %zu", src->path,
                        src->model->n, th_gen_units(&src->gp));
    return TH_OK;
}

static int load_spu(th__circuit_source *src, const th_circuit_opts *o)
{
    size_t r, c;
    int rc = th_mtx_read(src->path, &src->A, &r, &c);
    if (rc != TH_OK) return rc;
    if (r != c)
        return th__fail(TH_EINVAL, "%s is %zu x %zu: expected a square matrix", src->path, r, c);
    src->d = r;
    th_spu_params hw = o->spu;
    if (hw.model != TH_SPU_RLC)
        return th__fail(TH_EINVAL, "%s: the overdamped idealisation is not a circuit: the RLC "
                        "board only", src->path);
    src->spu = th_spu_alloc(&hw, src->A, NULL, r);
    if (!src->spu) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        /* thermo linalg's message offers its overdamped idealisation, which
         * has no circuit: not an option here. */
        char *alternative = strstr(why, "; or use the overdamped");
        if (alternative) *alternative = '\0';
        return th__fail(TH_EINVAL, "%s: the board cannot realise it: %s", src->path, why);
    }
    return TH_OK;
}

int th__circuit_source_load(const char *path, const th_circuit_opts *o, th__circuit_source *src)
{
    TH_ASSERT(path && o && src);
    memset(src, 0, sizeof *src);
    if (strlen(path) >= sizeof src->path)
        return th__fail(TH_EINVAL, "model path '%.60s...' is too long", path);
    strcpy(src->path, path);
    int rc = th_circuit_kind_of(path, &src->kind);
    if (rc != TH_OK) return rc;
    switch (src->kind) {
    case TH_CIRCUIT_GENERATOR:
        rc = load_generator(src);
        break;
    case TH_CIRCUIT_NEURON:
        rc = th_neuron_load(path, &src->net, &src->np, NULL);
        if (rc == TH_OK) rc = th_neuron_as_model(&src->np, src->net, &src->model);
        break;
    case TH_CIRCUIT_SPU:
        rc = load_spu(src, o);
        break;
    }
    if (rc != TH_OK) th__circuit_source_clear(src);
    return rc;
}

/* ------------------------------------------------------------- building */

static int build_generator(const th__circuit_source *src, const th_circuit_opts *o,
                           th_circuit **out)
{
    const th_gen_params *gp = &src->gp;
    const size_t n = src->model->n, C = gp->n_classes, first_label = gp->n_visible + gp->n_hidden;
    if (C && o->label >= C)
        return th__fail(TH_EINVAL, "label %zu: the generator has %zu label codes (0 .. %zu)",
                        o->label, C, C - 1);
    unsigned char *clamped = calloc(n, 1);
    double *values = calloc(o->copies * (C ? C : 1), sizeof *values);
    if (!clamped || !values) {
        free(clamped);
        free(values);
        return th__fail(TH_ENOMEM, "netlist: out of memory");
    }
    for (size_t c = 0; c < C; c++) clamped[first_label + c] = 1;
    for (size_t k = 0; k < o->copies && C; k++) values[k * C + o->label] = 1.0;
    char label[64] = "", name[400];
    if (C) snprintf(label, sizeof label, ", label units clamped at class %zu", o->label);
    snprintf(name, sizeof name, "%s (%zu visible + %zu hidden units%s)", src->path, gp->n_visible,
             gp->n_hidden, label);
    const double t = (double)th_gen_steps(gp) * gp->dt;
    int rc = th_circuit_from_model(src->model, C ? clamped : NULL, values, gp->dt, t, t, o,
                                   TH_CIRCUIT_GENERATOR, name, out);
    free(clamped);
    free(values);
    return rc;
}

static int build_neuron(const th__circuit_source *src, const th_circuit_opts *o,
                        th_circuit **out)
{
    const double *z;
    size_t nz;
    th__circuit_inputs(o, &z, &nz);
    if (nz > TH__CIRCUIT_MAX_INPUTS)
        return th__fail(TH_EINVAL, "%zu inputs: at most %d", nz, TH__CIRCUIT_MAX_INPUTS);
    for (size_t j = 0; j < nz; j++)
        if (!isfinite(z[j])) return th__fail(TH_EINVAL, "input %zu is not finite", j + 1);
    th_circuit_opts all = *o;
    all.copies = o->copies * nz;
    const size_t n = src->model->n;
    unsigned char *clamped = calloc(n, 1);
    double *values = calloc(all.copies, sizeof *values);
    if (!clamped || !values) {
        free(clamped);
        free(values);
        return th__fail(TH_ENOMEM, "netlist: out of memory");
    }
    clamped[0] = 1;
    for (size_t k = 0; k < all.copies; k++) values[k] = z[k / o->copies];
    char name[400];
    snprintf(name, sizeof name, "%s (%zu layers of %zu neurons; %zu input%s, %zu copies each)",
             src->path, src->np.n_layers, src->np.width, nz, nz > 1 ? "s" : "", o->copies);
    const double t = (double)th_neuron_steps(&src->np, src->np.t_f) * src->np.dt;
    int rc = th_circuit_from_model(src->model, clamped, values, src->np.dt, 0.0, t, &all,
                                   TH_CIRCUIT_NEURON, name, out);
    free(clamped);
    free(values);
    return rc;
}

int th_circuit_export(const char *model_path, const th_circuit_opts *o, th_circuit **out)
{
    TH_ASSERT(model_path && o && out);
    *out = NULL;
    th__circuit_source src;
    int rc = th__circuit_source_load(model_path, o, &src);
    if (rc != TH_OK) return rc;
    char name[300];
    switch (src.kind) {
    case TH_CIRCUIT_GENERATOR:
        rc = build_generator(&src, o, out);
        break;
    case TH_CIRCUIT_NEURON:
        rc = build_neuron(&src, o, out);
        break;
    case TH_CIRCUIT_SPU:
        snprintf(name, sizeof name, "board for the %zu x %zu matrix %s", src.d, src.d, model_path);
        rc = th_circuit_from_spu(src.spu, o, name, out);
        break;
    }
    th__circuit_source_clear(&src);
    return rc;
}
