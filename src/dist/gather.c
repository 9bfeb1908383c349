/* gather.c - every rank's share of an array, gathered onto every rank, for
 * both builds (with one process it is the identity). The values travel as
 * doubles through the sum, in which all ranks but the owner contribute 0. */
#include "thermo/dist.h"
#include "core/internal.h"

#include <string.h>

/* Gathers n_items x item_len values; get(i) / put(i, v) read and write
 * element i of the caller's array. */
static int gather(void *buf, size_t n_items, size_t item_len, int is_f32)
{
    if (th_dist_size() == 1) return TH_OK;
    size_t first = 0, mine = 0;
    th_dist_share(n_items, &first, &mine);
    const size_t n = n_items * item_len;
    double *tmp = th__calloc(n ? n : 1, sizeof(double));
    int rc = tmp ? TH_OK : th__fail(TH_ENOMEM, "out of memory to gather %zu values", n);
    if (th_dist_any_error(rc) != TH_OK) {
        th__free(tmp);
        return rc != TH_OK ? rc : th__fail(TH_ENOMEM, "another rank ran out of memory");
    }
    for (size_t i = first * item_len; i < (first + mine) * item_len; i++)
        tmp[i] = is_f32 ? (double)((float *)buf)[i] : ((double *)buf)[i];
    rc = th_dist_sum_f64(tmp, n);
    if (rc == TH_OK)
        for (size_t i = 0; i < n; i++) {
            if (is_f32)
                ((float *)buf)[i] = (float)tmp[i];
            else
                ((double *)buf)[i] = tmp[i];
        }
    th__free(tmp);
    return rc;
}

int th_dist_gather_f32(float *buf, size_t n_items, size_t item_len)
{
    return gather(buf, n_items, item_len, 1);
}

int th_dist_gather_f64(double *buf, size_t n_items, size_t item_len)
{
    return gather(buf, n_items, item_len, 0);
}
