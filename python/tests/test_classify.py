"""The digital teacher and the thermodynamic student on the three embedded
digits (standing in for both MNIST splits, as in CI): training by both
solvers, the preprocessing and the teacher's forward pass against numpy,
classifying numpy images, evaluation, files, the energy ledger, and the error
paths."""
import os

import numpy as np
import pytest

import thermo
from conftest import DIGITS, read_idx_images, read_safetensors


@pytest.fixture(scope="module")
def teacher(digits_both_splits, tmp_path_factory):
    net = thermo.Network.train(digits_both_splits, "teacher", epochs=2)
    net.save(str(tmp_path_factory.mktemp("teacher") / "teacher.safetensors"))
    return net


@pytest.fixture(scope="module")
def student(teacher, digits_both_splits):
    return thermo.Student.train(teacher, digits_both_splits, hidden=8, ridge=1.0)


@pytest.fixture(scope="module")
def images():
    return read_idx_images(os.path.join(DIGITS, "train-images-idx3-ubyte"))


@pytest.fixture(scope="module")
def labels():
    return read_idx_images(os.path.join(DIGITS, "train-labels-idx1-ubyte"))


def _pnas_inputs(images, norm):
    """science.md section 3: pixel/255, standardised by the MNIST pixel
    statistics, each image rescaled to the common L2 norm."""
    v = (images.reshape(len(images), -1).astype(np.float64) / 255 - 0.13066) / 0.30811
    return v * (norm / np.linalg.norm(v, axis=1, keepdims=True))


def test_teacher(teacher, images, digits_both_splits):
    assert teacher.widths == [784, 32, 32, 10] and teacher.activation == "tanh"
    assert teacher.input == "pnas" and teacher.input_norm > 0
    assert teacher.meta["train.epochs"] == "2" and teacher.meta["test.images"] == "3"
    X = teacher.prepare(images)
    np.testing.assert_allclose(X, _pnas_inputs(images, teacher.input_norm), rtol=1e-5,
                               atol=1e-5)
    # the forward pass, written here from the weights in its file
    tensors, meta = read_safetensors(teacher.path)
    assert meta["nn.widths"] == "784,32,32,10"
    a = X.astype(np.float64)
    for layer in range(3):
        a = a @ tensors["W%d" % layer].astype(np.float64).T + tensors["b%d" % layer]
        if layer < 2:
            a = np.tanh(a)
    np.testing.assert_allclose(teacher.forward(X), a, rtol=1e-4, atol=1e-4)
    back = thermo.Network.load(teacher.path)
    assert np.array_equal(back.forward(X), teacher.forward(X))
    assert teacher.meta.items() <= back.meta.items() and back.meta["nn.kind"] == "mlp"
    report = teacher.evaluate(digits_both_splits)
    assert report["count"] == 3 and report["confusion"].sum() == 3
    assert report["accuracy"] == pytest.approx(np.trace(report["confusion"]) / 3)


def test_student_by_the_exact_solver(student):
    r = student.report
    assert r["images"] == 3 and r["paths"] == 3 and r["solve"]["converged"] == 1
    assert r["objective"] < r["objective_zero"]
    assert student.model.groups == [784, 8, 10]
    assert student.params["n_hidden"] == 8 and student.teacher_widths == [784, 32, 32, 10]
    assert student.meta["student.teacher"].endswith("teacher.safetensors")
    # couplings only on the PNAS pattern: none among the inputs
    assert (student.model.J[:784, :784] == 0).all()


def test_student_by_adam(teacher, digits_both_splits):
    seen = []
    s = thermo.Student.train(teacher, digits_both_splits, solver="adam", hidden=8, epochs=2,
                             batch=2, progress=lambda d, t: seen.append((d, t)))
    assert s.epoch_loss.shape == (2,) and s.epoch_loss[1] < s.epoch_loss[0]
    assert seen[-1] == (4, 4)  # 2 epochs of 2 updates (3 images, batches of 2)


