/* energetics.c - the potential energy, in double with plain loops, as the
 * independent yardstick for the heat and work the integrator accumulates. */
#include "internal.h"

/* V(x, t) = sum_i (J2_i x_i^2 + J3_i x_i^3 + J4_i x_i^4 + b_i x_i)
 *         + sum_{i<j} J_ij x_i x_j + a(t) sum_i h_i x_i   (science.md sections 1, 4).
 * The cubic term is summed only when the model has one, so that V of an even
 * well keeps the bits it always had. */
void th_model_potential(const th_model *m, const th_drive *drive, double t, th_ptr x, size_t b,
                  double *out)
{
    TH_ASSERT(m != NULL && x.v != NULL && out != NULL);
    const size_t n = m->n;
    const th_dtype dt = m->dtype;
    const double a = drive ? drive->amplitude(t, drive->ctx) : 0.0;
    const int cubic = th_model_has_cubic(m);
    for (size_t k = 0; k < b; k++) {
        double v = 0;
        for (size_t i = 0; i < n; i++) {
            const double xi = th_ptr_get(x, dt, k * n + i);
            double coupling = 0;
            for (size_t j = i + 1; j < n; j++)
                coupling += th_ptr_get(m->J, dt, i * n + j) * th_ptr_get(x, dt, k * n + j);
            v += th_ptr_get(m->J2, dt, i) * xi * xi + th_ptr_get(m->J4, dt, i) * xi * xi * xi * xi +
                 th_ptr_get(m->b, dt, i) * xi + coupling * xi;
            if (cubic) v += th_ptr_get(m->J3, dt, i) * xi * xi * xi;
            if (drive) {
                size_t fi = drive->per_trajectory ? k * n + i : i;
                v += a * th_ptr_get(drive->field, dt, fi) * xi;
            }
        }
        out[k] = v;
    }
}
