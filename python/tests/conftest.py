"""The tests run against the source tree: the package in python/ and the
library and tool in build/ (make builds them), whatever is installed;
THERMO_LIBRARY and THERMO_TOOL set beforehand win."""
import os
import sys

# Before numpy loads the OpenMP runtime (with its OpenBLAS): waiting threads
# that spin would fight the other processes of a shared machine for its
# cores (thermo/__init__.py says more).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
# Two threads, as make test runs the C tests: the threaded paths run, and
# results must not depend on them.
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("THERMO_LIBRARY", os.path.join(ROOT, "build", "libthermo.so"))
TOOL = os.environ.get("THERMO_TOOL", os.path.join(ROOT, "build", "thermo"))
DIGITS = os.path.join(ROOT, "data", "prl2026")


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def tool():
    if not os.access(TOOL, os.X_OK):
        pytest.fail("no thermo tool at %s: run make first" % TOOL)
    return TOOL


@pytest.fixture(scope="session")
def digits():
    """The three embedded digits of the PRL recipe (data/prl2026)."""
    return DIGITS


@pytest.fixture(scope="session")
def digits_repeated(tmp_path_factory):
    """Four copies of each embedded digit (12 images, classes 0, 1, 2), so
    that a class can split into styles (--styles)."""
    d = tmp_path_factory.mktemp("repeated")
    raw = open(os.path.join(DIGITS, "train-images-idx3-ubyte"), "rb").read()
    lab = open(os.path.join(DIGITS, "train-labels-idx1-ubyte"), "rb").read()
    with open(str(d / "train-images-idx3-ubyte"), "wb") as f:
        f.write(bytes([0, 0, 8, 3, 0, 0, 0, 12, 0, 0, 0, 28, 0, 0, 0, 28]) + raw[16:] * 4)
    with open(str(d / "train-labels-idx1-ubyte"), "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 12]) + lab[8:] * 4)
    return str(d)


@pytest.fixture(scope="session")
def digits_both_splits(tmp_path_factory):
    """The three embedded digits as both the training and the test split
    (there is no MNIST in CI), as .ci/run sets them up."""
    d = tmp_path_factory.mktemp("digits")
    for name in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        for split in ("train", "t10k"):
            os.symlink(os.path.join(DIGITS, "train-" + name), str(d / (split + "-" + name)))
    return str(d)


@pytest.fixture(scope="session")
def tiny(digits):
    """The tiny preset trained by gradient descent (a few hundredths of a
    second), shared by the tests that only read it."""
    import thermo
    return thermo.Generator.train("tiny", data=digits)


def read_idx_images(path):
    """An IDX file of unsigned bytes read with numpy alone (the format:
    magic 0x0000080N, N big-endian dimensions, the bytes)."""
    import numpy as np
    raw = open(path, "rb").read()
    assert raw[:3] == b"\0\0\x08"
    n_dims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(n_dims)]
    return np.frombuffer(raw[4 + 4 * n_dims:], np.uint8).reshape(dims)


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file read with json and numpy
    alone (8-byte little-endian header length, JSON header, raw data)."""
    import json
    import struct
    import numpy as np
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        lo, hi = t["data_offsets"]
        dtype = {"F32": np.float32, "F64": np.float64}[t["dtype"]]
        tensors[name] = np.frombuffer(data[lo:hi], dtype).reshape(t["shape"])
    return tensors, header.get("__metadata__", {})
