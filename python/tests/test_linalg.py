"""Thermodynamic linear algebra against numpy's direct answers: each
algorithm within the error it estimates for itself, the hardware options
(bits, mismatch, copies) and their floor, progress, and the error paths."""
import numpy as np
import pytest

import thermo
from thermo import linalg

# A symmetric positive definite M-matrix, so the RLC board realises it
# directly (positive coupling capacitors), and a drift for lyap that is not
# symmetric.
A = np.array([[2.0, -0.5, -0.3], [-0.5, 1.5, -0.2], [-0.3, -0.2, 1.8]])
DRIFT = np.array([[1.0, 0.4, 0.0], [-0.3, 1.2, 0.2], [0.0, 0.1, 0.8]])
FAST = {"model": "overdamped", "time": 2000.0}


def _rel(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


def _within_estimate(r, truth):
    """The error against truth: what the run reports, and within a few of
    its own estimated errors (batch means: a 5-sigma bound)."""
    err = _rel(r.estimate, truth) if r.algorithm != "logdet" else abs(r.estimate - truth)
    assert err == pytest.approx(r.error, rel=1e-6)
    assert err <= 5 * r.estimated_error + 1e-12


def test_inv_on_both_models():
    for options in (FAST, {"model": "rlc", "points": 3}):
        r = linalg.inv(A, **options)
        assert r.estimate.shape == (3, 3) and r.std_error.shape == (3, 3)
        np.testing.assert_allclose(r.reference, np.linalg.inv(A), rtol=1e-12)
        _within_estimate(r, np.linalg.inv(A))
        assert r.floor == 0 and r.tau > 0 and r.sim_time > 0
    assert r.mapping == "direct" and r.model == "rlc" and len(r.times) == 3
    assert (np.diff(r.times) > 0).all() and r.errors[-1] == r.error


def test_solve():
    b = np.array([1.0, -2.0, 0.5])
    r = linalg.solve(A, b, **FAST)
    assert r.estimate.shape == (3,)
    np.testing.assert_allclose(r.reference, np.linalg.solve(A, b), rtol=1e-12)
    _within_estimate(r, np.linalg.solve(A, b))


def test_logdet():
    r = linalg.logdet(A, model="overdamped", time=500.0, nodes=6)
    assert isinstance(r.estimate, float) and r.floor == 0
    assert linalg.logdet(A, model="overdamped", time=100.0, nodes=4, mismatch=0.05).floor is None
    _within_estimate(r, np.linalg.slogdet(A)[1])


def test_lyap():
    D = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 1.5]])
    r = linalg.lyap(DRIFT, D, time=2000.0)
    assert r.model == "overdamped"
    # the reference solves A S + S A^T = D: checked by its residual here
    S = r.reference
    np.testing.assert_allclose(DRIFT @ S + S @ DRIFT.T, D, atol=1e-12)
    _within_estimate(r, S)
    identity = linalg.lyap(DRIFT, time=500.0).reference
    np.testing.assert_allclose(DRIFT @ identity + identity @ DRIFT.T, np.eye(3), atol=1e-12)


def test_sample():
    cov = np.linalg.inv(A)
    mean = np.array([1.0, 0.0, -1.0])
    r = linalg.sample(cov, mean, n_samples=4000, **FAST)
    assert r.samples.shape == (4000, 3)
    _within_estimate(r, cov)
    # the samples themselves: their mean and covariance, correlated draws
    # taken every half relaxation time, so loose bounds
    assert np.abs(r.samples.mean(axis=0) - mean).max() < 0.15
    assert _rel(np.cov(r.samples.T), cov) < 0.15


def test_hardware_options():
    quick = {"model": "overdamped", "time": 300.0}
    exact = linalg.inv(A, **quick)
    coarse = linalg.inv(A, bits=3, **quick)
    assert exact.floor == 0 and coarse.floor > 0
    # copies average out independent mismatch: the floor of 4 merged copies
    # is below that of copy 0 alone (with these seeds)
    single = linalg.inv(A, mismatch=0.05, **quick)
    merged = linalg.inv(A, mismatch=0.05, copies=4, **quick)
    assert 0 < merged.floor < single.floor
    # same seed, same bits; another seed, another answer
    assert np.array_equal(linalg.inv(A, **quick).estimate, exact.estimate)
    assert not np.array_equal(linalg.inv(A, seed=2, **quick).estimate, exact.estimate)
    euler = linalg.inv(A, integrator="euler", **quick)
    assert euler.error < 0.2
    rlc = linalg.inv(A, time=0.005, bits=4)
    assert rlc.model == "rlc" and rlc.floor > 0


def test_progress_and_cancel():
    seen = []
    linalg.inv(A, points=4, progress=lambda d, t: seen.append((d, t)), **FAST)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(thermo.Error) as e:
        linalg.inv(A, points=4, progress=lambda d, t: d == 2, **FAST)
    assert e.value.name == "ECANCELED"


def test_errors():
    with pytest.raises(ValueError, match="A: expected a square matrix"):
        linalg.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"A: expected shape \(any, any\)"):
        linalg.inv(np.ones(3))
    with pytest.raises(TypeError, match="A: expected an array of float64, got float32"):
        linalg.inv(A.astype(np.float32))
    with pytest.raises(ValueError, match=r"b: expected shape \(3,\)"):
        linalg.solve(A, np.ones(2))
    with pytest.raises(ValueError, match="D: expected shape"):
        linalg.lyap(DRIFT, np.eye(2))
    with pytest.raises(ValueError, match="A: every entry must be finite"):
        linalg.inv(np.full((2, 2), np.nan))
    with pytest.raises(thermo.Error, match="positive definite"):
        linalg.inv(np.array([[1.0, 2.0], [2.0, 1.0]]), **FAST)
    with pytest.raises(thermo.Error, match="overdamped"):
        linalg.lyap(DRIFT, model="rlc")
    with pytest.raises(ValueError, match="mismatch"):
        linalg.inv(A, mismatch=0.9)
    with pytest.raises(ValueError, match="batches: expected at least 2"):
        linalg.inv(A, batches=1)
    with pytest.raises(thermo.Error, match="points"):
        linalg.inv(A, points=21)
    with pytest.raises(ValueError, match="model"):
        linalg.inv(A, model="quantum")
    with pytest.raises(TypeError, match="unexpected keyword"):
        linalg.inv(A, bitz=3)
