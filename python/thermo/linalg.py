"""Thermodynamic linear algebra on a simulated stochastic processing unit
(include/thermo/linalg.h): sample, solve, inv, logdet and lyap, each the run
that thermo linalg makes (th_tla_sweep_run; tools/thermo/cmd_linalg.c), with
the same hardware options (model, bits, mismatch, copies) and the comparison
with LAPACK's direct answer.

Every function takes, besides its matrices (float64):
  model       "rlc" (the board of RLC cells; lyap: not available) or
              "overdamped" (the idealisation dx = -(A x - b) dt + sqrt(2) dW)
  time        averaging time per chain (s for rlc, 1/gamma for overdamped);
              0: 10000 tau, tau the slowest relaxation time
  points      runs at times time / 2^(points-1), ..., time, each independent
              (the error against time; the answer is the last point's)
  bits        coupling capacitances rounded to this many bits (0: exact)
  mismatch    relative sd of every component (0: exact parts)
  copies      independently mismatched copies whose answers are merged
  integrator  "exact" (Ornstein-Uhlenbeck transitions) or "euler"
  chains, batches, nodes (logdet's Gauss-Legendre nodes), seed
  progress    progress(done, total) after each point
and returns a Result.
"""
import ctypes

import numpy as np

from . import _lib as L
from . import _structs as S

lib = L.lib

ALGORITHMS = ("sample", "solve", "inv", "logdet", "lyap")
MODELS = ("rlc", "overdamped")
INTEGRATORS = ("exact", "euler")
MAPPINGS = ("direct", "scaled", "doubled")


class Result:
    """The answer of a thermodynamic algorithm and how good it is.

    estimate    the answer at the longest time: (d, d), (d,) for solve, a
                float for logdet
    std_error   its batch-means standard error, entry by entry (same shape)
    error       its error against reference: relative Frobenius (absolute,
                in nats, for logdet)
    estimated_error  the run's own estimate of that error
    reference   LAPACK's direct answer
    floor       the hardware floor: the error of the imprecise board's
                infinite-time answer (0 with exact parts; None: not computed)
    samples     sample only: (n_samples, d) samples of the last point
    times, errors, estimated_errors, walls   per point (arrays of points)
    tau, tau_fast, time, sim_time, lapack_wall, mapping, cells, alpha
    """

    def __repr__(self):
        return "thermo.linalg.Result(%s, d=%d, error %.3g, estimated %.3g)" % (
            self.algorithm, self.d, self.error, self.estimated_error)


def _matrix(A, name, d=None):
    A = L.array_in(A, name, np.float64, (None, None))
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError("%s: expected a square matrix, got shape %s" % (name, A.shape))
    if d is not None and A.shape[0] != d:
        raise ValueError("%s: expected shape (%d, %d) like A, got %s" % (name, d, d, A.shape))
    return A


def _run(alg, A, b=None, D=None, *, model="rlc", time=0.0, points=1, bits=0, mismatch=0.0,
         copies=1, integrator="exact", chains=4, batches=16, nodes=12, seed=1, n_samples=0,
         progress=None):
    d = A.shape[0]
    o = lib.th_tla_sweep_opts_default()
    o.hw.model = L.choice_arg(model, "model", list(MODELS))
    o.hw.bits = L.count_arg(bits, "bits", 0)
    o.hw.mismatch = L.real_arg(mismatch, "mismatch")
    if not 0 <= o.hw.mismatch <= 0.5:
        raise ValueError("mismatch: expected a relative sd in [0, 0.5], got %g" % mismatch)
    o.protocol.chains = L.count_arg(chains, "chains")
    o.protocol.batches = L.count_arg(batches, "batches", 2)
    o.protocol.integrator = L.choice_arg(integrator, "integrator", list(INTEGRATORS))
    o.protocol.lambda_nodes = L.count_arg(nodes, "nodes")
    o.time = L.real_arg(time, "time")
    o.points = L.count_arg(points, "points")
    o.copies = L.count_arg(copies, "copies")
    o.seed = L.count_arg(seed, "seed", 0)
    o.n_samples = n_samples
    pb = S.th_tla_problem(alg=ALGORITHMS.index(alg), d=d, A=L.ptr(A), b=L.ptr(b), D=L.ptr(D))
    p = L.Progress(progress)
    p.total_points = o.points
    o.on_point = p.point_fn
    sw = S.th_tla_sweep()
    try:
        with p:
            rc = lib.th_tla_sweep_run(ctypes.byref(pb), ctypes.byref(o), ctypes.byref(sw))
        p.check(rc)
        return _result(alg, sw, d)
    finally:
        lib.th_tla_sweep_free(ctypes.byref(sw))


