/* fuzz_mtx.c - libFuzzer harness for the Matrix Market reader: any bytes
 * must give TH_OK with a matrix of the announced size, or a clean TH_E*
 * status, never a crash, a leak or an allocation the size line alone asks
 * for beyond the reader's limit. A matrix that reads is written back and
 * must read back identical. */
#include "thermo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static char path[64], back[80];

static void remove_files(void)
{
    unlink(path);
    unlink(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/thermo-fuzz-mtx-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        snprintf(back, sizeof back, "%s.back", path);
        atexit(remove_files);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, size, f) != size || fclose(f) != 0) abort();
    double *A = NULL;
    size_t rows = 0, cols = 0;
    if (th_mtx_read(path, &A, &rows, &cols) == TH_OK) {
        /* Touch the last entry so ASan checks the allocation's length. */
        volatile double last = A[rows * cols - 1];
        (void)last;
        if (rows * cols <= 4096 && th_mtx_write(back, A, rows, cols, NULL) == TH_OK) {
            double *B = NULL;
            size_t r2, c2;
            if (th_mtx_read(back, &B, &r2, &c2) != TH_OK || r2 != rows || c2 != cols ||
                memcmp(A, B, rows * cols * sizeof *A) != 0)
                abort();
            free(B);
        }
        free(A);
    } else if (A != NULL) {
        abort();
    }
    return 0;
}
