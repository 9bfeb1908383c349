"""Models and batches: creation from groups and couplings, the parameter
arrays as views, files, simulation against physics computed here in numpy
(the potential, the first law, the harmonic equilibrium), and every error
path, progress, cancellation, Ctrl-C and the GIL."""
import ctypes
import os
import signal
import threading
import time

import numpy as np
import pytest

import thermo
from thermo import _lib


def _numpy_potential(m, x):
    """V(x) written out here from the model's arrays, in float64."""
    x = x.astype(np.float64)
    J2, J3, J4, b = (a.astype(np.float64) for a in (m.J2, m.J3, m.J4, m.b))
    J = m.J.astype(np.float64)
    onsite = (J2 * x**2 + J3 * x**3 + J4 * x**4 + b * x).sum(axis=1)
    return onsite + 0.5 * np.einsum("ki,ij,kj->k", x, J, x)


def _random_model(dtype="f64", seed=0):
    rng = np.random.default_rng(seed)
    m = thermo.Model([3, 4], couples=[(0, 1), (1, 1)], dtype=dtype, kT=0.7, mu=1.3)
    for i in range(7):
        for j in range(i + 1, 7):
            if not (i < 3 and j < 3):
                m.set_coupling(i, j, rng.normal(0, 0.3))
    m.J2[:] = rng.uniform(0.5, 1.5, 7)
    m.J4[:] = rng.uniform(0.5, 1.5, 7)
    m.J3[:] = rng.uniform(-0.3, 0.3, 7)
    m.b[:] = rng.normal(0, 0.2, 7)
    return m


# --------------------------------------------------------------- models

def test_model_from_groups_and_couplings():
    m = thermo.Model([3, 2], couples=[(0, 1)])
    assert (m.n, m.groups, m.couples, m.dtype) == (5, [3, 2], [(0, 1)], np.float32)
    assert (m.kT, m.mu) == (1.0, 1.0)
    assert (m.J2 == 1).all() and (m.J4 == 1).all() and (m.J3 == 0).all() and (m.b == 0).all()
    m.set_coupling(0, 4, 0.5)
    assert m.J[0, 4] == m.J[4, 0] == np.float32(0.5)
    assert m.J.sum() == 1.0
    assert m.coupling_pairs == 2 * 3 * 2
    m.validate()
    assert "groups=[3, 2]" in repr(m)


def test_coupling_errors_carry_the_library_message():
    m = thermo.Model([3, 2], couples=[(0, 1)])
    with pytest.raises(thermo.Error, match=r"groups 0 and 0 are not coupled") as e:
        m.set_coupling(0, 1, 0.1)
    assert e.value.status == -1 and e.value.name == "EINVAL"
    with pytest.raises(thermo.Error, match="does not couple to itself"):
        m.set_coupling(2, 2, 0.1)
    with pytest.raises(thermo.Error, match="units run from 0 to 4"):
        m.set_coupling(9, 0, 0.1)
    with pytest.raises(thermo.Error, match="the model has 2 groups"):
        thermo.Model([3, 2], couples=[(0, 5)])
    with pytest.raises(ValueError, match="value"):
        m.set_coupling(0, 3, float("nan"))
    with pytest.raises(ValueError, match="i: expected at least 0"):
        m.set_coupling(-1, 3, 0.1)


def test_model_arguments_are_checked():
    with pytest.raises(ValueError, match="groups: expected 1 to 8"):
        thermo.Model([])
    with pytest.raises(ValueError, match="groups: expected 1 to 8"):
        thermo.Model([1] * 9)
    with pytest.raises(TypeError, match="groups"):
        thermo.Model(["a"])
    with pytest.raises(ValueError, match="groups: expected at least 1"):
        thermo.Model([3, 0])
    with pytest.raises(ValueError, match="dtype"):
        thermo.Model([3], dtype="f16")
    with pytest.raises(TypeError, match="dtype"):
        thermo.Model([3], dtype=np.int32)
    with pytest.raises(TypeError, match="kT"):
        thermo.Model([3], kT="hot")
    with pytest.raises(TypeError, match="couples"):
        thermo.Model([3], couples=[0])
    assert thermo.Model(4, dtype=np.float64).dtype == np.float64


