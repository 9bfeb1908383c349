/* thermo/dist.h - the data-parallel layer: which process this is among how many,
 * and sums across processes. Built on MPI with `make MPI=1` (TH_MPI defined);
 * otherwise one process and every call is the identity, so that the
 * computers call it unconditionally and never test for MPI themselves.
 *
 * Every function below except th_dist_rank, th_dist_size, th_dist_share and
 * th_dist_share_of is collective: all processes call it, in the same order,
 * with the same n (and root). A rank that fails between two collectives must
 * still reach the next one; th_dist_any_error is that meeting point, so that
 * one rank's failure stops every rank with its message instead of leaving the
 * others waiting forever in a sum.
 *
 * Only the calling (main) thread talks to MPI: OpenMP threads compute, the
 * main thread reduces between parallel regions (MPI_THREAD_FUNNELED). */
#ifndef THERMO_DIST_H
#define THERMO_DIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts the layer: under MPI, MPI_Init_thread with MPI_THREAD_FUNNELED (or
 * adopts MPI when the program initialised it already) and a private
 * communicator, so that the library's messages never meet the program's own.
 * argc/argv may be NULL. Call before any other th_dist_* function; until it
 * is called (and in the single-process build) the process is rank 0 of 1.
 * Returns TH_OK, or TH_EIO with a message. */
int th_dist_init(int *argc, char ***argv);

/* Ends the layer: frees the communicator and, if th_dist_init started MPI,
 * MPI_Finalize. Safe to call when th_dist_init was not, and twice. */
void th_dist_finalize(void);

/* This process's rank in [0, th_dist_size()) and the number of processes. */
int th_dist_rank(void);
int th_dist_size(void);

/* Replaces buf on every process by the element-wise sum over processes.
 * Returns TH_OK, or TH_EIO with a message when the reduction failed.
 * MPI_Allreduce: the fastest sum, but MPI leaves its grouping of the terms
 * to the implementation (it may change with the message size, the number of
 * ranks and the network). With 2 ranks every grouping is fl(b0 + b1), since
 * IEEE addition is commutative, so the result is bit-for-bit fixed. */
int th_dist_sum_f64(double *buf, size_t n);

/* The same sum in one fixed grouping: ((b0 + b1) + b2) + ... in rank order,
 * the same bits on every process and in every run with the same number of
 * ranks, whatever MPI does. A single process reproduces it bit for bit by
 * summing the partials of the shares th_dist_share_of(n, r, K, ...) for
 * r = 0, 1, ... in that order. Costs a pipelined pass along the ranks and a
 * broadcast: about twice the time of th_dist_sum_f64 for large n, plus
 * (size - 1) latencies. */
int th_dist_sum_f64_ordered(double *buf, size_t n);

/* Element-wise exact sum of counters, and element-wise maximum (for error
 * estimates and flags; the maximum is exact, so order does not matter). */
int th_dist_sum_u64(uint64_t *buf, size_t n);
int th_dist_max_f64(double *buf, size_t n);

/* Copies bytes of buf on rank root to buf on every other rank (a model that
 * rank 0 loaded, for example: broadcast its size first, then allocate, then
 * broadcast the bytes). Returns TH_OK, or TH_EINVAL/TH_EIO with a message. */
int th_dist_bcast(void *buf, size_t bytes, int root);

/* Waits until every process has arrived (rank 0 wrote a file the others are
 * about to read, for example). */
int th_dist_barrier(void);

/* The meeting point after a step that may fail on some ranks only: every
 * rank passes its own status and gets TH_OK when all ranks succeeded, or else
 * the status of the lowest failing rank. On the other ranks th_last_error()
 * then reads "rank R of K: <that rank's message>"; the failing rank keeps its
 * own message. */
int th_dist_any_error(int status);

/* The share [*first, *first + *count) of n items that this rank handles:
 * contiguous blocks, the first n % size ranks taking one more. */
void th_dist_share(size_t n, size_t *first, size_t *count);

/* The share of rank `rank` among `size` ranks, the same arithmetic as
 * th_dist_share without asking MPI: for a single process that reproduces a
 * K-rank run's grouping, and for checking coverage. size >= 1, rank < size. */
static inline void th_dist_share_of(size_t n, int rank, int size, size_t *first,
                                    size_t *count)
{
    size_t k = (size_t)size, r = (size_t)rank;
    size_t base = n / k, extra = n % k;
    *count = base + (r < extra ? 1 : 0);
    *first = r * base + (r < extra ? r : extra);
}

/* Each rank holds its share (th_dist_share(n_items)) of n_items items of
 * item_len values in buf, in place; afterwards every rank holds all of them.
 * Built on the sum (the other ranks contribute zeros, and x + 0 = x
 * exactly), so the gathered values are bit-identical to the shares. */
int th_dist_gather_f32(float *buf, size_t n_items, size_t item_len);
int th_dist_gather_f64(double *buf, size_t n_items, size_t item_len);

#ifdef __cplusplus
}
#endif
#endif /* THERMO_DIST_H */
