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

#endif