def test_arrays_are_views_of_the_model():
    m = thermo.Model([2, 2], couples=[(0, 1)], dtype="f64")
    J2 = m.J2
    J2[:] = [1.0, 2.0, 3.0, 4.0]
    # the same memory, seen again and by the library's potential
    assert np.shares_memory(J2, m.J2)
    x = np.ones((1, 4))
    assert m.potential(x)[0] == pytest.approx(1 + 2 + 3 + 4 + 4)
    m.kT = 0.25
    assert m.kT == 0.25
    # a view keeps the model alive
    J = m.J
    del m
    J[0, 2] = 0.0


def test_potential_against_numpy():
    for dtype in ("f32", "f64"):
        m = _random_model(dtype)
        x = np.random.default_rng(1).normal(size=(5, 7)).astype(m.dtype)
        np.testing.assert_allclose(m.potential(x), _numpy_potential(m, x), rtol=1e-12)
    with pytest.raises(TypeError, match="x: expected an array of float64, got float32"):
        _random_model("f64").potential(np.zeros((2, 7), np.float32))
    with pytest.raises(ValueError, match=r"x: expected shape \(any, 7\)"):
        _random_model("f64").potential(np.zeros((2, 6)))


def test_validate_names_the_parameter():
    m = _random_model()
    m.J[0, 4] += 1.0  # breaks the symmetry through the view
    with pytest.raises(thermo.Error, match="symmetric"):
        m.validate()


def test_save_and_load(tmp_path):
    m = _random_model("f64")
    path = tmp_path / "m.safetensors"
    m.save(path, {"my.note": "hello"})
    m2, meta = thermo.Model.load(path)
    assert (m2.groups, m2.couples, m2.kT, m2.mu) == (m.groups, m.couples, m.kT, m.mu)
    for name in ("J2", "J3", "J4", "b", "J"):
        assert np.array_equal(getattr(m2, name), getattr(m, name)), name
    assert meta["my.note"] == "hello" and meta["model.groups"] == "3,4"
    # the file, read independently
    from conftest import read_safetensors
    tensors, file_meta = read_safetensors(str(path))
    assert np.array_equal(tensors["J"], m.J) and file_meta["model.couples"] == "0-1,1-1"


def test_file_errors(tmp_path):
    with pytest.raises(thermo.Error) as e:
        thermo.Model.load(tmp_path / "missing.safetensors")
    assert e.value.name == "EIO" and "missing.safetensors" in str(e.value)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\0\0\0\0\0\0\0{broken}")
    with pytest.raises(thermo.Error) as e:
        thermo.Model.load(bad)
    assert e.value.name == "EFORMAT" and "bad.safetensors" in str(e.value)
    m = _random_model()
    m.J[0, 4] += 1.0
    with pytest.raises(thermo.Error, match="not saving an invalid model"):
        m.save(tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="path"):
        m.save(42)
    with pytest.raises(TypeError, match="meta"):
        _random_model().save(tmp_path / "y.safetensors", {"k": 1})


def test_random_model_follows_its_spec():
    m = thermo.Model.random([20, 30], links=[(0, 1)], coupling=0.5, J2=2.0, J4=0.5, bias=0.1,
                            kT=0.3, seed=4, dtype="f64")
    J = m.J
    assert np.array_equal(J, J.T) and (np.diag(J) == 0).all()
    assert (J[:20, :20] == 0).all() and (J[20:, 20:] == 0).all()
    cross = J[:20, 20:]
    assert (cross != 0).all()
    # J_ij ~ N(0, 0.5^2 / 50): 600 draws
    assert abs(cross.std() / (0.5 / np.sqrt(50)) - 1) < 0.15
    assert (m.J2 == 2).all() and (m.J4 == 0.5).all() and (m.b == 0.1).all() and m.kT == 0.3
    assert (thermo.Model.random(10).J == 0).all()
    with pytest.raises(thermo.Error, match="kT"):
        thermo.Model.random(10, kT=-1.0)
    with pytest.raises(TypeError, match="coupling"):
        thermo.Model.random(10, coupling="strong")


