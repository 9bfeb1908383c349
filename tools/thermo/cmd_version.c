/* cmd_version.c - thermo version: the library version and what it runs on,
 * the first things to put in a bug report or next to a benchmark. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

int cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            printf("usage: thermo version\n"
                   "\n"
                   "Prints the version of thermo, the BLAS library it calls (OpenBLAS's build\n"
                   "configuration) and the number of threads OpenMP and OpenBLAS would use.\n");
            return TOOL_EXIT_OK;
        }
        fprintf(stderr, "thermo version: unexpected argument '%s'\n"
                        "Run 'thermo version --help' for its usage.\n", argv[1]);
        return TOOL_EXIT_USAGE;
    }
    printf("thermo %s\n", th_version());
    printf("BLAS: %s\n", openblas_get_config());
    printf("OpenMP: %d threads at most; OpenBLAS: %d threads\n", omp_get_max_threads(),
           openblas_get_num_threads());
    return TOOL_EXIT_OK;
}
