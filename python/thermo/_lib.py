"""The bridge to libthermo: finding and loading the library, errors, progress
callbacks (with Ctrl-C), and the checks every array passes on its way in.

Every function of the package is a call, or a few calls, of the C library
(include/thermo/*.h) through ctypes. ctypes releases the GIL for the length of
each foreign call, and a callback from C takes it back while it runs Python;
so other Python threads run while thermo computes, and a progress callable
runs as ordinary Python.
"""
import contextlib
import ctypes
import os
import signal
import threading

import numpy as np

from . import _structs as S

# ------------------------------------------------------------ the library

_ENV = "THERMO_LIBRARY"
_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    """Where libthermo.so may be, in the order tried: the environment
    variable, beside the package (make python puts it there), the build
    folder of the source tree the package sits in, the system's loader."""
    env = os.environ.get(_ENV)
    if env:
        return [env]
    return [
        os.path.join(_HERE, "libthermo.so"),
        os.path.join(_HERE, os.pardir, os.pardir, "build", "libthermo.so"),
        "libthermo.so.0",
        "libthermo.so",
    ]


def _load():
    tried = []
    for path in _candidates():
        # A bare name goes to the system loader (an installed library); a
        # path must exist, or the loader would search elsewhere for it.
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        S.declare(lib)
        return lib, os.path.abspath(path) if os.sep in path else path
    raise ImportError(
        "thermo: cannot load libthermo.so; tried " + "; ".join(tried) +
        ". Build it with 'make' (or 'make python'), or set %s to its path." % _ENV)


lib, library_path = _load()
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


def free(ptr):
    """free() for memory the library allocated with malloc and hands over."""
    _libc.free(ptr)


# ---------------------------------------------------------------- errors

OK, EINVAL, ENOMEM, EDIVERGED, ECANCELED, EIO, EFORMAT = 0, -1, -2, -3, -4, -5, -6
_STATUS_NAMES = {EINVAL: "EINVAL", ENOMEM: "ENOMEM", EDIVERGED: "EDIVERGED",
                 ECANCELED: "ECANCELED", EIO: "EIO", EFORMAT: "EFORMAT"}


class Error(Exception):
    """A failure reported by libthermo. str(e) is the library's own message
    (th_last_error); e.status is the TH_E* code (negative) and e.name its
    name ("EINVAL", "EDIVERGED", ...)."""

    def __init__(self, message, status=EINVAL):
        super().__init__(message)
        self.status = status
        self.name = _STATUS_NAMES.get(status, str(status))


def last_error():
    return lib.th_last_error().decode("utf-8", "replace")


def fail(status):
    """The Error of a failed call: the library's message, or the fixed
    description of the status when the call left none."""
    message = last_error() or lib.th_strerror(status).decode()
    return Error(message, status)


def check(status):
    if status != OK:
        raise fail(status)


def check_ptr(ptr):
    """For the allocators that return NULL on failure."""
    if not ptr:
        raise fail(ENOMEM if not last_error() else EINVAL)
    return ptr


# -------------------------------------------------------------- progress


class Progress:
    """The callbacks of one long call, and the way it stops.

    A progress callable, when given, is called as progress(done, total);
    returning True stops the call (thermo.Error with status ECANCELED), and an
    exception it raises stops the call and is raised again once the library
    has returned. Ctrl-C stops the call the same way: while the call runs,
    SIGINT only sets a flag (when Python's own handler is in place and this is
    the main thread), the next callback returns nonzero, the library unwinds
    through its cancel path (TH_ECANCELED), and KeyboardInterrupt is raised.
    The callback is installed even without a progress callable, so that
    Ctrl-C is seen. Use as a context manager around the call, then
    p.check(status).
    """

    def __init__(self, user=None):
        if user is not None and not callable(user):
            raise TypeError("progress: expected a callable progress(done, total), got %r"
                            % (type(user).__name__,))
        self.user = user
        self.exception = None
        self.interrupted = False
        self.asked_to_stop = False
        self._previous = None
        # The C function pointers must outlive the call: kept here.
        self.fn = S.th_progress_fn(self._progress)
        self.solve_fn = S.th_solve_progress_fn(self._solve)
        self.student_update_fn = S.th_student_update_fn(self._student_update)
        self.point_fn = S.th_tla_point_fn(self._point)
        self.total_points = 1

    # One body for every signature: whether to stop.
    def _report(self, done, total):
        if self.interrupted:
            return 1
        if self.user is None:
            return 0
        try:
            if self.user(done, total) is True:
                self.asked_to_stop = True
                return 1
        except BaseException as e:  # KeyboardInterrupt included: stop cleanly
            self.exception = e
            return 1
        return 0

    def _progress(self, done, total, ctx):
        return self._report(done, total)

    def _solve(self, iteration, residual, ctx):
        # The conjugate-gradient solves have no known total: they count
        # iterations, and the callable sees total 0.
        return self._report(iteration, 0)

    def _student_update(self, update, total, loss, ctx):
        return self._report(update, total)

    def _point(self, sweep, k, ctx):
        return self._report(k + 1, self.total_points)

    def _on_sigint(self, signum, frame):
        self.interrupted = True

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def check(self, status):
        """After the call: the callable's exception, Ctrl-C, or the library's
        failure, in that order."""
        if self.exception is not None:
            e, self.exception = self.exception, None
            raise e
        if self.interrupted:
            raise KeyboardInterrupt
        check(status)


