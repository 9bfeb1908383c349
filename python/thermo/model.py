"""Models (th_model) and batches of Langevin trajectories (th_batch).

A Model's parameters are numpy arrays over the model's own memory (no copy):
writing model.J2[:] = 2 changes the model the library simulates. A Batch's
states, heat and work are views of the batch in the same way.
"""
import ctypes

import numpy as np

from . import _lib as L
from . import _structs as S

lib = L.lib

DTYPES = ("f32", "f64")
KERNELS = ("fast", "reference")
_NP = {0: np.float32, 1: np.float64}


def _dtype_index(dtype):
    """"f32"/"f64" or numpy's float32/float64 as th_dtype."""
    if isinstance(dtype, str):
        return L.choice_arg(dtype, "dtype", list(DTYPES))
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError("dtype: expected 'f32' or 'f64', got %r" % (dtype,)) from None
    if d == np.float32:
        return 0
    if d == np.float64:
        return 1
    raise TypeError("dtype: expected 'f32' or 'f64', got %s" % d)


class Model:
    """A thermodynamic computer: N units in groups, on-site wells
    J2 x^2 + J3 x^3 + J4 x^4 + b x, and couplings J between the groups that
    couple (include/thermo/core.h).

    Model([32, 32], couples=[(0, 1)]) makes 64 units in two groups whose
    cross pairs may couple (th_model_alloc, th_model_couple); J2 = J4 = 1,
    J3 = b = 0, J = 0, kT = mu = 1 to start. Model.load reads a model file.
    """

    def __init__(self, groups, couples=(), dtype="f32", kT=1.0, mu=1.0):
        if isinstance(groups, (int, np.integer)):
            groups = [groups]
        try:
            sizes = [L.count_arg(g, "groups") for g in groups]
        except TypeError:
            raise TypeError("groups: expected a list of group sizes, got %r" % (groups,)) from None
        if not 1 <= len(sizes) <= S.MAX_GROUPS:
            raise ValueError("groups: expected 1 to %d groups, got %d" % (S.MAX_GROUPS, len(sizes)))
        arr = (ctypes.c_size_t * len(sizes))(*sizes)
        ptr = L.check_ptr(lib.th_model_alloc(len(sizes), arr, _dtype_index(dtype)))
        self._adopt(ptr, owner=None)
        for pair in couples:
            try:
                g, h = pair
            except (TypeError, ValueError):
                raise TypeError("couples: expected pairs of group indices, got %r" % (pair,)) \
                    from None
            L.check(lib.th_model_couple(self._ptr, L.count_arg(g, "couples", 0),
                                        L.count_arg(h, "couples", 0)))
        self.kT = kT
        self.mu = mu

    # A Model either owns its th_model (frees it) or looks into one that
    # another object owns (a student's), which it keeps alive.
    def _adopt(self, ptr, owner):
        self._ptr = ptr
        self._owner = owner
        m = ptr.contents
        self._np = _NP[m.dtype]

    @classmethod
    def _wrap(cls, ptr, owner=None):
        self = cls.__new__(cls)
        self._adopt(ptr, owner)
        return self

    def __del__(self):
        ptr = getattr(self, "_ptr", None)
        if ptr and getattr(self, "_owner", None) is None:
            lib.th_model_free(ptr)
            self._ptr = None

    # ---------------------------------------------------------- files

    @classmethod
    def load(cls, path):
        """(model, metadata) from a model file (th_model_load): metadata is
        the file's dict of str."""
        out = ctypes.POINTER(S.th_model)()
        with L.c_meta() as meta:
            L.check(lib.th_model_load(L.path_arg(path, "path"), ctypes.byref(out),
                                      ctypes.byref(meta)))
            return cls._wrap(out), L.meta_to_dict(meta)

    def save(self, path, meta=None):
        """Writes the model file atomically (th_model_save), with the extra
        metadata entries meta (str -> str)."""
        with L.c_meta(meta) as m:
            L.check(lib.th_model_save(L.path_arg(path, "path"), self._ptr, ctypes.byref(m)))

    # ----------------------------------------------------- parameters

    @property
    def _m(self):
        return self._ptr.contents

    @property
    def n(self):
        """Number of units."""
        return self._m.n

    @property
    def dtype(self):
        return np.dtype(self._np)

    @property
    def groups(self):
        """The group sizes."""
        m = self._m
        return [m.group_start[g + 1] - m.group_start[g] for g in range(m.n_groups)]

    @property
    def couples(self):
        """The pairs of groups (g <= h) whose units may couple."""
        m = self._m
        return [(g, h) for g in range(m.n_groups) for h in range(g, m.n_groups)
                if m.couples[g][h]]

    def _view(self, name, shape):
        return L.view(getattr(self._m, name), shape, self._np, self)

    J2 = property(lambda self: self._view("J2", (self.n,)), doc="(n) quadratic coefficients")
    J3 = property(lambda self: self._view("J3", (self.n,)), doc="(n) cubic coefficients")
    J4 = property(lambda self: self._view("J4", (self.n,)), doc="(n) quartic coefficients")
    b = property(lambda self: self._view("b", (self.n,)), doc="(n) biases")
    J = property(lambda self: self._view("J", (self.n, self.n)),
                 doc="(n, n) couplings: symmetric, zero diagonal, zero between groups that "
                     "do not couple (set_coupling keeps that; validate checks it)")

    @property
    def kT(self):
        return self._m.kT

    @kT.setter
    def kT(self, value):
        self._m.kT = L.real_arg(value, "kT")

    @property
    def mu(self):
        return self._m.mu

    @mu.setter
    def mu(self, value):
        self._m.mu = L.real_arg(value, "mu")

    def set_coupling(self, i, j, value):
        """J_ij = J_ji = value (th_model_set_coupling: thermo.Error for i == j
        or groups that do not couple)."""
        L.check(lib.th_model_set_coupling(self._ptr, L.count_arg(i, "i", 0),
                                          L.count_arg(j, "j", 0), L.real_arg(value, "value")))

    def set_onsite(self, J2, J4, J3=0.0):
        """The same well on every unit (th_model_set_onsite3)."""
        lib.th_model_set_onsite3(self._ptr, L.real_arg(J2, "J2"), L.real_arg(J3, "J3"),
                                 L.real_arg(J4, "J4"))

    def validate(self):
        """thermo.Error naming the first parameter out of its domain
        (th_model_validate)."""
        L.check(lib.th_model_validate(self._ptr))

    @property
    def coupling_pairs(self):
        """Ordered pairs that may couple (th_model_coupling_pairs)."""
        return lib.th_model_coupling_pairs(self._ptr)

    def potential(self, x):
        """V(x) of each row of x (b, n) in the model's dtype: (b) float64
        (th_model_potential)."""
        x = L.array_in(x, "x", self._np, (None, self.n))
        out = np.empty(x.shape[0], np.float64)
        lib.th_model_potential(self._ptr, None, 0.0, x.ctypes.data, x.shape[0], L.ptr(out))
        return out

    # ------------------------------------------------------ simulating

    @classmethod
    def random(cls, groups, links=None, coupling=0.0, J2=1.0, J4=1.0, bias=0.0, kT=1.0, mu=1.0,
               seed=1, dtype="f32"):
        """The model of thermo simulate (th_sim_model): groups of units with
        the same wells and bias, and random couplings J_ij ~ N(0, coupling^2 / n)
        on every pair the links (pairs of groups; default: all within one
        group, or every pair of groups) allow, drawn from seed."""
        if isinstance(groups, (int, np.integer)):
            groups = [groups]
        sizes = [L.count_arg(g, "groups") for g in groups]
        if not 1 <= len(sizes) <= S.MAX_GROUPS:
            raise ValueError("groups: expected 1 to %d groups, got %d" % (S.MAX_GROUPS, len(sizes)))
        if links is None:
            links = [(g, h) for g in range(len(sizes)) for h in range(g, len(sizes))]
        r = L.real_arg
        spec = S.th_sim_spec(n_groups=len(sizes), n_links=len(links),
                             coupling=r(coupling, "coupling"), J2=r(J2, "J2"), J4=r(J4, "J4"),
                             bias=r(bias, "bias"), kT=r(kT, "kT"), mu=r(mu, "mu"),
                             seed=L.count_arg(seed, "seed", 0), dtype=_dtype_index(dtype))
        for g, size in enumerate(sizes):
            spec.size[g] = size
        if len(links) > S.MAX_GROUPS * S.MAX_GROUPS:
            raise ValueError("links: at most %d pairs" % (S.MAX_GROUPS * S.MAX_GROUPS))
        for k, (g, h) in enumerate(links):
            spec.link[k][0] = L.count_arg(g, "links", 0)
            spec.link[k][1] = L.count_arg(h, "links", 0)
        return cls._wrap(L.check_ptr(lib.th_sim_model(ctypes.byref(spec))))

    def simulate(self, batch, steps, dt, seed=1, *, x0=None, clamped=None, kernel="fast",
                 snapshots=None, progress=None):
        """Runs batch trajectories from x0 (default 0) for steps
        Euler-Maruyama steps of dt (th_batch_alloc, th_langevin_run) and
        returns the Batch: .states (batch, n), .heat and .work (batch) in kT.
        The remaining options are Batch.run's."""
        b = Batch(self, batch, seed)
        if x0 is not None:
            b.states[...] = L.array_in(x0, "x0", self._np, (None, self.n)) \
                if np.ndim(x0) == 2 else L.array_in(x0, "x0", self._np, (self.n,))
        b.run(steps, dt, clamped=clamped, kernel=kernel, snapshots=snapshots, progress=progress)
        return b

    def statistics(self, batch, steps, dt, seed=1, kernel="fast", progress=None):
        """What thermo simulate reports (th_sim_run): batch trajectories from
        0, and a dict of wall (s), x_mean, x_var (over units and trajectories
        at the end), heat_mean, heat_sd (per trajectory, kT), law_mean,
        law_max (|heat - (V(x0) - V(xT)) / kT|)."""
        batch = L.count_arg(batch, "batch")
        run = _run_settings(steps, dt, kernel, self, batch)
        stats = S.th_sim_stats()
        p = L.Progress(progress)
        run.progress = p.fn
        with p:
            rc = lib.th_sim_run(self._ptr, batch,
                                L.count_arg(seed, "seed", 0), ctypes.byref(run),
                                ctypes.byref(stats))
        p.check(rc)
        return L.struct_to_dict(stats)

    def __repr__(self):
        return "thermo.Model(groups=%s, couples=%s, dtype=%s, kT=%g, mu=%g)" % (
            self.groups, self.couples, DTYPES[self._m.dtype], self.kT, self.mu)