# ------------------------------------------------------------ simulation

def test_first_law_per_trajectory():
    """V does not depend on time: the heat of each path is (V(x0) - V(xT)) / kT
    up to the discretisation, V computed here."""
    m = _random_model("f64")
    b = m.simulate(64, 2000, 1e-3, seed=5)
    assert b.step == 2000 and b.time == pytest.approx(2.0)
    v0 = _numpy_potential(m, np.zeros((1, 7)))[0]
    law = (v0 - _numpy_potential(m, b.states)) / m.kT
    assert np.max(np.abs(b.heat - law)) < 0.05 * np.std(law)
    assert (b.work == 0).all()


def test_harmonic_equilibrium():
    """Uncoupled harmonic wells J2 x^2 at kT: <x^2> = kT / (2 J2)."""
    m = thermo.Model(250, dtype="f64", kT=0.5)
    m.set_onsite(J2=1.0, J4=0.0)
    b = m.simulate(40, 1500, 4e-3, seed=2)  # t = 6, twelve relaxation times
    var = np.mean(b.states**2)
    # 10^4 values: the estimate's sd is 1.4%; Euler's bias +0.4% (dt J2 mu)
    assert var == pytest.approx(0.25, rel=0.05)


def test_x0_clamped_snapshots():
    m = _random_model("f32")
    x0 = np.linspace(-1, 1, 7, dtype=np.float32)
    b = m.simulate(3, 0, 1e-3, x0=x0)
    assert (b.states == x0).all() and (b.heat == 0).all()
    b = thermo.Batch(m, 4, seed=9)
    b.states[:] = x0
    held = np.zeros(7, bool)
    held[[1, 5]] = True
    snaps = b.run(10, 1e-3, clamped=held, snapshots=[0, 4, 10])
    assert snaps.shape == (3, 4, 7)
    assert (snaps[0] == x0).all() and (snaps[2] == b.states).all()
    assert (b.states[:, held] == x0[held]).all() and (b.states[:, ~held] != x0[~held]).all()
    with pytest.raises(ValueError, match="snapshots"):
        b.run(10, 1e-3, snapshots=[4, 2])
    with pytest.raises(ValueError, match="snapshots"):
        b.run(10, 1e-3, snapshots=[0, 11])
    with pytest.raises(ValueError, match="clamped: expected shape"):
        b.run(10, 1e-3, clamped=[True])
    with pytest.raises(TypeError, match="clamped"):
        b.run(10, 1e-3, clamped=np.zeros(7))
    with pytest.raises(ValueError, match="read-only"):
        b.heat[0] = 1.0
    b.reset()
    assert (b.states == 0).all() and b.step == 0


def test_same_seed_same_bits_and_streams():
    m = _random_model("f32")
    a = m.simulate(6, 200, 1e-3, seed=11)
    b = m.simulate(6, 200, 1e-3, seed=11)
    assert np.array_equal(a.states, b.states) and np.array_equal(a.heat, b.heat)
    assert not np.array_equal(m.simulate(6, 200, 1e-3, seed=12).states, a.states)
    # trajectory 3's noise stream moved to trajectory 0 of a smaller batch
    c = thermo.Batch(m, 1, seed=11)
    c.set_stream(0, a.stream(3))
    assert c.stream(0) == 3 and c.seed == 11
    c.run(200, 1e-3)
    assert np.array_equal(c.states[0], a.states[3])
    with pytest.raises(IndexError):
        c.stream(1)


def test_reference_kernel_agrees():
    m = _random_model("f64")
    fast = m.simulate(4, 300, 1e-3, seed=3)
    ref = m.simulate(4, 300, 1e-3, seed=3, kernel="reference")
    np.testing.assert_allclose(fast.states, ref.states, rtol=1e-9, atol=1e-12)


def test_statistics_as_thermo_simulate():
    m = thermo.Model.random(16, coupling=0.5, seed=2)
    s = m.statistics(8, 300, 1e-3, seed=2)
    assert set(s) == {"wall", "x_mean", "x_var", "heat_mean", "heat_sd", "law_mean", "law_max"}
    b = m.simulate(8, 300, 1e-3, seed=2)
    assert s["heat_mean"] == pytest.approx(b.heat.mean(), rel=1e-12)
    assert s["x_var"] == pytest.approx(b.states.astype(np.float64).var(ddof=0), rel=1e-6)