def _result(alg, sw, d):
    """Copies what the sweep holds into a Result (the sweep is freed after)."""
    r = Result()
    r.algorithm, r.d = alg, d
    last = sw.last
    shape = {"solve": (d,), "logdet": ()}.get(alg, (last.rows, last.cols))

    def take(pointer, count, shape):
        a = np.ctypeslib.as_array(pointer, (count,)).copy().reshape(shape)
        return float(a) if shape == () else a
    r.estimate = take(last.estimate, last.rows * last.cols, shape)
    r.std_error = take(last.std_error, last.rows * last.cols, shape)
    r.reference = take(sw.reference, sw.ref_n, shape)
    k = sw.points
    r.times = np.array(sw.time_sim[:k])
    r.errors = np.array(sw.error[:k])
    r.estimated_errors = np.array(sw.estimate[:k])
    r.walls = np.array(sw.wall[:k])
    r.error = r.errors[-1]
    r.estimated_error = r.estimated_errors[-1]
    r.floor = sw.floor if sw.floor >= 0 else None
    r.samples = (np.ctypeslib.as_array(sw.samples, (sw.n_samples * d,)).copy()
                 .reshape(sw.n_samples, d) if sw.samples else None)
    r.tau, r.tau_fast, r.time = sw.tau, sw.tau_fast, sw.time
    r.sim_time, r.lapack_wall = last.sim_time, sw.lapack_wall
    r.model = MODELS[sw.model]
    r.mapping, r.cells, r.alpha = MAPPINGS[sw.mapping], sw.cells, sw.alpha
    return r


def sample(cov, mean=None, n_samples=1000, **options):
    """Samples of N(mean, cov) (mean default 0): the SPU is programmed with
    the precision cov^-1; estimate is the sample covariance, .samples
    (n_samples, d)."""
    cov = _matrix(cov, "cov")
    m = None if mean is None else L.array_in(mean, "mean", np.float64, (cov.shape[0],))
    return _run("sample", cov, m, n_samples=L.count_arg(n_samples, "n_samples", 0), **options)


def solve(A, b, **options):
    """x with A x = b (A symmetric positive definite): estimate (d,)."""
    A = _matrix(A, "A")
    b = L.array_in(b, "b", np.float64, (A.shape[0],))
    return _run("solve", A, b, **options)


def inv(A, **options):
    """A^-1 (A symmetric positive definite): estimate (d, d)."""
    return _run("inv", _matrix(A, "A"), **options)


def logdet(A, **options):
    """ln det A by thermodynamic integration from a0 I to A: estimate a
    float (error absolute, in nats)."""
    return _run("logdet", _matrix(A, "A"), **options)


def lyap(A, D=None, **options):
    """S with A S + S A^T = D (A's eigenvalues with positive real parts, D
    symmetric positive definite, default the identity); runs on the
    overdamped idealisation only (model defaults to it)."""
    A = _matrix(A, "A")
    D = None if D is None else _matrix(D, "D", A.shape[0])
    options.setdefault("model", "overdamped")
    return _run("lyap", A, None, D, **options)