# Multiply-adds between two progress callbacks at most: a few hundredths of
# a second (thermo simulate measured 6.5e7 unit-updates a second on the
# 2-core test machine), so that Ctrl-C stops a run at once, while a
# callback (a few microseconds) costs nothing beside it.
_WORK_PER_CALLBACK = 2e6


def _run_settings(steps, dt, kernel, model, batch):
    run = lib.th_run_default()
    run.n_steps = L.count_arg(steps, "steps", 0)
    run.dt = L.real_arg(dt, "dt")
    run.kernel = L.choice_arg(kernel, "kernel", list(KERNELS))
    # At least 200 callbacks a run, as thermo simulate makes, and more when
    # a step is large.
    work = batch * (model.n + lib.th_model_coupling_pairs(model._ptr))
    run.progress_every = max(1, min(run.n_steps // 200, int(_WORK_PER_CALLBACK // work)))
    return run


class Batch:
    """B trajectories of a model (th_batch): states, heat and work as numpy
    views of the batch (states writable, to start elsewhere), the noise
    streams, and the steps taken. Batch(model, size, seed)."""

    def __init__(self, model, size, seed=1):
        if not isinstance(model, Model):
            raise TypeError("model: expected a thermo.Model, got %s" % type(model).__name__)
        self.model = model  # the batch's run needs it, and it must outlive the batch
        self._ptr = L.check_ptr(lib.th_batch_alloc(model._ptr, L.count_arg(size, "size"),
                                                   L.count_arg(seed, "seed", 0)))

    def __del__(self):
        if getattr(self, "_ptr", None):
            lib.th_batch_free(self._ptr)
            self._ptr = None

    @property
    def size(self):
        return lib.th_batch_size(self._ptr)

    @property
    def n(self):
        return lib.th_batch_units(self._ptr)

    @property
    def states(self):
        """(size, n) current states, the model's dtype, writable."""
        return L.view(lib.th_batch_states(self._ptr), (self.size, self.n),
                      _NP[lib.th_batch_dtype(self._ptr)], self)

    @property
    def heat(self):
        """(size) heat given to the bath so far, kT."""
        return L.view(lib.th_batch_heat(self._ptr), (self.size,), np.float64, self, False)

    @property
    def work(self):
        """(size) work done by the drive so far, kT."""
        return L.view(lib.th_batch_work(self._ptr), (self.size,), np.float64, self, False)

    seed = property(lambda self: lib.th_batch_seed(self._ptr))
    step = property(lambda self: lib.th_batch_step(self._ptr), doc="steps taken")
    time = property(lambda self: lib.th_batch_time(self._ptr), doc="time reached")

    def stream(self, k):
        """Trajectory k's noise stream (th_batch_stream)."""
        return lib.th_batch_stream(self._ptr, self._index(k))

    def set_stream(self, k, stream):
        lib.th_batch_set_stream(self._ptr, self._index(k), L.count_arg(stream, "stream", 0))

    def _index(self, k):
        k = L.count_arg(k, "k", 0)
        if k >= self.size:
            raise IndexError("k: trajectory %d of a batch of %d" % (k, self.size))
        return k

    def reset(self):
        """States, heat and work to 0, step and time to 0 (th_batch_reset)."""
        lib.th_batch_reset(self._ptr)

    def run(self, steps, dt, *, clamped=None, kernel="fast", snapshots=None, progress=None):
        """Advances every trajectory by steps steps of dt (th_langevin_run).

        clamped: (n) booleans, units held where they are; kernel: "fast" or
        "reference" (the plain-loop twin); snapshots: ascending step numbers
        of this run (0 = the start) whose states are returned as an array
        (len(snapshots), size, n); progress(done, total) is called as the
        steps go (True stops the run: thermo.Error ECANCELED). Ctrl-C stops
        it cleanly (KeyboardInterrupt). A diverging run raises thermo.Error
        (EDIVERGED) naming the step, trajectory and unit.
        """
        run = _run_settings(steps, dt, kernel, self.model, self.size)
        n = self.n
        if clamped is not None:
            held = np.asarray(clamped)
            if held.dtype.kind not in "biu":
                raise TypeError("clamped: expected booleans (n,), got %s" % held.dtype)
            if held.shape != (n,):
                raise ValueError("clamped: expected shape (%d,), got %s" % (n, held.shape))
            held = np.ascontiguousarray(held != 0).view(np.uint8)
            run.clamped = held.ctypes.data
        out = None
        if snapshots is not None:
            at = L.array_in(snapshots, "snapshots", np.int64, (None,))
            if np.any(np.diff(at) < 0) or (at.size and (at[0] < 0 or at[-1] > run.n_steps)):
                raise ValueError("snapshots: expected ascending steps from 0 to %d"
                                 % run.n_steps)
            at = at.astype(np.uintp)
            out = np.empty((at.size, self.size, n), _NP[lib.th_batch_dtype(self._ptr)])
            run.snap_steps = at.ctypes.data_as(S.c_size_p)
            run.n_snaps = at.size
            run.snap_out = out.ctypes.data
        p = L.Progress(progress)
        run.progress = p.fn
        with p:
            rc = lib.th_langevin_run(self.model._ptr, self._ptr, ctypes.byref(run))
        p.check(rc)
        return out

    def __repr__(self):
        return "thermo.Batch(size=%d, n=%d, seed=%d, step=%d)" % (self.size, self.n, self.seed,
                                                                  self.step)
