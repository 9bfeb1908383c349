/* test_dist.c - the data-parallel layer in one process (src/dist): the
 * share arithmetic against a plain count of who takes which item, and the
 * collectives as identities on rank 0 of 1. These run in every build; in
 * the MPI build (make test-mpi) the process never calls th_dist_init and
 * must still be rank 0 of 1. Across real processes the layer is checked by
 * tests/mpi/test_dist.c under mpirun. */
#include "harness.h"

#include "thermo/dist.h"
#include "thermo.h"

#include <stdint.h>
#include <stdlib.h>

/* For every n up to 200 and every size up to 9: the shares of the ranks,
 * walked in rank order, tile [0, n) without gap or overlap; sizes differ by
 * at most one with the larger first; and the rank that owns item i, counted
 * here item by item, matches the share that contains it. */
static void test_dist_share_of_tiles(void)
{
    for (int size = 1; size <= 9; size++) {
        for (size_t n = 0; n <= 200; n++) {
            size_t next = 0, largest = 0, smallest = (size_t)-1, previous = (size_t)-1;
            int order_ok = 1;
            for (int r = 0; r < size; r++) {
                size_t first = 7, count = 7;
                th_dist_share_of(n, r, size, &first, &count);
                CHECK_EQ_INT(first, next);
                next = first + count;
                if (count > largest) largest = count;
                if (count < smallest) smallest = count;
                if (previous != (size_t)-1 && count > previous) order_ok = 0;
                previous = count;
                /* Deal items one at a time to ranks that still lack their
                 * quota: rank r owns items from sum of earlier quotas. */
                size_t owned = 0;
                for (size_t i = 0; i < n; i++) {
                    size_t quota_before = 0;
                    int owner = -1;
                    for (int q = 0; q < size; q++) {
                        size_t quota = n / (size_t)size + ((size_t)q < n % (size_t)size);
                        if (i < quota_before + quota) {
                            owner = q;
                            break;
                        }
                        quota_before += quota;
                    }
                    if (owner == r) {
                        owned++;
                        if (!(i >= first && i < first + count)) order_ok = 0;
                    }
                }
                CHECK_EQ_INT(owned, count);
            }
            CHECK_EQ_INT(next, n);
            CHECK(largest - smallest <= 1);
            CHECK(order_ok);
        }
    }
    /* Near the top of size_t the arithmetic must not overflow: the last of
     * 3 ranks ends exactly at n. */
    size_t n = (size_t)-1 - 5, first = 0, count = 0;
    th_dist_share_of(n, 2, 3, &first, &count);
    CHECK(first + count == n);
    CHECK(count == n / 3);
}

/* Without MPI, or before th_dist_init in the MPI build: rank 0 of 1, the
 * whole range, and every collective leaves the data as it was. */
static void test_dist_single_process(void)
{
    CHECK_EQ_INT(th_dist_rank(), 0);
    CHECK_EQ_INT(th_dist_size(), 1);
    size_t first = 9, count = 9;
    th_dist_share(1297, &first, &count);
    CHECK_EQ_INT(first, 0);
    CHECK_EQ_INT(count, 1297);
    th_dist_share(0, &first, &count);
    CHECK_EQ_INT(first, 0);
    CHECK_EQ_INT(count, 0);

    double x[3] = {1.5, -0.0, 1e300};
    CHECK_EQ_INT(th_dist_sum_f64(x, 3), TH_OK);
    CHECK_EQ_INT(th_dist_sum_f64_ordered(x, 3), TH_OK);
    CHECK_EQ_INT(th_dist_max_f64(x, 3), TH_OK);
    CHECK(x[0] == 1.5 && x[1] == 0.0 && signbit(x[1]) && x[2] == 1e300);
    uint64_t c[2] = {UINT64_MAX, 3};
    CHECK_EQ_INT(th_dist_sum_u64(c, 2), TH_OK);
    CHECK(c[0] == UINT64_MAX && c[1] == 3);
    unsigned char bytes[4] = {1, 2, 3, 4};
    CHECK_EQ_INT(th_dist_bcast(bytes, 4, 0), TH_OK);
    CHECK(bytes[0] == 1 && bytes[3] == 4);
    CHECK_EQ_INT(th_dist_bcast(bytes, 4, 1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "broadcast root = 1");
    CHECK_EQ_INT(th_dist_barrier(), TH_OK);

    /* One rank: its own status comes back, and its message is kept. */
    CHECK_EQ_INT(th_dist_any_error(TH_OK), TH_OK);
    CHECK_EQ_INT(th_dist_bcast(bytes, 4, -2), TH_EINVAL);
    CHECK_EQ_INT(th_dist_any_error(TH_EINVAL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "broadcast root = -2");
    CHECK_EQ_INT(th_dist_any_error(TH_EDIVERGED), TH_EDIVERGED);
}

void suite_dist(void)
{
    RUN_TEST(test_dist_share_of_tiles);
    RUN_TEST(test_dist_single_process);
}
