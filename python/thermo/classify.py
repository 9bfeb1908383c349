"""Thermodynamic classifiers (Whitelam, PNAS 2026; include/thermo/classify.h)
and the digital networks they learn from (include/thermo/nn.h).

Network.train is thermo classifier train (tools/thermo/cmd_classifier.c),
Student.train thermo classify train and Student.evaluate thermo classify eval
(tools/thermo/cmd_classify.c): the same library calls in the same order."""
import collections
import ctypes
import time

import numpy as np

from . import _lib as L
from . import _structs as S
from . import energy as E
from .model import Model

lib = L.lib

ARCHS = ("judge", "teacher")
ACTIVATIONS = ("tanh", "relu")
INPUTS = ("standardised", "pnas")
STUDENT_SOLVERS = ("exact", "adam")
_ALL = (1 << 64) - 1  # SIZE_MAX: every image


def _dataset(data, split, limit=None, labels=True):
    """An IDX split (th_dataset_load_dir) cut to its first limit images."""
    d = ctypes.POINTER(S.th_dataset)()
    L.check(lib.th_dataset_load_dir(L.path_arg(data, "data"), split.encode(), ctypes.byref(d)))
    if labels and not d.contents.labels:
        lib.th_dataset_free(d)
        raise L.Error("%s (%s): the images have no labels file; a classifier needs them"
                      % (data, split), L.EFORMAT)
    if limit is not None:
        limit = L.count_arg(limit, "limit")
        d.contents.count = min(d.contents.count, limit)
    return d


