/* cmd_version.c - thermo version: the library version and what it runs on,
 * the first things to put in a bug report or next to a benchmark. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            printf("usage: thermo version\n"
                   "\n"
                   "Prints the version of thermo, the micro-kernel of its own matrix products\n"
                   "(THERMO_GEMM=avx512|avx2|scalar chooses another; results do not change),\n"
                   "that of its bfloat16 products (THERMO_BF16=avx512bf16|portable; the same),\n"
                   "that of its Gaussian noise (THERMO_NOISE=avx512|avx2|portable; the same),\n"
                   "the BLAS library behind its LAPACK calls (OpenBLAS's build configuration),\n"
                   "the number of threads OpenMP and OpenBLAS would use, and how idle OpenMP\n"
                   "threads wait (OMP_WAIT_POLICY).\n");
            return TOOL_EXIT_OK;
        }
        fprintf(stderr, "thermo version: unexpected argument '%s'\n"
                        "Run 'thermo version --help' for its usage.\n", argv[1]);
        return TOOL_EXIT_USAGE;
    }
    printf("thermo %s\n", th_version());
    printf("matrix products: thermo's own, %s kernel\n", th_matmul_kernel());
    printf("bfloat16 products (--precision bf16): %s kernel\n", th_matmul_bf16_kernel());
    printf("Gaussian noise (Philox, Box-Muller): %s kernel\n", th_normal_kernel());
    printf("BLAS (LAPACK): %s\n", openblas_get_config());
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("OpenMP: %d threads at most, waiting %s; OpenBLAS: %d threads\n",
           omp_get_max_threads(), wait && *wait ? wait : "by the runtime's default (spinning)",
           openblas_get_num_threads());
    return TOOL_EXIT_OK;
}