def test_run_errors():
    m = _random_model("f32")
    with pytest.raises(thermo.Error) as e:
        m.simulate(2, 1000, 10.0)
    assert e.value.name == "EDIVERGED" and "diverged at step" in str(e.value)
    with pytest.raises(TypeError, match="x0: expected an array of float32, got float64"):
        m.simulate(2, 10, 1e-3, x0=np.zeros(7))
    with pytest.raises(ValueError, match=r"x0: expected shape \(7,\)"):
        m.simulate(2, 10, 1e-3, x0=np.zeros(6, np.float32))
    with pytest.raises(ValueError, match="kernel"):
        m.simulate(2, 10, 1e-3, kernel="gpu")
    with pytest.raises(ValueError, match="size: expected at least 1"):
        m.simulate(0, 10, 1e-3)
    with pytest.raises(ValueError, match="steps"):
        m.simulate(2, -1, 1e-3)
    with pytest.raises(ValueError, match="dt"):
        m.simulate(2, 10, float("inf"))
    with pytest.raises(thermo.Error, match="dt"):
        m.simulate(2, 10, -1e-3)
    with pytest.raises(TypeError, match="model"):
        thermo.Batch("model", 2)
    with pytest.raises(TypeError, match="progress"):
        m.simulate(2, 10, 1e-3, progress=3)


# ------------------------------------------------- progress and Ctrl-C

def test_progress_reports_and_stops():
    m = _random_model("f32")
    seen = []
    m.simulate(2, 1000, 1e-3, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (1000, 1000) and len(seen) == 200
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:]))
    b = thermo.Batch(m, 2)
    with pytest.raises(thermo.Error) as e:
        b.run(1000, 1e-3, progress=lambda done, total: done >= 100)
    assert e.value.name == "ECANCELED" and "canceled" in str(e.value)
    assert b.step == 100


def test_exception_in_progress_stops_and_is_raised():
    class Stop(Exception):
        pass

    def progress(done, total):
        if done >= 50:
            raise Stop("enough")

    b = thermo.Batch(_random_model("f32"), 2)
    with pytest.raises(Stop, match="enough"):
        b.run(1000, 1e-3, progress=progress)
    assert b.step == 50


def test_ctrl_c_from_the_progress_callable():
    """SIGINT during a run: the library's cancel path, then KeyboardInterrupt."""
    def progress(done, total):
        if done == 100:
            signal.raise_signal(signal.SIGINT)

    b = thermo.Batch(_random_model("f32"), 2)
    with pytest.raises(KeyboardInterrupt):
        b.run(10000, 1e-3, progress=progress)
    assert 100 <= b.step < 10000
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_from_outside_without_a_progress_callable():
    """A real SIGINT from another thread while the library computes: the run
    stops within a fraction of its length."""
    m = thermo.Model.random(256, coupling=0.5, seed=1)
    b = thermo.Batch(m, 64)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            b.run(10 ** 7, 1e-4)
    finally:
        timer.cancel()
    assert 0 < b.step < 10 ** 7 and time.monotonic() - t0 < 30


def test_the_gil_is_released_while_the_library_computes():
    """A Python thread keeps running while another is inside the library:
    the main thread's counter moves during a run that has no Python
    callback (were the GIL held through the call, it could not move)."""
    assert not isinstance(_lib.lib, ctypes.PyDLL)
    m = thermo.Model.random(256, coupling=0.5, seed=1)
    b = thermo.Batch(m, 64)
    run = _lib.lib.th_run_default()
    run.n_steps, run.dt = 1000, 1e-4
    counter, seen = [0], []

    def work():
        seen.append(counter[0])
        _lib.check(_lib.lib.th_langevin_run(m._ptr, b._ptr, ctypes.byref(run)))
        seen.append(counter[0])

    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        counter[0] += 1
    assert b.step == 1000 and seen[1] - seen[0] > 1000
