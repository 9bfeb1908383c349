"""Generators: training by gradient descent and by the exact solver from the
presets, sampling and its noise streams, files, the energy ledger, and the
error paths. (tests/test_same_bits.py compares all of it with the CLI.)"""
import os

import numpy as np
import pytest

import thermo

K_BOLTZMANN = 1.380649e-23  # J/K, exact in the SI


def test_train_by_gradient_descent(tiny):
    assert tiny.shape == (7, 7) and tiny.model.groups == [49, 16]
    assert tiny.params["n_visible"] == 49 and tiny.params["hidden_drive"] == "copy"
    assert tiny.steps == 100 and tiny.report is None
    # A model that predicts nothing has a loss of about 1/2 per step and
    # moving unit (science.md section 2); four small updates keep it there.
    per_unit = tiny.loss / (tiny.steps * (49 + 16))
    assert tiny.loss.shape == (4,) and ((0.4 < per_unit) & (per_unit < 0.6)).all()
    assert tiny.meta["train.preset"] == "tiny" and "picture.lo" in tiny.meta
    # couplings only where the architecture allows: none among the pixels
    assert (tiny.model.J[:49, :49] == 0).all() and (tiny.model.J[:49, 49:] != 0).any()


def test_train_by_the_exact_solver(digits):
    seen = []
    gen = thermo.Generator.train("tiny", data=digits, solver="exact", paths=6, ridge=0.1,
                                 progress=lambda d, t: seen.append((d, t)))
    r = gen.report
    assert gen.loss is None and r["paths"] == 6 and r["converged"] == 1
    assert r["loss_solved"] < r["loss_zero"] and r["residual"] <= 1e-6
    # paths counted to their total, then the solve's iterations (total 0)
    assert (6, 6) in seen and seen[-1][1] == 0


def test_sample_streams(tiny):
    images, heat = tiny.sample(10)
    assert images.shape == (10, 7, 7) and images.dtype == np.float32
    assert heat.shape == (10,) and heat.dtype == np.float64 and np.isfinite(heat).all()
    # sample k has its own noise: any slice can be drawn again alone, in any
    # batch size
    again, heat_again = tiny.sample(3, first=5, batch=1)
    assert np.array_equal(again, images[5:8]) and np.array_equal(heat_again, heat[5:8])
    other, _ = tiny.sample(10, seed=99)
    assert not np.array_equal(other, images)
    with pytest.raises(ValueError, match="classes: this generator is unconditional"):
        tiny.sample(2, classes=0)
    with pytest.raises(ValueError, match="n: expected at least 1"):
        tiny.sample(0)
    with pytest.raises(ValueError, match="seed"):
        tiny.sample(2, seed=-1)
    with pytest.raises(ValueError, match="first, n"):
        tiny.sample(2, first=2 ** 33)
    with pytest.raises(ValueError, match="precision"):
        tiny.sample(2, precision="f16")


def test_conditional_sampling(digits):
    gen = thermo.Generator.train("tiny", data=digits, classes=True, updates=2)
    assert gen.params["n_classes"] == 3 and gen.model.groups == [49, 16, 3]
    a, _ = gen.sample(4, classes=[0, 1, 2, 1])
    b, _ = gen.sample(4, classes=1)
    assert np.array_equal(a[1], b[1]) and np.array_equal(a[3], b[3])
    assert not np.array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="classes: expected classes from 0 to 2"):
        gen.sample(2, classes=[0, 3])
    with pytest.raises(TypeError, match="classes"):
        gen.sample(2, classes=np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"classes: expected shape \(2,\)"):
        gen.sample(2, classes=[0, 1, 2])


