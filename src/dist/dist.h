/* dist.h - the data-parallel layer: which process this is among how many,
 * and sums across processes. Built on MPI with `make MPI=1` (TH_MPI defined);
 * otherwise one process and every call is the identity, so that the
 * computers call it unconditionally and never test for MPI themselves. */
#ifndef THERMO_DIST_H
#define THERMO_DIST_H

#include <stddef.h>

/* This process's rank in [0, th_dist_size()) and the number of processes. */
int th_dist_rank(void);
int th_dist_size(void);

/* Replaces buf on every process by the element-wise sum over processes.
 * Returns TH_OK, or TH_EIO with a message when the reduction failed. */
int th_dist_sum_f64(double *buf, size_t n);

/* The share [*first, *first + *count) of n items that this rank handles:
 * contiguous blocks, the first n % size ranks taking one more. */
void th_dist_share(size_t n, size_t *first, size_t *count);

#endif
