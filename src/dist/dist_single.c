/* dist_single.c - the single-process data-parallel layer (no MPI): one
 * rank, and a sum, maximum or broadcast over one process is the identity.
 * dist_mpi.c replaces this file when TH_MPI is defined. */
#ifndef TH_MPI

#include "thermo/dist.h"
#include "core/internal.h"

int th_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return TH_OK;
}

void th_dist_finalize(void) {}

int th_dist_rank(void) { return 0; }
int th_dist_size(void) { return 1; }

int th_dist_sum_f64(double *buf, size_t n)
{
    (void)buf;
    (void)n;
    return TH_OK;
}

int th_dist_sum_f64_ordered(double *buf, size_t n)
{
    (void)buf;
    (void)n;
    return TH_OK;
}

int th_dist_sum_u64(uint64_t *buf, size_t n)
{
    (void)buf;
    (void)n;
    return TH_OK;
}

int th_dist_max_f64(double *buf, size_t n)
{
    (void)buf;
    (void)n;
    return TH_OK;
}

int th_dist_bcast(void *buf, size_t bytes, int root)
{
    (void)buf;
    (void)bytes;
    if (root != 0)
        return th__fail(TH_EINVAL, "broadcast root = %d: expected a rank in [0, 1)", root);
    return TH_OK;
}

int th_dist_barrier(void) { return TH_OK; }

/* One rank: its own status is everyone's, and its message stays. */
int th_dist_any_error(int status) { return status; }

void th_dist_share(size_t n, size_t *first, size_t *count)
{
    th_dist_share_of(n, 0, 1, first, count);
}

#endif