def test_style_codes(digits, digits_repeated, tmp_path):
    gen = thermo.Generator.train("tiny", data=digits_repeated, images=12, classes=True,
                                 class_visible=True, styles=2, solver="exact")
    assert gen.params["n_classes"] == 6 and gen.params["styles"] == 2
    assert gen.model.groups == [49, 16, 6]
    a, _ = gen.sample(6, classes=[0, 1, 2, 2, 1, 0])
    b, _ = gen.sample(1, first=3, classes=2)  # a sample's style is its own: batch-free
    assert np.array_equal(a[3], b[0])
    with pytest.raises(ValueError, match="classes: expected classes from 0 to 2"):
        gen.sample(2, classes=[0, 3])
    path = str(tmp_path / "styles.safetensors")
    gen.save(path)
    back = thermo.Generator.load(path)
    assert back.params["styles"] == 2
    assert np.array_equal(back.sample(6, classes=[0, 1, 2, 2, 1, 0])[0], a)
    with pytest.raises(ValueError, match="styles: splits classes into styles"):
        thermo.Generator.train("tiny", data=digits, styles=2)
    with pytest.raises(thermo.Error, match="class 0 has only 1 training image"):
        thermo.Generator.train("tiny", data=digits, classes=True, styles=2, solver="exact")


def test_save_load(tiny, tmp_path):
    path = tmp_path / "gen.safetensors"
    tiny.save(path)
    back = thermo.Generator.load(path)
    assert back.shape == tiny.shape and back.params == tiny.params
    assert back.meta["gen.n_visible"] == "49"
    assert np.array_equal(back.model.J, tiny.model.J)
    assert np.array_equal(back.sample(5)[0], tiny.sample(5)[0])
    # a model without the generator's settings
    thermo.Model([3]).save(tmp_path / "plain.safetensors")
    with pytest.raises(thermo.Error, match="gen.") as e:
        thermo.Generator.load(tmp_path / "plain.safetensors")
    assert e.value.name == "EFORMAT"


def test_energy_ledger(tiny):
    book = tiny.energy_ledger(16, rapl_root="/nonexistent")
    _, heat = tiny.sample(16)
    assert book["samples"] == 16 and book["model"] == "generator"
    assert book["heat_per_sample"]["mean_kT"] == pytest.approx(heat.mean(), rel=1e-12)
    assert book["kT_J"] == pytest.approx(K_BOLTZMANN * 300, rel=1e-9)
    assert book["heat_per_sample"]["mean_J"] == pytest.approx(heat.mean() * K_BOLTZMANN * 300,
                                                              rel=1e-9)
    lines = {d["line"]: d for d in book["digital"]}
    assert set(lines) == {"a", "b", "c", "d"}
    assert not lines["c"]["available"] and "nonexistent" in lines["c"]["why_not"]
    hot = tiny.energy_ledger(4, temperature=600, network=[49, 10, 49], steps=2,
                             rapl_root="/nonexistent")
    assert hot["kT_J"] == pytest.approx(2 * book["kT_J"])
    # line (d): 2 passes of 49 x 10 + 10 x 49 multiply-accumulates
    hot_d = [d for d in hot["digital"] if d["line"] == "d"][0]
    assert hot_d["macs"] == 2 * (49 * 10 + 10 * 49)
    with pytest.raises(ValueError, match="network: expected 2 to 64"):
        tiny.energy_ledger(4, network=[49])
    with pytest.raises(thermo.Error, match="temperature -1 K: expected a finite value > 0"):
        tiny.energy_ledger(4, temperature=-1)


def test_training_errors(digits, tmp_path):
    with pytest.raises(ValueError, match="preset: expected one of prl2026, tiny"):
        thermo.Generator.train("huge")
    with pytest.raises(thermo.Error) as e:
        thermo.Generator.train("tiny", data=str(tmp_path / "nowhere"))
    assert e.value.name == "EIO" and "nowhere" in str(e.value)
    with pytest.raises(thermo.Error, match="3"):
        thermo.Generator.train("tiny", data=digits, images=100)
    with pytest.raises(ValueError, match="solver"):
        thermo.Generator.train("tiny", data=digits, solver="newton")
    with pytest.raises(TypeError, match="lr"):
        thermo.Generator.train("tiny", data=digits, lr="fast")
    with pytest.raises(ValueError, match="updates: expected at least 1"):
        thermo.Generator.train("tiny", data=digits, updates=0)
    with pytest.raises(thermo.Error, match="t_f"):
        thermo.Generator.train("tiny", data=digits, t_f=-1.0)


