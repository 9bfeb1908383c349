/* dist_mpi.c - the data-parallel layer on MPI (built with `make MPI=1`,
 * which defines TH_MPI; dist_single.c serves every other build).
 *
 * The library talks on a private duplicate of MPI_COMM_WORLD with
 * MPI_ERRORS_RETURN, so that a failed call comes back as TH_EIO with MPI's
 * own words instead of aborting inside the library. Counts are split into
 * pieces that fit MPI's int counts, so n may exceed 2^31. */
#ifdef TH_MPI

#include "thermo/dist.h"
#include "core/internal.h"

#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <string.h>

/* The communicator th_dist_init made; MPI_COMM_NULL before it, after
 * th_dist_finalize, and then the process counts as rank 0 of 1. */
static MPI_Comm dist_comm = MPI_COMM_NULL;
static int dist_started_mpi; /* th_dist_init called MPI_Init_thread */
static int dist_rank_cached = 0, dist_size_cached = 1;
static MPI_Op dist_op_max_nan = MPI_OP_NULL;

/* Largest piece handed to one MPI call: within int counts, and (for the
 * ordered sum) small enough that the pass along the ranks pipelines. */
#define DIST_MAX_COUNT ((size_t)1 << 30)
#define DIST_PIPELINE_DOUBLES ((size_t)1 << 16) /* 512 KiB */

static int mpi_fail(int mpi_rc, const char *what, size_t n)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS) {
        len = 0;
    }
    text[len < MPI_MAX_ERROR_STRING ? len : MPI_MAX_ERROR_STRING - 1] = '\0';
    return th__fail(TH_EIO, "%s (%zu items, rank %d of %d) failed: %s", what, n,
                    dist_rank_cached, dist_size_cached, len ? text : "unknown MPI error");
}

static int dist_active(void) { return dist_comm != MPI_COMM_NULL && dist_size_cached > 1; }

/* Maximum that keeps a NaN: MPI_MAX on doubles leaves NaN to the
 * implementation, and a NaN in an error estimate must not vanish. */
static void max_keep_nan(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const double *a = in;
    double *b = inout;
    for (int i = 0; i < *len; i++)
        if (isnan(a[i]) || a[i] > b[i]) b[i] = a[i];
}

int th_dist_init(int *argc, char ***argv)
{
    if (dist_comm != MPI_COMM_NULL) return TH_OK;
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (finalized)
        return th__fail(TH_EIO, "th_dist_init: MPI was already finalized; "
                                "expected th_dist_init before MPI_Finalize");
    if (!initialized) {
        /* FUNNELED: OpenMP threads compute, only the main thread calls MPI.
         * An MPI that provides less still works that way in practice, so a
         * lower 'provided' is accepted rather than refused. */
        int provided = 0;
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Init_thread", 0);
        dist_started_mpi = 1;
    }
    MPI_Comm comm;
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_dup", 0);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    rc = MPI_Op_create(max_keep_nan, 1, &dist_op_max_nan);
    if (rc != MPI_SUCCESS) {
        MPI_Comm_free(&comm);
        return mpi_fail(rc, "MPI_Op_create", 0);
    }
    dist_comm = comm;
    dist_rank_cached = rank;
    dist_size_cached = size;
    return TH_OK;
}

void th_dist_finalize(void)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (dist_comm != MPI_COMM_NULL && !finalized) {
        MPI_Op_free(&dist_op_max_nan);
        MPI_Comm_free(&dist_comm);
    }
    dist_comm = MPI_COMM_NULL;
    dist_op_max_nan = MPI_OP_NULL;
    dist_rank_cached = 0;
    dist_size_cached = 1;
    if (dist_started_mpi && !finalized) MPI_Finalize();
    dist_started_mpi = 0;
}

int th_dist_rank(void) { return dist_rank_cached; }
int th_dist_size(void) { return dist_size_cached; }

/* In-place all-reduce of n items of `type`, item_bytes each, in pieces. */
static int allreduce_pieces(void *buf, size_t n, size_t item_bytes, MPI_Datatype type,
                            MPI_Op op, const char *what)
{
    if (!dist_active()) return TH_OK;
    char *bytes = buf;
    for (size_t done = 0; done < n; done += DIST_MAX_COUNT) {
        size_t piece = n - done < DIST_MAX_COUNT ? n - done : DIST_MAX_COUNT;
        int rc = MPI_Allreduce(MPI_IN_PLACE, bytes + done * item_bytes, (int)piece, type, op,
                               dist_comm);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, what, n);
    }
    return TH_OK;
}

int th_dist_sum_f64(double *buf, size_t n)
{
    return allreduce_pieces(buf, n, sizeof *buf, MPI_DOUBLE, MPI_SUM, "MPI_Allreduce(sum)");
}

