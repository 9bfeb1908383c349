"""thermo from Python: simulate and train thermodynamic computers.

A thin layer over libthermo (the C library of this repository) through
ctypes: every function here is a call, or a few calls, of the library, with
numpy arrays in and out. Long calls release the GIL, report progress to a
callable progress(done, total), and stop cleanly on Ctrl-C.

    import thermo
    gen = thermo.Generator.train("tiny")
    images, heat = gen.sample(10)
"""
import os as _os


def _openmp_waits_passively():
    """OMP_WAIT_POLICY=passive while the OpenMP runtime loads, unless a
    policy was chosen or the runtime is loaded already, as the thermo tool
    does (tools/thermo/main.c): OpenMP threads that spin while they wait
    fight every other busy process for the cores, and on two shared cores a
    student's exact solve took 8 times as long with spinning threads. libgomp
    reads the variable once, when it loads (with numpy when numpy's BLAS is
    OpenBLAS for OpenMP, else with libthermo); the environment is restored
    afterwards. Returns the function that restores it."""
    if "OMP_WAIT_POLICY" in _os.environ or "GOMP_SPINCOUNT" in _os.environ:
        return lambda: None
    try:
        with open("/proc/self/maps") as maps:
            loaded = "libgomp" in maps.read()
    except OSError:
        loaded = False
    if loaded:
        import warnings
        warnings.warn("thermo: the OpenMP runtime was loaded before thermo (numpy loads it "
                      "with an OpenBLAS for OpenMP) with its default wait policy: its idle "
                      "threads spin, and beside other busy processes thermo then runs several "
                      "times slower. Import thermo before numpy, or set OMP_WAIT_POLICY=passive "
                      "(or active, to silence this) in the environment.", RuntimeWarning,
                      stacklevel=3)
        return lambda: None
    _os.environ["OMP_WAIT_POLICY"] = "passive"
    return lambda: _os.environ.pop("OMP_WAIT_POLICY", None)


_restore = _openmp_waits_passively()
try:
    from ._lib import Error, library_path
    from .model import Model, Batch
    from .gen import Generator, PRESETS
    from .classify import Network, Student
    from . import linalg
finally:
    _restore()

__all__ = ["Error", "Model", "Batch", "Generator", "Network", "Student", "linalg", "PRESETS",
           "version", "library_path"]


def version():
    """The library's version (th_version)."""
    from ._lib import lib
    return lib.th_version().decode()