def test_classify_numpy_images(student, images, labels, digits_both_splits):
    c = student.classify(images)
    assert c.outputs.shape == (3, 10) and c.first_outputs.shape == (3, 10)
    assert c.labels.dtype.kind == "i" and (c.heat > 0).all()
    assert np.array_equal(c.labels, np.argmax(c.outputs, axis=1))
    # prepared inputs give the same; so do flat images
    X = student.prepare(images)
    np.testing.assert_allclose(X, _pnas_inputs(images, student.input_norm), rtol=1e-5,
                               atol=1e-5)
    for other in (student.classify(X), student.classify(images.reshape(3, 784))):
        assert np.array_equal(other.outputs, c.outputs) and np.array_equal(other.heat, c.heat)
    # image q's trajectories depend on first + q only
    tail = student.classify(images[1:], first=1)
    assert np.array_equal(tail.outputs, c.outputs[1:])
    assert not np.array_equal(student.classify(images, seed=5).outputs, c.outputs)
    assert np.array_equal(student.predict(images), c.labels)
    # evaluation classifies the same images with the same streams
    e = student.evaluate(digits_both_splits)
    assert e["images"] == 3 and e["trajectories"] == 10
    assert e["top1"] == pytest.approx(np.mean(c.labels == labels))
    assert e["heat"]["mean"] == pytest.approx(c.heat.mean(), rel=1e-12)
    assert e["ratio"] == pytest.approx(e["digital_J"] / e["heat_class_J"])


def test_student_files(student, images, tmp_path):
    path = tmp_path / "student.safetensors"
    student.save(path)
    back = thermo.Student.load(path)
    assert back.params == student.params and back.meta["student.teacher"] == \
        student.meta["student.teacher"]
    assert np.array_equal(back.classify(images).outputs, student.classify(images).outputs)
    with pytest.raises(thermo.Error) as e:
        thermo.Student.load(tmp_path / "none.safetensors")
    assert e.value.name == "EIO"
    thermo.Model([3]).save(tmp_path / "plain.safetensors")
    with pytest.raises(thermo.Error, match="plain.safetensors"):
        thermo.Student.load(tmp_path / "plain.safetensors")


def test_student_energy_ledger(student, images, digits_both_splits):
    book = student.energy_ledger(digits_both_splits, 3, trajectories=4, rapl_root="/nonexistent")
    assert book["kind"] == "classifier" and book["classifications"] == 3
    assert book["trajectories"] == 4
    heat = student.classify(images, trajectories=4).heat
    # the ledger's heat per classification is that of all its trajectories
    assert book["heat_per_classification"]["mean_kT"] == pytest.approx(4 * heat.mean(),
                                                                       rel=1e-9)


def test_classifier_errors(teacher, student, digits_both_splits, tmp_path):
    with pytest.raises(TypeError, match="images: expected uint8"):
        student.classify(np.zeros((2, 784)))
    with pytest.raises(ValueError, match=r"images: expected shape \(any, 784\)"):
        student.classify(np.zeros((2, 783), np.float32))
    with pytest.raises(ValueError, match="images: expected shape"):
        student.prepare(np.zeros((0, 28, 28), np.uint8))
    with pytest.raises(thermo.Error, match="784"):
        student.prepare(np.zeros((2, 27, 27), np.uint8))
    with pytest.raises(ValueError, match="trajectories"):
        student.classify(np.zeros((1, 784), np.float32), trajectories=0)
    with pytest.raises(ValueError, match="solver"):
        thermo.Student.train(teacher, digits_both_splits, solver="sgd")
    with pytest.raises(thermo.Error, match="nowhere"):
        thermo.Student.train(str(tmp_path / "nowhere.safetensors"), digits_both_splits)
    with pytest.raises(thermo.Error) as e:
        thermo.Student.train(teacher, str(tmp_path / "nodata"), hidden=8)
    assert e.value.name == "EIO"
    with pytest.raises(thermo.Error, match="t_f"):
        thermo.Student.train(teacher, digits_both_splits, t_f=-1.0)
    with pytest.raises(ValueError, match="arch"):
        thermo.Network.train(digits_both_splits, "critic")
    with pytest.raises(ValueError, match="hidden"):
        thermo.Network.train(digits_both_splits, "judge", hidden=16)
    with pytest.raises(TypeError, match="X: expected an array of float32"):
        teacher.forward(np.zeros((1, 784)))
    with pytest.raises(ValueError, match="split"):
        student.evaluate(digits_both_splits, split="test")
    with pytest.raises(thermo.Error) as e:
        teacher.evaluate(str(tmp_path))
    assert e.value.name == "EIO"


def test_teacher_progress_and_cancel(digits_both_splits):
    with pytest.raises(thermo.Error) as e:
        thermo.Network.train(digits_both_splits, "teacher", epochs=3,
                             progress=lambda d, t: d == 2)
    assert e.value.name == "ECANCELED"
