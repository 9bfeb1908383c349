"""The bridge itself: finding the library, the version, errors, and the
checks every array passes (no copy when the layout allows)."""
import os
import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import thermo
from thermo import _lib
from conftest import ROOT


def test_version_is_the_headers():
    header = open(os.path.join(ROOT, "include", "thermo", "core.h")).read()
    assert thermo.version() == re.search(r'TH_VERSION_STRING "(.*)"', header).group(1)
    assert os.path.samefile(thermo.library_path, os.environ["THERMO_LIBRARY"])


def test_a_missing_library_is_an_import_error(tmp_path):
    env = dict(os.environ, THERMO_LIBRARY=str(tmp_path / "libthermo.so"),
               PYTHONPATH=os.path.join(ROOT, "python"))
    done = subprocess.run([sys.executable, "-c", "import thermo"], env=env,
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "cannot load libthermo.so" in done.stderr and "THERMO_LIBRARY" in done.stderr


def test_error_carries_status_and_message():
    e = _lib.fail(_lib.EDIVERGED)
    assert isinstance(e, thermo.Error) and e.status == -3 and e.name == "EDIVERGED"
    with pytest.raises(thermo.Error, match="model has 1 groups") as info:
        thermo.Model([2], couples=[(0, 1)])
    assert info.value.name == "EINVAL"


def test_arrays_pass_without_copies_when_they_can():
    a = np.zeros((3, 4), np.float32)
    assert _lib.array_in(a, "a", np.float32, (3, 4)) is a
    f = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    c = _lib.array_in(f, "f", np.float64, (3, None))
    assert c.flags.c_contiguous and not np.shares_memory(c, f) and np.array_equal(c, f)
    strided = np.arange(20, dtype=np.float32)[::2]
    assert np.array_equal(_lib.array_in(strided, "s", np.float32, (10,)), strided)
    # sequences convert; whole numbers to integers only when they fit
    assert _lib.array_in([1, 2], "x", np.float64).dtype == np.float64
    assert _lib.array_in([1, 2], "x", np.intc).dtype == np.intc
    with pytest.raises(TypeError, match="x: expected numbers convertible to int32"):
        _lib.array_in([1.5], "x", np.intc)
    with pytest.raises(ValueError, match="x: a value does not fit in uint8"):
        _lib.array_in([300], "x", np.uint8)
    with pytest.raises(TypeError, match="x: expected an array of float32, got float64"):
        _lib.array_in(np.zeros(2), "x", np.float32)
    with pytest.raises(TypeError, match="x: expected numbers"):
        _lib.array_in(["a"], "x", np.float32)
    with pytest.raises(ValueError, match=r"x: expected shape \(2,\), got \(3,\)"):
        _lib.array_in(np.zeros(3), "x", np.float64, (2,))
    with pytest.raises(ValueError, match="x: every entry must be finite"):
        _lib.array_in([1.0, np.inf], "x", np.float64)


def test_non_contiguous_inputs_give_the_same_answers():
    m = thermo.Model([3], couples=[(0, 0)], dtype="f64")
    m.set_coupling(0, 1, 0.3)
    x = np.random.default_rng(0).normal(size=(4, 6))
    assert np.array_equal(m.potential(x[:, ::2]), m.potential(np.ascontiguousarray(x[:, ::2])))


def _interrupt_at(k):
    """A progress callable that presses Ctrl-C at its k-th call."""
    calls = [0]

    def progress(done, total):
        calls[0] += 1
        if calls[0] == k:
            signal.raise_signal(signal.SIGINT)
    progress.calls = calls
    return progress


def test_ctrl_c_stops_every_kind_of_long_call(digits, digits_both_splits):
    """SIGINT during a call of each module: it stops through the library's
    cancel path (no further callbacks) and raises KeyboardInterrupt."""
    gen = thermo.Generator.train("tiny", data=digits)
    calls = {
        "train": lambda p: thermo.Generator.train("tiny", data=digits, progress=p),
        "sample": lambda p: gen.sample(600, batch=16, progress=p),
        "teacher": lambda p: thermo.Network.train(digits_both_splits, "teacher", epochs=5,
                                                  batch=1, progress=p),
        "linalg": lambda p: thermo.linalg.inv(np.eye(2) * 2, model="overdamped", time=50.0,
                                              points=4, progress=p),
    }
    for name, call in calls.items():
        p = _interrupt_at(2)
        with pytest.raises(KeyboardInterrupt):
            call(p)
        assert p.calls[0] == 2, name
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_calls_from_another_thread():
    """Off the main thread the SIGINT handler is left alone (Python allows
    signal handlers only there) and everything else works."""
    m = thermo.Model.random(8, coupling=0.3, seed=1)
    out = {}

    def work():
        seen = []
        out["b"] = m.simulate(4, 100, 1e-3, progress=lambda d, t: seen.append(d))
        out["seen"] = seen

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert out["b"].step == 100 and out["seen"][-1] == 100
    assert np.array_equal(out["b"].states, m.simulate(4, 100, 1e-3).states)
