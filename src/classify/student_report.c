/* student_report.c - what a test of a trained student amounts to: its
 * accuracy by the averaged and by a single trajectory, the heat it gives the
 * bath per classification, and the ratio of the teacher's digital forward
 * pass to that heat (the PNAS paper's comparison). */
#include "classify_internal.h"

#include <string.h>

int th_student_evaluate(const th_student *s, const th_student_params *p, const th_dataset *d,
                        const float *X, const th_student_eval_opts *o, double temperature_K,
                        double mac_energy_J, th_student_report *r)
{
    TH_ASSERT(s != NULL && p != NULL && d != NULL && o != NULL && r != NULL);
    memset(r, 0, sizeof *r);
    if (!d->labels)
        return th__fail(TH_EINVAL, "the test images have no labels: expected a labelled split");
    const size_t count = d->count, no = p->n_output;
    float *mean = malloc((count ? count : 1) * no * sizeof *mean);   /* (count, n_output) */
    float *single = malloc((count ? count : 1) * no * sizeof *single);
    double *heat = malloc((count ? count : 1) * sizeof *heat);       /* (count) */
    int rc = TH_OK;
    if (!mean || !single || !heat)
        rc = th__fail(TH_ENOMEM, "out of memory for %zu test images", count);
    if (rc == TH_OK) rc = th_student_classify(s->model, p, X, count, o, mean, single, heat);
    if (rc == TH_OK) rc = th_heat_stats_compute(heat, count, &r->heat);
    if (rc == TH_OK) {
        r->images = count;
        r->trajectories = o->trajectories;
        r->top1 = th_topk_accuracy(mean, count, no, d->labels, 1);
        r->top2 = th_topk_accuracy(mean, count, no, d->labels, 2);
        r->single_top1 = th_topk_accuracy(single, count, no, d->labels, 1);
        r->single_top2 = th_topk_accuracy(single, count, no, d->labels, 2);
        /* One classification runs all the image's trajectories. */
        r->heat_class_kT = r->heat.mean * (double)o->trajectories;
        r->kT_J = th_energy_kT_joules(temperature_K);
        r->heat_class_J = r->heat_class_kT * r->kT_J;
        if (th_energy_mlp_macs(s->widths, s->n_widths, 1, &r->teacher_macs) == TH_OK) {
            r->digital_J = (double)r->teacher_macs * mac_energy_J;
            r->ratio_defined = th_energy_ratio(r->digital_J, r->heat_class_J, &r->ratio) == TH_OK;
        }
    }
    free(mean);
    free(single);
    free(heat);
    return rc;
}
