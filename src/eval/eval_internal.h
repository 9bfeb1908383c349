/* eval_internal.h - what the files of src/eval share: the library's own
 * internals and the thread-independent matrix product of src/nn. */
#ifndef THERMO_EVAL_INTERNAL_H
#define THERMO_EVAL_INTERNAL_H

#include "nn/nn_internal.h"

#endif
