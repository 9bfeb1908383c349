/* classify_internal.h - what the student's files (student*.c) share. */
#ifndef THERMO_CLASSIFY_INTERNAL_H
#define THERMO_CLASSIFY_INTERNAL_H

#include "core/internal.h"

/* Free units: hidden then output. */
static inline size_t th__student_free(const th_student_params *p)
{
    return p->n_hidden + p->n_output;
}

/* Philox blocks one step of an idealised path draws: ceil(n_free / 4). */
static inline uint64_t th__student_blocks_per_step(const th_student_params *p)
{
    return (uint64_t)((th__student_free(p) + 3) / 4);
}

#endif
