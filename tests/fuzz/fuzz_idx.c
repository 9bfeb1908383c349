/* fuzz_idx.c - libFuzzer harness for the IDX reader: any bytes, raw or
 * gzip, must give TH_OK or a clean TH_E* status, never a crash, a leak or an
 * allocation the header alone asks for.
 *
 * The readers take paths, so each input is written to one temporary file
 * and read back as an IDX file, as images, and as images with labels (the
 * same file, which exercises the count and dimension checks). */
#include "thermo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static char path[64];

static void remove_file(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/thermo-fuzz-idx-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, size, f) != size || fclose(f) != 0) abort();

    size_t dims[4], n_dims;
    uint8_t *data = NULL;
    if (th_idx_read_u8(path, dims, &n_dims, &data) == TH_OK) {
        /* The product of the sizes is the length of the data: touch its last
         * byte so that ASan checks the allocation really is that long. */
        size_t total = 1;
        for (size_t k = 0; k < n_dims; k++) total *= dims[k];
        volatile uint8_t last = data[total - 1];
        (void)last;
        free(data);
    } else if (data) {
        abort(); /* a failure must not hand out data */
    }

    th_dataset *d = NULL;
    if (th_dataset_load(path, NULL, &d) == TH_OK) {
        float *z = malloc(d->rows * d->cols * sizeof *z);
        if (!z) abort();
        th_dataset_standardize(d, d->count - 1, z);
        free(z);
        th_dataset_free(d);
    }
    if (th_dataset_load(path, path, &d) == TH_OK) th_dataset_free(d);
    return 0;
}