int th_dist_sum_u64(uint64_t *buf, size_t n)
{
    return allreduce_pieces(buf, n, sizeof *buf, MPI_UINT64_T, MPI_SUM,
                            "MPI_Allreduce(sum of counters)");
}

int th_dist_max_f64(double *buf, size_t n)
{
    return allreduce_pieces(buf, n, sizeof *buf, MPI_DOUBLE, dist_op_max_nan,
                            "MPI_Allreduce(max)");
}

int th_dist_bcast(void *buf, size_t bytes, int root)
{
    if (root < 0 || root >= dist_size_cached)
        return th__fail(TH_EINVAL, "broadcast root = %d: expected a rank in [0, %d)", root,
                        dist_size_cached);
    if (!dist_active()) return TH_OK;
    char *p = buf;
    for (size_t done = 0; done < bytes; done += DIST_MAX_COUNT) {
        size_t piece = bytes - done < DIST_MAX_COUNT ? bytes - done : DIST_MAX_COUNT;
        int rc = MPI_Bcast(p + done, (int)piece, MPI_BYTE, root, dist_comm);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Bcast", bytes);
    }
    return TH_OK;
}

int th_dist_barrier(void)
{
    if (!dist_active()) return TH_OK;
    int rc = MPI_Barrier(dist_comm);
    return rc == MPI_SUCCESS ? TH_OK : mpi_fail(rc, "MPI_Barrier", 0);
}

/* ((b0 + b1) + b2) + ...: the running sum travels from rank 0 up to the last
 * rank, each adding its own term, in pieces so that rank r works on piece
 * j + 1 while rank r + 1 adds piece j; the last rank then broadcasts the
 * total, which copies bits and so leaves every rank with the same sum. */
int th_dist_sum_f64_ordered(double *buf, size_t n)
{
    if (!dist_active()) return TH_OK;
    const int rank = dist_rank_cached, last = dist_size_cached - 1;
    double *incoming = NULL;
    if (rank > 0) {
        size_t len = n < DIST_PIPELINE_DOUBLES ? n : DIST_PIPELINE_DOUBLES;
        incoming = th__alloc((len ? len : 1) * sizeof *incoming);
        if (!incoming)
            return th__fail(TH_ENOMEM, "ordered sum: no memory for a %zu-double piece", len);
    }
    int status = TH_OK;
    for (size_t done = 0; done < n && status == TH_OK; done += DIST_PIPELINE_DOUBLES) {
        size_t piece = n - done < DIST_PIPELINE_DOUBLES ? n - done : DIST_PIPELINE_DOUBLES;
        double *mine = buf + done;
        if (rank > 0) {
            int rc = MPI_Recv(incoming, (int)piece, MPI_DOUBLE, rank - 1, 0, dist_comm,
                              MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) {
                status = mpi_fail(rc, "ordered sum: MPI_Recv", n);
                break;
            }
            /* incoming holds b0 + ... + b(rank-1) summed left to right; add
             * this rank's term last (a + b == b + a exactly in IEEE). */
            for (size_t i = 0; i < piece; i++) mine[i] = incoming[i] + mine[i];
        }
        if (rank < last) {
            int rc = MPI_Send(mine, (int)piece, MPI_DOUBLE, rank + 1, 0, dist_comm);
            if (rc != MPI_SUCCESS) status = mpi_fail(rc, "ordered sum: MPI_Send", n);
        }
    }
    th__free(incoming);
    if (status != TH_OK) return status;
    return th_dist_bcast(buf, n * sizeof *buf, last);
}

int th_dist_any_error(int status)
{
    if (!dist_active()) return status;
    /* MINLOC over (failing ? rank : size, status) finds the lowest failing
     * rank and carries its status along in the same reduction. */
    struct {
        int key;
        int status;
    } mine = {status != TH_OK ? dist_rank_cached : dist_size_cached, status}, lowest;
    int rc = MPI_Allreduce(&mine, &lowest, 1, MPI_2INT, MPI_MINLOC, dist_comm);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Allreduce(error status)", 1);
    if (lowest.key == dist_size_cached) return TH_OK;
    const int failed_rank = lowest.key;
    /* The failing rank's message, for the rank that reports (rank 0). */
    char message[512];
    memset(message, 0, sizeof message);
    if (dist_rank_cached == failed_rank) {
        strncpy(message, th_last_error(), sizeof message - 1);
    }
    rc = MPI_Bcast(message, (int)sizeof message, MPI_CHAR, failed_rank, dist_comm);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Bcast(error message)", sizeof message);
    message[sizeof message - 1] = '\0';
    if (status != TH_OK) return status; /* a failing rank keeps its own message */
    return th__fail(lowest.status, "rank %d of %d: %s", failed_rank, dist_size_cached,
                    message[0] ? message : th_strerror(lowest.status));
}

void th_dist_share(size_t n, size_t *first, size_t *count)
{
    th_dist_share_of(n, dist_rank_cached, dist_size_cached, first, count);
}

#endif
