"""Same seed, same bits: the Python API and the thermo tool (build/thermo),
run with the same settings, give the same files byte for byte and the same
arrays exactly: training (gradient descent and the exact solver), sampling,
simulation, linear algebra, the classifier and the energy ledger."""
import json
import os
import subprocess

import numpy as np
import pytest

import thermo
from thermo import linalg
from conftest import read_safetensors


def run_tool(tool, *args, cwd=None, env=None):
    full_env = dict(os.environ, **(env or {}))
    done = subprocess.run([tool] + [str(a) for a in args], cwd=cwd, env=full_env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def _same_run(gen, tmp_path):
    """gen saved is thermo train's tmp_path/run/model.safetensors to the byte,
    and samples the images and heat of its samples.safetensors; the images."""
    gen.save(tmp_path / "py.safetensors")
    assert _same_file(tmp_path / "run" / "model.safetensors", tmp_path / "py.safetensors")
    tensors, _ = read_safetensors(str(tmp_path / "run" / "samples.safetensors"))
    images, heat = gen.sample(len(tensors["heat"]))
    assert np.array_equal(tensors["images"], images.reshape(len(images), -1))
    assert np.array_equal(tensors["heat"], heat)
    return images


@pytest.mark.parametrize("solver", ["gd", "exact"])
def test_train_tiny(tool, digits, tmp_path, solver):
    """thermo train --preset tiny: the model file and every sample."""
    extra = ["--solver", "exact", "--paths", "6", "--ridge", "0.1"] if solver == "exact" else []
    run_tool(tool, "train", "--preset", "tiny", "--data", digits, "--out", tmp_path / "run",
             "--quiet", *extra)
    gen = thermo.Generator.train("tiny", data=digits, solver=solver,
                                 **({"paths": 6, "ridge": 0.1} if solver == "exact" else {}))
    _same_run(gen, tmp_path)
    if solver == "gd":
        rows = open(tmp_path / "run" / "loss.csv").read().splitlines()[1:]
        assert [row.split(",")[1] for row in rows] == ["%.9g" % v for v in gen.loss]


@pytest.mark.parametrize("solver", ["gd", "exact"])
def test_train_tiny_protocol(tool, digits, tmp_path, solver):
    """thermo train --segments 3 with every recipe option Generator.train
    takes beside (readout window, visible biases, noise schedule; the
    neighbour penalty for the exact solver): the model file, every segment,
    and the samples read through the recorded readout window."""
    cli = ["--segments", "3", "--readout-window", "5", "--visible-bias", "--drive", "1.5",
           "--ramp", "0.5"]
    kw = dict(segments=3, readout_window=5, visible_bias=True, drive=1.5, ramp_fraction=0.5)
    if solver == "exact":
        cli += ["--solver", "exact", "--paths", "6", "--ridge", "0.1", "--segment-penalty", "0.5"]
        kw.update(solver="exact", paths=6, ridge=0.1, segment_penalty=0.5)
    run_tool(tool, "train", "--preset", "tiny", "--data", digits, "--out", tmp_path / "run",
             "--quiet", *cli)
    gen = thermo.Generator.train("tiny", data=digits, **kw)
    assert gen.segments == 3
    images = _same_run(gen, tmp_path)
    # without the readout window the samples are the end states: others
    ends, _ = gen.sample(len(images), readout_window=0)
    assert not np.array_equal(ends, images)


def test_train_tiny_ridges(tool, digits, tmp_path):
    """The exact solver's ridges of issue 18 beside thermo train's options:
    the class biases' ridge with a latent class code (a conditional
    computer), then the trained biases' ridge with the pixels' biases."""
    for k, (cli, kw) in enumerate([
            (["--classes", "--class-visible", "--latent-classes", "--class-ridge", "0.05"],
             dict(classes=True, class_visible=True, latent_classes=True, class_ridge=0.05)),
            (["--visible-bias", "--bias-ridge", "2", "--hidden-double-well"],
             dict(visible_bias=True, bias_ridge=2, hidden_double_well=True))]):
        run = tmp_path / str(k)
        run_tool(tool, "train", "--preset", "tiny", "--data", digits, "--out", run / "run",
                 "--quiet", "--solver", "exact", "--ridge", "0.5", *cli)
        gen = thermo.Generator.train("tiny", data=digits, solver="exact", ridge=0.5, **kw)
        _same_run(gen, run)
    with pytest.raises(ValueError, match="class_ridge"):
        thermo.Generator.train("tiny", data=digits, solver="exact", class_ridge=-1)


def test_train_tiny_styles(tool, digits_repeated, tmp_path):
    """Style codes (--styles 2 on four copies of each digit) beside
    thermo train: the same clusters, model and samples."""
    run_tool(tool, "train", "--preset", "tiny", "--data", digits_repeated, "--images", 12,
             "--classes", "--class-visible", "--styles", 2, "--solver", "exact",
             "--class-ridge", "0.01", "--out", tmp_path / "run", "--quiet")
    gen = thermo.Generator.train("tiny", data=digits_repeated, images=12, classes=True,
                                 class_visible=True, styles=2, solver="exact", class_ridge=0.01)
    _same_run(gen, tmp_path)


@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_sample_with_seed_and_first(tool, tiny, tmp_path, precision):
    tiny.save(tmp_path / "m.safetensors")
    run_tool(tool, "sample", "--model", tmp_path / "m.safetensors", "--n", 12, "--first", 3,
             "--seed", 7, "--precision", precision, "--out", tmp_path / "s.png", "--save",
             tmp_path / "s.safetensors", "--quiet")
    tensors, _ = read_safetensors(str(tmp_path / "s.safetensors"))
    images, heat = tiny.sample(12, first=3, seed=7, precision=precision)
    assert np.array_equal(tensors["images"], images.reshape(12, -1))
    assert np.array_equal(tensors["heat"], heat)
    if precision == "bf16":  # the rounding shows: not float32's samples
        f32_images, _ = tiny.sample(12, first=3, seed=7)
        assert not np.array_equal(f32_images, images)


@pytest.mark.parametrize("precision", ["f32", "f64"])
def test_simulate(tool, precision):
    """thermo simulate's report, printed by the tool and formatted here from
    Model.statistics the same way."""
    out = run_tool(tool, "simulate", "--units", 48, "--coupling", 0.5, "--bias", 0.1, "--kT",
                   0.5, "--steps", 300, "--batch", 8, "--seed", 3, "--precision", precision,
                   "--quiet")
    m = thermo.Model.random(48, coupling=0.5, bias=0.1, kT=0.5, seed=3, dtype=precision)
    s = m.statistics(8, 300, 1e-3, seed=3)
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["state"].startswith("state     mean %.6g, variance %.6g "
                                     % (s["x_mean"], s["x_var"]))
    assert lines["heat"] == ("heat      mean %.6g kT, sd %.6g kT per trajectory (given to the "
                             "bath)" % (s["heat_mean"], s["heat_sd"]))
    assert lines["check"].endswith("mean |difference| %.3g kT, max %.3g kT"
                                   % (s["law_mean"], s["law_max"]))


def _write_mtx(path, a):
    """Matrix Market array format: column by column, 17 digits."""
    a = np.atleast_2d(a.T).T if a.ndim == 1 else a
    with open(path, "w") as f:
        f.write("%%%%MatrixMarket matrix array real general\n%d %d\n" % a.shape)
        for v in a.T.ravel():
            f.write("%.17g\n" % v)


def _read_mtx(path):
    rows = [line for line in open(path) if not line.startswith("%")]
    r, c = map(int, rows[0].split())
    return np.array([float(v) for v in rows[1:]]).reshape(c, r).T


@pytest.mark.parametrize("alg", ["inv", "solve", "sample", "logdet"])
def test_linalg(tool, tmp_path, alg):
    A = np.array([[2.0, -0.5, -0.3], [-0.5, 1.5, -0.2], [-0.3, -0.2, 1.8]])
    b = np.array([1.0, -2.0, 0.5])
    _write_mtx(tmp_path / "A.mtx", A)
    _write_mtx(tmp_path / "b.mtx", b)
    hw = {"bits": 4, "mismatch": 0.02, "copies": 2} if alg == "inv" else {}
    args = ["linalg", alg, "--matrix", tmp_path / "A.mtx", "--model", "overdamped", "--time",
            200, "--points", 2, "--seed", 5, "--out", tmp_path / "out", "--quiet"]
    for key, value in hw.items():
        args += ["--" + key, value]
    options = dict(model="overdamped", time=200.0, points=2, seed=5, **hw)
    if alg == "solve":
        args += ["--rhs", tmp_path / "b.mtx"]
        r = linalg.solve(A, b, **options)
    elif alg == "sample":
        args += ["--samples", 50]
        r = linalg.sample(A, n_samples=50, **options)
    else:
        r = getattr(linalg, alg)(A, **options)
    run_tool(tool, *args)
    estimate = _read_mtx(tmp_path / "out" / "estimate.mtx")
    assert np.array_equal(estimate.reshape(np.shape(r.estimate)), r.estimate)
    if alg == "sample":
        assert np.array_equal(_read_mtx(tmp_path / "out" / "samples.mtx"), r.samples)
    errors = np.loadtxt(tmp_path / "out" / "error.csv", delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(errors[:, 1], r.errors, rtol=1e-6)


def test_classifier(tool, digits_both_splits, tmp_path):
    """The teacher's weights, the student's file and its test."""
    teacher = tmp_path / "teacher.safetensors"
    run_tool(tool, "classifier", "train", "--data", digits_both_splits, "--arch", "teacher",
             "--epochs", 2, "--out", teacher, "--quiet")
    mine = thermo.Network.train(digits_both_splits, "teacher", epochs=2)
    mine.save(tmp_path / "mine.safetensors")
    theirs, _ = read_safetensors(str(teacher))
    ours, _ = read_safetensors(str(tmp_path / "mine.safetensors"))
    assert theirs.keys() == ours.keys()
    assert all(np.array_equal(theirs[k], ours[k]) for k in theirs)

    run_tool(tool, "classify", "train", "--teacher", teacher, "--data", digits_both_splits,
             "--out", tmp_path / "student.safetensors", "--hidden", 8, "--ridge", 1, "--quiet")
    student = thermo.Student.train(str(teacher), digits_both_splits, hidden=8, ridge=1.0)
    student.save(tmp_path / "py_student.safetensors")
    assert _same_file(tmp_path / "student.safetensors", tmp_path / "py_student.safetensors")

    run_tool(tool, "classify", "eval", "--model", tmp_path / "student.safetensors", "--data",
             digits_both_splits, "--trajectories", 4, "--json", tmp_path / "eval.json",
             "--quiet")
    cli = json.load(open(tmp_path / "eval.json"))
    r = student.evaluate(digits_both_splits, trajectories=4)
    for key in ("top1", "top2", "single_top1", "single_top2"):
        assert cli[key] == r[key], key
    assert cli["heat_per_trajectory_kT"] == r["heat"]["mean"]
    assert cli["heat_per_classification_J"] == r["heat_class_J"]
    assert cli["ratio_digital_to_heat"] == r["ratio"]


def test_energy_ledger(tool, tiny, tmp_path):
    model = str(tmp_path / "m.safetensors")
    tiny.save(model)
    run_tool(tool, "energy", "--model", model, "--samples", 30, "--json", tmp_path / "e.json",
             "--quiet", env={"THERMO_POWERCAP": "/nonexistent"})
    cli = json.load(open(tmp_path / "e.json"))
    book = tiny.energy_ledger(30, name=model, rapl_root="/nonexistent")
    del cli["wall_seconds"], book["wall_seconds"]
    assert cli == book