# ---------------------------------------------------------------- arrays

_DTYPES = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double,
           np.dtype(np.uint8): ctypes.c_uint8, np.dtype(np.intc): ctypes.c_int,
           np.dtype(np.uint64): ctypes.c_uint64}


def array_in(x, name, dtype, shape=None):
    """x as a C-contiguous array of dtype for the library to read.

    An ndarray of that dtype and layout passes as it is (no copy); one of
    that dtype in another layout is copied once into C order. An ndarray of
    another dtype is refused (TypeError naming the argument: thermo never
    converts precision silently); lists and other sequences are converted.
    shape: a tuple whose entries are sizes, or None for any size; a mismatch
    is a ValueError naming the argument and both shapes.
    """
    dtype = np.dtype(dtype)
    if isinstance(x, np.ndarray):
        if x.dtype != dtype:
            raise TypeError("%s: expected an array of %s, got %s" % (name, dtype, x.dtype))
        a = x
    else:
        try:
            a = np.asarray(x)
        except (TypeError, ValueError) as e:
            raise TypeError("%s: expected an array of %s: %s" % (name, dtype, e)) from None
        # Numbers convert to a float type; whole numbers (and booleans) to an
        # integer type when every value fits.
        kinds = "biuf" if dtype.kind == "f" else "biu"
        if a.dtype.kind not in kinds:
            raise TypeError("%s: expected numbers convertible to %s, got %s"
                            % (name, dtype, a.dtype))
        converted = a.astype(dtype)
        if dtype.kind != "f" and not np.array_equal(converted, a):
            raise ValueError("%s: a value does not fit in %s" % (name, dtype))
        a = converted
    if shape is not None:
        if a.ndim != len(shape) or any(want is not None and got != want
                                       for got, want in zip(a.shape, shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + \
                   ("," if len(shape) == 1 else "") + ")"
            raise ValueError("%s: expected shape %s, got %s" % (name, want, a.shape))
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError("%s: every entry must be finite" % name)
    return np.ascontiguousarray(a)


def ptr(a, ctype=None):
    """A typed pointer to an array's data (None passes NULL)."""
    if a is None:
        return None
    return a.ctypes.data_as(ctypes.POINTER(ctype or _DTYPES[a.dtype]))


def view(address, shape, dtype, owner, writable=True):
    """A numpy array over memory the library owns, without copying: owner
    (the Python object that frees that memory) stays alive as long as the
    array does."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    if count == 0 or not address:
        return np.empty(shape, dtype)
    buf = (_DTYPES[dtype] * count).from_address(address)
    buf._thermo_owner = owner
    a = np.frombuffer(buf, dtype=dtype).reshape(shape)
    if not writable:
        a.flags.writeable = False
    return a


def count_arg(value, name, minimum=1):
    """A whole number from minimum to 2^64 - 1, the range of size_t and
    uint64_t (TypeError, ValueError naming it)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError("%s: expected a whole number, got %r" % (name, value))
    if value < minimum:
        raise ValueError("%s: expected at least %d, got %d" % (name, minimum, value))
    if value >= 1 << 64:
        raise ValueError("%s: expected less than 2^64, got %d" % (name, value))
    return int(value)


def real_arg(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError("%s: expected a number, got %r" % (name, value))
    value = float(value)
    if not np.isfinite(value):
        raise ValueError("%s: expected a finite number, got %r" % (name, value))
    return value


def choice_arg(value, name, names):
    """The index of value among names (TypeError, ValueError naming them)."""
    if not isinstance(value, str):
        raise TypeError("%s: expected one of %s, got %r" % (name, ", ".join(names), value))
    if value not in names:
        raise ValueError("%s: expected one of %s, got %r" % (name, ", ".join(names), value))
    return names.index(value)


def path_arg(path, name):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError("%s: expected a path, got %r" % (name, path))
    return os.fsencode(path)


# -------------------------------------------------------------- metadata


def meta_to_dict(meta):
    """A th_meta as a dict of str (keys in the file's order)."""
    return {meta.keys[k].decode(): meta.values[k].decode() for k in range(meta.count)}


@contextlib.contextmanager
def c_meta(entries=None, name="meta"):
    """A th_meta holding entries (str -> str) for the length of a with
    block, which then frees its strings (th_meta_clear); empty for the
    library's loaders to fill (read it with meta_to_dict inside the block)."""
    meta = S.th_meta()
    try:
        for key, value in (entries or {}).items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("%s: expected str keys and values, got %r: %r"
                                % (name, key, value))
            check(lib.th_meta_set(ctypes.byref(meta), key.encode(), value.encode()))
        yield meta
    finally:
        lib.th_meta_clear(ctypes.byref(meta))


def struct_to_dict(st):
    """The fields of a ctypes structure as a dict (nested structures as
    dicts, arrays as lists)."""
    out = {}
    for field in st._fields_:
        key = field[0]
        if key.endswith("_"):
            continue
        value = getattr(st, key)
        if isinstance(value, ctypes.Structure):
            value = struct_to_dict(value)
        elif isinstance(value, ctypes.Array):
            value = list(value)
        out[key] = value
    return out
