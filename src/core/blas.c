/* blas.c - which OpenBLAS kernels this CPU should run.
 *
 * OpenBLAS picks its kernels when it is loaded. Debian's 0.3.21 does not know
 * some newer CPUs (Sapphire Rapids among them) and falls back to its generic
 * "Prescott" SSE3 kernels, about four times slower at SGEMM. The choice can
 * only be overridden through the OPENBLAS_CORETYPE environment variable before
 * the library loads, so thermo's library reports the better core and programs
 * (the thermo tool, the benchmarks) set the variable and re-execute. */
#include "internal.h"

#include <cblas.h>
#include <string.h>

const char *th_blas_core_hint(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const char *core = openblas_get_corename();
    if (!core || strcmp(core, "Prescott") != 0) return NULL; /* recognised: leave it */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}
