/* thermo.h - simulate and train thermodynamic computers.
 *
 * A thermodynamic computer is a set of N real-valued units x_i that fluctuate in
 * a heat bath at temperature kT under overdamped Langevin dynamics
 *
 *     dx_i/dt = -mu dV/dx_i + sqrt(2 mu kT) eta_i(t),
 *     V(x)    = sum_i (J2_i x_i^2 + J3_i x_i^3 + J4_i x_i^4 + b_i x_i)
 *               + sum_{i<j} J_ij x_i x_j,
 *
 * integrated by Euler-Maruyama (science.md section 1). Units are split into
 * groups (for example "visible" and "hidden"); a symmetric pattern says which
 * pairs of groups may couple, and the force on a batch of trajectories is one
 * matrix product per coupled block row.
 *
 * A worked example: 64 units in two groups, 128 trajectories, 1000 steps.
 *
 *     size_t sizes[2] = {32, 32};
 *     th_model *m = th_model_alloc(2, sizes, TH_F32);
 *     th_model_couple(m, 0, 1);                    // visible-hidden only
 *     m->kT = 0.1;
 *     th_model_set_coupling(m, 0, 40, 0.25);       // J_{0,40} = J_{40,0}
 *     th_batch *s = th_batch_alloc(m, 128, 42);    // seed 42, streams 0..127
 *     th_run r = th_run_default();
 *     r.n_steps = 1000;
 *     r.dt = 1e-3;
 *     int rc = th_langevin_run(m, s, &r);
 *     if (rc != TH_OK) fprintf(stderr, "%s\n", th_last_error());
 *     // th_batch_states(s).f32 is (128, 64); th_batch_heat(s)[k] is the heat of
 *     // trajectory k in kT
 *     th_batch_free(s);
 *     th_model_free(m);
 *
 * Conventions: public symbols th_, macros and enum values TH_; arrays are flat,
 * row-major, with their shape in a comment; anything sized by the problem has
 * _alloc/_free (free accepts NULL); a function that saves, loads, writes or
 * reads a file takes the path first, then the object. Recoverable failures return a negative TH_E*
 * code and leave a message for th_last_error(); broken contracts (NULL where an
 * object is required, an index out of range) stop the program through an assert
 * that stays on in release builds. The library never prints.
 */
#ifndef THERMO_H
#define THERMO_H

/* The API by module; each header can be included on its own. */
#include "thermo/core.h"     /* errors, random streams, the model, batches, runs */
#include "thermo/io.h"       /* files: folders, IDX, safetensors, PNG, Matrix Market */
#include "thermo/gen.h"      /* generative computers */
#include "thermo/energy.h"   /* energy ledgers */
#include "thermo/nn.h"       /* digital networks and image metrics */
#include "thermo/classify.h" /* thermodynamic classifiers and neurons */
#include "thermo/linalg.h"   /* thermodynamic linear algebra */
#include "thermo/circuit.h"  /* circuits: SPICE netlists and ngspice against thermo */
#include "thermo/dist.h"     /* data-parallel runs (MPI) */
#include "thermo/hw.h"       /* the hardware model: bits, mismatch, bath, readout */

#endif /* THERMO_H */
