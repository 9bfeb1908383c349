/* bench_common.h - what the benchmarks (bench/bench_*.c, each a program of
 * its own built from one file) share: the clock and the OpenBLAS core. */
#ifndef THERMO_BENCH_COMMON_H
#define THERMO_BENCH_COMMON_H

#include "thermo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Monotonic seconds. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* As the thermo tool does: when OpenBLAS fell back to generic kernels on
 * this CPU, restart with the core it should use (th_blas_core_hint), so
 * that the timings are those of the kernels a user gets. Returns only when
 * no restart is needed or it failed. */
static inline void bench_use_blas_core(char **argv)
{
    const char *hint = th_blas_core_hint();
    if (hint && !getenv("OPENBLAS_CORETYPE") && setenv("OPENBLAS_CORETYPE", hint, 1) == 0)
        execv("/proc/self/exe", argv);
}

/* The load average as /proc/loadavg gives it (its first three fields and
 * more), into buf; "(unknown)" where it cannot be read. Returns buf. */
static inline const char *bench_load_average(char *buf, size_t size)
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f || !fgets(buf, (int)size, f)) snprintf(buf, size, "(unknown)");
    if (f) fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return buf;
}

/* ------------------------------------------- the multiply-add peak */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <omp.h>

/* Twelve independent chains c = a c + b in registers, no memory: the most
 * multiply-adds per second the vector unit gives, against which a product's
 * rate is read. Each chain starts elsewhere, since equal chains would be
 * merged by the compiler, and each converges to b / (1 - a) = 1: no
 * overflow, no subnormals. Twelve chains cover the latency of two pipes
 * (4 cycles x 2). Returns a sum that the caller must use. */
#define BENCH_FMA_CHAINS(NAME, TARGET, VEC, SET1, FMADD, ADD, LANES)                       \
    __attribute__((target(TARGET))) static float NAME(long iters, float start)             \
    {                                                                                      \
        const VEC a = SET1(0.9999999f), b = SET1(1e-7f);                                   \
        VEC c[12];                                                                         \
        for (int i = 0; i < 12; i++) c[i] = SET1(start + (float)i);                        \
        for (long k = 0; k < iters; k++) {                                                 \
            _Pragma("GCC unroll 12") for (int i = 0; i < 12; i++) c[i] = FMADD(a, c[i], b); \
        }                                                                                  \
        VEC s = c[0];                                                                      \
        for (int i = 1; i < 12; i++) s = ADD(s, c[i]);                                     \
        float out[LANES];                                                                  \
        memcpy(out, &s, sizeof out);                                                       \
        return out[0];                                                                     \
    }
BENCH_FMA_CHAINS(bench_fma_chains_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps,
                 _mm512_add_ps, 16)
BENCH_FMA_CHAINS(bench_fma_chains_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps,
                 _mm256_add_ps, 8)
#undef BENCH_FMA_CHAINS

/* The float32 multiply-add peak of this CPU in FLOP/s, every OpenMP thread
 * running chains at once, with 512-bit vectors (avx512 != 0) or 256-bit
 * ones; 0 where the CPU lacks them. Best of 5 runs of about 0.1 s. */
static inline double bench_fma_peak(int avx512)
{
    __builtin_cpu_init();
    if (avx512 ? !__builtin_cpu_supports("avx512f")
               : !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return 0;
    const long iters = 20000000;
    const int lanes = avx512 ? 16 : 8;
    double best = 0, sink = 0;
    for (int round = 0; round < 5; round++) {
        int threads = 1;
        const double t0 = bench_now_s();
#pragma omp parallel reduction(+ : sink)
        {
#pragma omp single
            threads = omp_get_num_threads();
            const float start = (float)omp_get_thread_num();
            sink += (double)(avx512 ? bench_fma_chains_avx512(iters, start)
                                    : bench_fma_chains_avx2(iters, start));
        }
        const double t = bench_now_s() - t0;
        const double rate = (double)threads * (double)iters * 12.0 * lanes * 2.0 / t;
        if (rate > best) best = rate;
    }
    if (sink == 12345.678) printf(" "); /* keeps the chains */
    return best;
}
#else
static inline double bench_fma_peak(int avx512)
{
    (void)avx512;
    return 0;
}
#endif

#endif
