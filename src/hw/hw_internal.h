/* hw_internal.h - what the files of the hardware model share. */
#ifndef THERMO_HW_INTERNAL_H
#define THERMO_HW_INTERNAL_H

#include "core/internal.h"
#include "thermo/hw.h"

/* The mismatch factor 1 + sd eps; at least TH_HW_MIN_FACTOR for a part
 * that must stay positive. */
double th__hw_factor(double sd, double eps, int positive);

#endif