def _image_set(images, name="images"):
    """Raw grey levels, uint8 (n, rows, cols) or (n, pixels), as a th_dataset
    over the array's memory (no copy) and the array that backs it."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        got = images.dtype if isinstance(images, np.ndarray) else type(images).__name__
        raise TypeError("%s: expected uint8 grey levels (0..255) or float32 prepared inputs, "
                        "got %s" % (name, got))
    if images.ndim not in (2, 3) or images.shape[0] == 0:
        raise ValueError("%s: expected shape (n, rows, cols) or (n, pixels) with n >= 1, got %s"
                         % (name, images.shape))
    a = np.ascontiguousarray(images)
    rows, cols = (a.shape[1], a.shape[2]) if a.ndim == 3 else (1, a.shape[1])
    d = S.th_dataset(count=a.shape[0], rows=rows, cols=cols,
                     pixels=a.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)))
    return d, a


class Network:
    """A digital feed-forward network (th_mlp): the judge or the PNAS teacher.
    .widths, .activation, .input, .input_norm; .meta its file's metadata;
    .path the file it was loaded from or saved to."""

    def __init__(self, ptr, meta, path=None):
        self._ptr = ptr
        self.meta = meta
        self.path = path

    def __del__(self):
        if getattr(self, "_ptr", None):
            lib.th_mlp_free(self._ptr)
            self._ptr = None

    @property
    def widths(self):
        net = self._ptr.contents
        return [net.width[k] for k in range(net.n_layers + 1)]

    activation = property(lambda self: ACTIVATIONS[self._ptr.contents.act])
    input = property(lambda self: INPUTS[self._ptr.contents.input])
    input_norm = property(lambda self: self._ptr.contents.input_norm)

    @classmethod
    def load(cls, path):
        out = ctypes.POINTER(S.th_mlp)()
        with L.c_meta() as meta:
            L.check(lib.th_mlp_load_meta(L.path_arg(path, "path"), ctypes.byref(out),
                                         ctypes.byref(meta)))
            return cls(out, L.meta_to_dict(meta), str(path))

    def save(self, path):
        with L.c_meta(self.meta) as meta:
            L.check(lib.th_mlp_save_meta(L.path_arg(path, "path"), self._ptr,
                                         ctypes.byref(meta)))
        self.path = str(path)

    @classmethod
    def train(cls, data, arch="teacher", *, epochs=None, batch=None, lr=None, weight_decay=None,
              hidden=None, seed=1, limit=None, progress=None):
        """thermo classifier train: the preset network of arch fitted to the
        training split of the IDX folder data (Adam, cosine rate), then
        tested on its t10k split; None keeps the preset's value.
        progress(done, total) counts updates."""
        a = lib.th_mlp_preset_get(L.choice_arg(arch, "arch", list(ARCHS)))
        if hidden is not None:
            if arch != "teacher":
                raise ValueError("hidden: sets the teacher's widths; the judge's are fixed")
            a.width[1] = a.width[2] = L.count_arg(hidden, "hidden")
        train = _dataset(data, "train", limit)
        test = net = None
        try:
            test = _dataset(data, "t10k", limit)
            net = ctypes.POINTER(S.th_mlp)()
            seed = L.count_arg(seed, "seed", 0)
            L.check(lib.th_mlp_build(ctypes.byref(a), train, seed, ctypes.byref(net)))
            self = cls(net, {})
            tp = lib.th_mlp_train_params_default()
            tp.epochs = L.count_arg(epochs, "epochs") if epochs is not None else a.epochs
            tp.batch = L.count_arg(batch, "batch") if batch is not None else a.batch
            tp.learning_rate = L.real_arg(lr, "lr") if lr is not None else a.learning_rate
            tp.weight_decay = (L.real_arg(weight_decay, "weight_decay")
                               if weight_decay is not None else a.weight_decay)
            tp.seed = seed
            p = L.Progress(progress)
            tp.progress = p.fn
            t0 = time.monotonic()
            with p:
                rc = lib.th_mlp_fit(net, train, ctypes.byref(tp))
            p.check(rc)
            seconds = time.monotonic() - t0
            r = S.th_mlp_report()
            L.check(lib.th_mlp_report_compute(net, test, ctypes.byref(r)))
            accuracy = r.accuracy
            lib.th_mlp_report_free(ctypes.byref(r))
            # what thermo classifier train records
            with L.c_meta({"train.arch": arch, "train.data": str(data),
                           "train.seconds": "%.1f" % seconds,
                           "test.images": "%d" % test.contents.count,
                           "test.accuracy": "%.6f" % accuracy}) as meta:
                L.check(lib.th_mlp_train_meta(ctypes.byref(tp), train.contents.count,
                                              ctypes.byref(meta)))
                self.meta = L.meta_to_dict(meta)
            return self
        except BaseException:
            if net:
                lib.th_mlp_free(net)
                if "self" in locals():
                    self._ptr = None
            raise
        finally:
            lib.th_dataset_free(train)
            if test is not None:
                lib.th_dataset_free(test)

    def forward(self, X):
        """The logits (n, outputs) of prepared inputs X float32 (n, inputs)
        (th_mlp_forward)."""
        w = self.widths
        X = L.array_in(X, "X", np.float32, (None, w[0]))
        logits = np.empty((X.shape[0], w[-1]), np.float32)
        L.check(lib.th_mlp_forward(self._ptr, L.ptr(X), X.shape[0], L.ptr(logits), None))
        return logits

    def prepare(self, images):
        """uint8 images (n, rows, cols) as this network's inputs (n, inputs)
        float32 (th_mlp_prepare)."""
        d, keep = _image_set(images)
        X = np.empty((d.count, self.widths[0]), np.float32)
        L.check(lib.th_mlp_prepare(self._ptr, ctypes.byref(d), 0, d.count, L.ptr(X)))
        del keep
        return X

    def evaluate(self, data, split="t10k", limit=None):
        """thermo classifier eval on a split of the IDX folder data: a dict of
        count, accuracy, top2, confusion (classes, classes), class_count,
        class_accuracy (th_mlp_report_compute)."""
        L.choice_arg(split, "split", ["train", "t10k"])
        d = _dataset(data, split, limit)
        r = S.th_mlp_report()
        try:
            L.check(lib.th_mlp_report_compute(self._ptr, d, ctypes.byref(r)))
            C = r.classes
            return {"count": r.count, "accuracy": r.accuracy, "top2": r.top2,
                    "confusion": np.ctypeslib.as_array(r.confusion, (C, C)).copy(),
                    "class_count": np.ctypeslib.as_array(r.class_count, (C,)).copy(),
                    "class_accuracy": np.ctypeslib.as_array(r.class_accuracy, (C,)).copy()}
        finally:
            lib.th_mlp_report_free(ctypes.byref(r))
            lib.th_dataset_free(d)

    def __repr__(self):
        return "thermo.Network(%s, %s, %s inputs)" % ("-".join(map(str, self.widths)),
                                                     self.activation, self.input)


Classification = collections.namedtuple("Classification",
                                        "labels outputs first_outputs heat")
Classification.__doc__ = """What Student.classify returns: labels (n) the
argmax of outputs (n, classes), the output units at t_f averaged over the
trajectories; first_outputs those of trajectory 0 alone; heat (n) per
trajectory in kT, averaged over an image's trajectories."""