def test_protocol_training_errors(digits):
    """The time-dependent protocol's and the noise schedule's arguments:
    each bad value raises naming the argument."""
    bad = [({"segments": 0}, ValueError, "segments: expected at least 1"),
           ({"segments": 65}, ValueError, "segments: expected 1 to 64"),
           ({"segments": 2.5}, TypeError, "segments"),
           ({"segment_penalty": -1.0, "solver": "exact"}, ValueError, "segment_penalty"),
           ({"segment_penalty": 0.5}, ValueError, "segment_penalty: applies to the exact"),
           ({"segment_penalty": "x"}, TypeError, "segment_penalty"),
           ({"readout_window": -1}, ValueError, "readout_window"),
           ({"readout_window": 101}, ValueError, "readout_window: at most the 100 steps"),
           ({"drive": 0.0}, ValueError, "drive: expected a value > 0"),
           ({"drive": float("nan")}, ValueError, "drive"),
           ({"ramp_fraction": 1.5}, ValueError, r"ramp_fraction: expected a value in \(0, 1\]"),
           ({"ramp_fraction": 0.0}, ValueError, "ramp_fraction")]
    for kw, kind, message in bad:
        with pytest.raises(kind, match=message):
            thermo.Generator.train("tiny", data=digits, **kw)
    # more segments than steps: the library's check, naming segments
    with pytest.raises(thermo.Error, match="segments"):
        thermo.Generator.train("tiny", data=digits, segments=64, t_f=0.05)


def test_protocol_train_save_load(digits, tmp_path):
    """A protocol trained in Python saves every segment, loads back to the
    same samples, and its model is segment 0 (kept alive by the protocol)."""
    gen = thermo.Generator.train("tiny", data=digits, segments=2, updates=2)
    model = gen.model
    images, heat = gen.sample(6)
    path = tmp_path / "p.safetensors"
    gen.save(path)
    del gen
    assert model.J.shape == (65, 65)
    back = thermo.Generator.load(path)
    assert back.segments == 2 and back.meta["gen.segments"] == "2"
    again, heat_again = back.sample(6)
    assert np.array_equal(again, images) and np.array_equal(heat_again, heat)
    book = back.energy_ledger(8, rapl_root="/nonexistent")
    assert book["work_per_sample"]["segments"] == 2
    assert book["first_law_per_sample"]["residual_max_abs_kT"] < 0.1


def test_training_progress_and_cancel(digits):
    seen = []
    thermo.Generator.train("tiny", data=digits, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(thermo.Error) as e:
        thermo.Generator.train("tiny", data=digits, progress=lambda d, t: d == 2)
    assert e.value.name == "ECANCELED"


def test_segmented_protocol(tool, digits, tmp_path):
    """A time-dependent protocol trained by thermo train --segments 3 loads
    with every segment and samples in Python exactly as thermo sample does
    (its heat file), readout window included."""
    import subprocess
    run = str(tmp_path / "seg")
    subprocess.run([tool, "train", "--preset", "tiny", "--data", digits, "--segments", "3",
                    "--out", run, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    gen = thermo.Generator.load(os.path.join(run, "model.safetensors"))
    assert gen.segments == 3 and gen.params["segments"] == 3
    images, heat = gen.sample(4, readout_window=5)
    csv = str(tmp_path / "heat.csv")
    subprocess.run([tool, "sample", "--model", os.path.join(run, "model.safetensors"), "--n", "4",
                    "--readout-window", "5", "--out", str(tmp_path / "s.png"), "--heat", csv,
                    "--quiet"], check=True, stdout=subprocess.DEVNULL)
    rows = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert rows.shape == (4, 3)  # sample, heat_kT, work_kT
    assert np.allclose(rows[:, 1], heat, rtol=1e-9)
    # one segment's sampling refuses the protocol's settings: the whole
    # protocol is what samples
    again, _ = gen.sample(4, readout_window=5)
    assert (again == images).all()
    with pytest.raises(ValueError):
        gen.sample(2, readout_window=-1)
