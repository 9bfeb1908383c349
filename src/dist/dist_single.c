/* dist_single.c - the single-process data-parallel layer (no MPI): one
 * rank, and a sum over one process is the identity. */
#ifndef TH_MPI

#include "dist/dist.h"
#include "thermo.h"

int th_dist_rank(void) { return 0; }
int th_dist_size(void) { return 1; }

int th_dist_sum_f64(double *buf, size_t n)
{
    (void)buf;
    (void)n;
    return TH_OK;
}

void th_dist_share(size_t n, size_t *first, size_t *count)
{
    *first = 0;
    *count = n;
}

#endif