class Student:
    """A trained thermodynamic classifier (th_student): .model (a
    thermo.Model over the student's own), .params (its settings),
    .input_norm, .teacher_widths, .meta; after training .report and
    .epoch_loss."""

    def __init__(self):
        self._st = S.th_student()
        self.meta = {}
        self.report = None
        self.epoch_loss = None

    def __del__(self):
        st = getattr(self, "_st", None)
        if st is not None and st.model:
            lib.th_student_clear(ctypes.byref(st))

    @property
    def model(self):
        return Model._wrap(self._st.model, owner=self)

    @property
    def params(self):
        return L.struct_to_dict(self._st.params)

    input_norm = property(lambda self: self._st.input_norm)
    teacher_widths = property(lambda self: list(self._st.widths[:self._st.n_widths]))

    # ------------------------------------------------------------ files

    @classmethod
    def load(cls, path):
        self = cls()
        with L.c_meta() as meta:
            L.check(lib.th_student_load(L.path_arg(path, "path"), ctypes.byref(self._st),
                                        ctypes.byref(meta)))
            self.meta = L.meta_to_dict(meta)
        return self

    def save(self, path):
        with L.c_meta(self.meta) as meta:
            L.check(lib.th_student_save(L.path_arg(path, "path"), ctypes.byref(self._st),
                                        ctypes.byref(meta)))

    # --------------------------------------------------------- training

    @classmethod
    def train(cls, teacher, data, *, solver="exact", ridge=None, epochs=None, batch=None,
              lr=None, hidden=None, t_f=None, gain=None, output_temperature=None, limit=None,
              seed=None, progress=None):
        """thermo classify train: a student of teacher (a Network or its
        file) on the training split of the IDX folder data (th_student_fit).
        solver "exact" (one pass of statistics, then conjugate gradients) or
        "adam"; None keeps the default of the option of the same name (lr is
        --lr, t_f --tf). progress(done, total) counts paths then CG
        iterations (total 0), or Adam's updates."""
        if not isinstance(teacher, Network):
            teacher = Network.load(teacher)
        sp = lib.th_student_params_default()
        fo = lib.th_student_fit_opts_default()
        fo.solver = L.choice_arg(solver, "solver", list(STUDENT_SOLVERS))
        if ridge is not None:
            fo.ridge = L.real_arg(ridge, "ridge")
        if epochs is not None:
            fo.train.epochs = L.count_arg(epochs, "epochs")
        if batch is not None:
            fo.train.batch = L.count_arg(batch, "batch")
        if lr is not None:
            fo.train.learning_rate = L.real_arg(lr, "lr")
        if hidden is not None:
            sp.n_hidden = L.count_arg(hidden, "hidden")
        for field, value in (("t_f", t_f), ("gain", gain),
                             ("output_temperature", output_temperature)):
            if value is not None:
                setattr(sp, field, L.real_arg(value, field))
        if seed is not None:
            sp.seed = L.count_arg(seed, "seed", 0)
        L.check(lib.th_student_params_validate(ctypes.byref(sp)))
        L.check(lib.th_student_params_for_teacher(teacher._ptr, ctypes.byref(sp)))
        d = ctypes.POINTER(S.th_dataset)()
        L.check(lib.th_student_dataset(L.path_arg(data, "data"), b"train",
                                       _ALL if limit is None else L.count_arg(limit, "limit"),
                                       ctypes.byref(d)))
        self = cls()
        p = L.Progress(progress)
        fo.on_paths = p.fn
        fo.on_iteration = p.solve_fn
        fo.train.on_update = p.student_update_fn
        epoch_loss = np.zeros(fo.train.epochs)
        r = S.th_student_fit_report()
        try:
            with p:
                rc = lib.th_student_fit(teacher._ptr, d, ctypes.byref(sp), ctypes.byref(fo),
                                        ctypes.byref(self._st), ctypes.byref(r),
                                        L.ptr(epoch_loss))
            p.check(rc)
        finally:
            lib.th_dataset_free(d)
        # what thermo classify train records
        with L.c_meta({"student.teacher": teacher.path} if teacher.path else {}) as meta:
            L.check(lib.th_student_fit_meta(ctypes.byref(fo), ctypes.byref(r),
                                            ctypes.byref(meta)))
            self.meta = L.meta_to_dict(meta)
        self.report = L.struct_to_dict(r)
        self.epoch_loss = epoch_loss
        return self

    # ------------------------------------------------------ classifying

    def prepare(self, images):
        """Raw uint8 images (n, 28, 28) or (n, 784) as the student's inputs
        (n, n_input) float32: the teacher's PNAS preprocessing with the
        student's input norm (th_student_prepare)."""
        d, keep = _image_set(images)
        X = np.empty((d.count, self._st.params.n_input), np.float32)
        L.check(lib.th_student_prepare(ctypes.byref(self._st), ctypes.byref(d), 0, d.count,
                                       L.ptr(X)))
        del keep
        return X

    def _inputs(self, images):
        if isinstance(images, np.ndarray) and images.dtype == np.uint8:
            return self.prepare(images)
        if isinstance(images, np.ndarray) and images.dtype != np.float32:
            raise TypeError("images: expected uint8 grey levels (0..255) or float32 prepared "
                            "inputs, got %s" % images.dtype)
        return L.array_in(images, "images", np.float32, (None, self._st.params.n_input))

    def _settings(self, seed):
        sp = S.th_student_params.from_buffer_copy(self._st.params)
        if seed is not None:
            sp.seed = L.count_arg(seed, "seed", 0)
        return sp

    def classify(self, images, *, trajectories=10, seed=None, first=0, progress=None):
        """Classifies images by the student's own Langevin trajectories
        (th_student_classify): images are raw uint8 grey levels (n, 28, 28)
        or (n, 784), prepared here, or float32 inputs (n, n_input) prepared
        already. Image q runs trajectories trajectories on noise streams of
        first + q. Returns a Classification (labels, outputs,
        first_outputs, heat). progress(done, total) counts images."""
        X = self._inputs(images)
        n = X.shape[0]
        if n == 0:
            raise ValueError("images: expected at least one image")
        sp = self._settings(seed)
        eo = lib.th_student_eval_opts_default()
        eo.trajectories = L.count_arg(trajectories, "trajectories")
        eo.first = L.count_arg(first, "first", 0)
        C = sp.n_output
        mean, first_out = np.empty((n, C), np.float32), np.empty((n, C), np.float32)
        heat = np.empty(n, np.float64)
        p = L.Progress(progress)
        eo.progress = p.fn
        with p:
            rc = lib.th_student_classify(self._st.model, ctypes.byref(sp), L.ptr(X), n,
                                         ctypes.byref(eo), L.ptr(mean), L.ptr(first_out),
                                         L.ptr(heat))
        p.check(rc)
        # Ties to the lower class, as th_argmax_rows.
        return Classification(np.argmax(mean, axis=1), mean, first_out, heat)

    def predict(self, images, **kw):
        """The class of each image (classify(...).labels)."""
        return self.classify(images, **kw).labels

    def evaluate(self, data, *, split="t10k", limit=None, trajectories=10, seed=None,
                 temperature=300.0, mac_energy=1e-12, progress=None):
        """thermo classify eval: the first limit images of a split of the IDX
        folder data classified by trajectories trajectories each
        (th_student_evaluate); a dict of top1, top2, single_top1,
        single_top2, heat (per trajectory: count, mean, sd, min, max,
        negative), heat_class_kT, heat_class_J, teacher_macs, digital_J,
        ratio (None when undefined) and more."""
        L.choice_arg(split, "split", ["train", "t10k"])
        limit = _ALL if limit is None else L.count_arg(limit, "limit")
        sp = self._settings(seed)
        eo = lib.th_student_eval_opts_default()
        eo.trajectories = L.count_arg(trajectories, "trajectories")
        d, X = _student_images(self, data, split, limit)
        r = S.th_student_report()
        p = L.Progress(progress)
        eo.progress = p.fn
        try:
            with p:
                rc = lib.th_student_evaluate(ctypes.byref(self._st), ctypes.byref(sp), d, X,
                                             ctypes.byref(eo), L.real_arg(temperature,
                                                                          "temperature"),
                                             L.real_arg(mac_energy, "mac_energy"),
                                             ctypes.byref(r))
            p.check(rc)
        finally:
            L.free(X)
            lib.th_dataset_free(d)
        out = L.struct_to_dict(r)
        if not out.pop("ratio_defined"):
            out["ratio"] = None
        return out

    def energy_ledger(self, data, n=1000, *, split="t10k", trajectories=10, seed=None,
                      temperature=300.0, time_unit=1e-6, mac_energy=1e-12, network=None,
                      steps=0, rapl_root=None, name="student", progress=None):
        """thermo energy's ledger of a classifier (th_energy_run_student): the
        first n images of a split of data, each classified by trajectories
        trajectories, as a dict (the keys of thermo energy --json)."""
        L.choice_arg(split, "split", ["train", "t10k"])
        sp = self._settings(seed)
        o, keep = E.options(temperature, time_unit, mac_energy, network, steps,
                            trajectories=trajectories, rapl_root=rapl_root)
        d, X = _student_images(self, data, split, L.count_arg(n, "n"))
        p = L.Progress(progress)
        o.progress = p.fn
        st = self._st

        def run(book):
            with p:
                rc = lib.th_energy_run_student(st.model, ctypes.byref(sp), st.widths,
                                               st.n_widths, X, d.contents.labels,
                                               d.contents.count, ctypes.byref(o), book)
            p.check(rc)
            return rc
        try:
            return E.ledger(run, name)
        finally:
            L.free(X)
            lib.th_dataset_free(d)
            del keep

    def __repr__(self):
        sp = self._st.params
        return "thermo.Student(%d input + %d hidden + %d output, t_f %g)" % (
            sp.n_input, sp.n_hidden, sp.n_output, sp.t_f)


def _student_images(student, data, split, limit):
    """th_student_images: the split's dataset and its prepared inputs (the
    library mallocs X; free it with L.free)."""
    d = ctypes.POINTER(S.th_dataset)()
    X = ctypes.POINTER(ctypes.c_float)()
    L.check(lib.th_student_images(ctypes.byref(student._st), L.path_arg(data, "data"),
                                  split.encode(), limit, ctypes.byref(d), ctypes.byref(X)))
    return d, X
