"""Generative thermodynamic computers (Whitelam, PRL 2026; include/thermo/gen.h):
train one from a preset (thermo train's recipes), sample from it, weigh its
heat. Generator.train makes the library calls thermo train makes
(tools/thermo/cmd_train.c), so the same settings give the same model file,
byte for byte, and the same samples."""
import ctypes
import os

import numpy as np

from . import _lib as L
from . import _structs as S
from . import energy as E
from .model import Model

lib = L.lib

SOLVERS = ("gd", "exact")
HIDDEN_DRIVES = ("copy", "projection")


def _preset_names():
    names, arr, k = [], lib.th_gen_recipe_names(), 0
    while arr[k] is not None:
        names.append(arr[k].decode())
        k += 1
    return tuple(names)


PRESETS = _preset_names()
_HERE = os.path.dirname(os.path.abspath(__file__))


def data_dir(path):
    """A recipe's data folder: the path as given when it exists (relative to
    the working directory, as for thermo train); else, for a relative path
    such as the presets' "data/prl2026", the copy make python puts in the
    package, or the source tree's."""
    path = os.fsdecode(path)
    if os.path.isdir(path) or os.path.isabs(path):
        return path
    for base in (_HERE, os.path.join(_HERE, os.pardir, os.pardir)):
        candidate = os.path.normpath(os.path.join(base, path))
        if os.path.isdir(candidate):
            return candidate
    return path


def _params_dict(gp):
    d = L.struct_to_dict(gp)
    d["hidden_drive"] = HIDDEN_DRIVES[d["hidden_drive"]]
    return d


class _Protocol:
    """Owns a th_gen_protocol (several segments' models); passes as its
    pointer to the library (ctypes' _as_parameter_)."""

    def __init__(self, ptr):
        self._as_parameter_ = ctypes.c_void_p(ptr)

    def __bool__(self):
        return bool(self._as_parameter_.value)

    def segment(self, s):
        """Segment s's model, owned by the protocol (a Model that keeps it
        alive)."""
        return Model._wrap(lib.th_gen_protocol_segment(self, s), owner=self)

    def __del__(self):
        if getattr(self, "_as_parameter_", None) and self._as_parameter_.value:
            lib.th_gen_protocol_free(self._as_parameter_)
            self._as_parameter_ = ctypes.c_void_p()


class Generator:
    """A trained generative computer: its model (a thermo.Model), its
    settings (.params, th_gen_params as a dict), the metadata it is saved
    with (.meta), the picture shape (.shape, rows x cols) and, after
    training, .loss (gradient descent: one loss per update) or .report (the
    exact solver's numbers)."""

    def __init__(self, model, gp, meta, shape, protocol=None):
        self.model = model
        self._gp = gp
        self.meta = meta
        self.shape = shape
        self.loss = None
        self.report = None
        # a time-dependent protocol (a _Protocol) of gp.segments > 1
        # segments; .model is then its segment 0
        self._protocol = protocol

    @property
    def segments(self):
        """Segments of the generation time over which the couplings and
        biases are constant (th_gen_params.segments; 1: the paper's)."""
        return self._gp.segments

    @property
    def params(self):
        return _params_dict(self._gp)

    @property
    def steps(self):
        """Steps of each phase (th_gen_steps)."""
        return lib.th_gen_steps(ctypes.byref(self._gp))

    # --------------------------------------------------------- training

    @classmethod
    def train(cls, preset="prl2026", *, data=None, images=None, pool=None, classes=None,
              class_visible=None, visible_bias=None, solver=None, updates=None, lr=None,
              batch=None, paths=None, stride=None, ridge=None, t_f=None, hidden=None,
              hidden_drive=None, drive=None, ramp_fraction=None, segments=None,
              segment_penalty=None, readout_window=None, class_ridge=None, bias_ridge=None,
              latent_classes=None, hidden_double_well=None, styles=None, seed=None,
              progress=None):
        """Trains a generator as thermo train --preset PRESET does, each
        keyword overriding the preset as the option of the same name does
        (lr is --lr, t_f --t-f, ramp_fraction --ramp). solver "gd" (gradient
        descent, the paper's recipe) or "exact" (the least-squares
        minimiser). segments S > 1 trains a time-dependent protocol (thermo
        train --segments: couplings and biases constant over each of S
        segments of the generation time), segment_penalty ties neighbouring
        segments in the exact solver, readout_window W is recorded as the
        samples' readout (sample() then averages the last W steps);
        visible_bias trains the pixels' biases, drive and ramp_fraction set the
        noise schedule; class_ridge and bias_ridge (exact solver, per path)
        penalise the class biases and the trained biases; latent_classes
        records a conditional computer's samples as unconditional;
        hidden_double_well puts the hidden units in double wells; styles K
        gives each class K style codes (thermo train --styles: balanced
        k-means clusters of its images; a sample draws its style).
        progress(done, total) counts updates (gd), or paths
        then conjugate-gradient iterations (exact; total 0). A bad value
        raises ValueError or TypeError naming the argument."""
        r = S.th_gen_recipe()
        L.choice_arg(preset, "preset", list(PRESETS))
        L.check(lib.th_gen_recipe_preset(preset.encode(), ctypes.byref(r)))
        counts = {"images": (images, 0), "pool": (pool, 1), "updates": (updates, 1),
                  "batch": (batch, 1), "paths": (paths, 0), "stride": (stride, 1),
                  "hidden": (hidden, 1), "seed": (seed, 0), "segments": (segments, 1),
                  "readout_window": (readout_window, 0), "styles": (styles, 0)}
        for field, (value, minimum) in counts.items():
            if value is not None:
                setattr(r, field, L.count_arg(value, field, minimum))
        if r.segments > S.GEN_MAX_SEGMENTS:
            raise ValueError("segments: expected 1 to %d, got %d" % (S.GEN_MAX_SEGMENTS,
                                                                   r.segments))
        names = {"learning_rate": "lr"}
        for field, value in (("learning_rate", lr), ("ridge", ridge), ("t_f", t_f),
                             ("drive", drive), ("ramp_fraction", ramp_fraction),
                             ("segment_penalty", segment_penalty),
                             ("class_ridge", class_ridge), ("bias_ridge", bias_ridge)):
            if value is not None:
                setattr(r, field, L.real_arg(value, names.get(field, field)))
                if field.endswith("ridge") and getattr(r, field) < 0:
                    raise ValueError("%s: expected a value >= 0, got %r" % (field, value))
        # thermo train's option kinds: --drive and --ramp positive (the ramp
        # ends within t_f), --segment-penalty at least 0
        if drive is not None and not r.drive > 0:
            raise ValueError("drive: expected a value > 0, got %r" % drive)
        if ramp_fraction is not None and not 0 < r.ramp_fraction <= 1:
            raise ValueError("ramp_fraction: expected a value in (0, 1], got %r" % ramp_fraction)
        if segment_penalty is not None and r.segment_penalty < 0:
            raise ValueError("segment_penalty: expected a value >= 0, got %r" % segment_penalty)
        for field, value in (("classes", classes), ("class_visible", class_visible),
                             ("visible_bias", visible_bias),
                             ("latent_classes", latent_classes),
                             ("hidden_double_well", hidden_double_well)):
            if value is not None:
                setattr(r, field, int(bool(value)))
        if r.styles > 1 and not r.classes:
            raise ValueError("styles: splits classes into styles; it needs classes=True")
        if solver is not None:
            r.solver = L.choice_arg(solver, "solver", list(SOLVERS))
        if r.solver == 0 and r.segment_penalty > 0:
            raise ValueError("segment_penalty: applies to the exact solver (solver='exact')")
        if hidden_drive is not None:
            r.hidden_drive = L.choice_arg(hidden_drive, "hidden_drive", list(HIDDEN_DRIVES))
        folder = os.fsencode(data_dir(L.path_arg(data, "data") if data is not None else r.data))
        r.data = folder

        d = ctypes.POINTER(S.th_dataset)()
        L.check(lib.th_dataset_load_dir(folder, b"train", ctypes.byref(d)))
        ts = ctypes.POINTER(S.th_gen_training_set)()
        rc = lib.th_gen_training_set_from_dataset(d, folder, r.images, r.pool, r.classes,
                                                  ctypes.byref(ts))
        lib.th_dataset_free(d)
        L.check(rc)
        rc = lib.th_gen_training_set_styles(ts, r.styles, r.seed)
        if rc != 0:
            lib.th_gen_training_set_free(ts)
            L.check(rc)
        try:
            return cls._train(r, ts, progress)
        finally:
            lib.th_gen_training_set_free(ts)

    @classmethod
    def _train(cls, r, ts, progress):
        gp = S.th_gen_params()
        L.check(lib.th_gen_recipe_params(ctypes.byref(r), ts, ctypes.byref(gp)))
        steps = lib.th_gen_steps(ctypes.byref(gp))
        if r.readout_window > steps:
            raise ValueError("readout_window: at most the %d steps of the computing phase, got "
                             "%d" % (steps, r.readout_window))
        # thermo train trains a protocol of gp.segments segments; one
        # segment is the paper's computer, whose model file is th_model_save's
        protocol = None
        if gp.segments > 1:
            protocol = _Protocol(L.check_ptr(lib.th_gen_protocol_alloc(ctypes.byref(gp), 0)))
            model = protocol.segment(0)
        else:
            model = Model._wrap(L.check_ptr(lib.th_gen_model_alloc(ctypes.byref(gp), 0)))
        t = ts.contents
        p = L.Progress(progress)
        loss, report = None, None
        with p:
            if r.solver == 0:
                to = lib.th_gen_train_opts_default()
                to.updates, to.learning_rate, to.batch = r.updates, r.learning_rate, r.batch
                to.progress = p.fn
                loss = np.zeros(r.updates)
                if protocol:
                    rc = lib.th_gen_protocol_train(protocol, ctypes.byref(gp), t.images,
                                                   t.labels, t.count, ctypes.byref(to), 0,
                                                   L.ptr(loss))
                else:
                    rc = lib.th_gen_train(model._ptr, ctypes.byref(gp), t.images, t.labels,
                                          t.count, ctypes.byref(to), 0, L.ptr(loss))
            else:
                report = S.th_gen_exact_report()
                rc = cls._train_exact(r, gp, t, model, protocol, p, report)
        p.check(rc)
        lo, hi = ctypes.c_float(), ctypes.c_float()
        L.check(lib.th_gen_prepared_range(ctypes.byref(gp), t.images, t.labels, 3,
                                          ctypes.byref(lo), ctypes.byref(hi)))
        with L.c_meta() as meta:
            L.check(lib.th_gen_recipe_to_meta(ctypes.byref(r), ctypes.byref(gp), ts,
                                              ctypes.byref(meta)))
            settings = L.meta_to_dict(meta)
        # The grey range the pictures use, as thermo train records it.
        settings["picture.lo"] = "%.9g" % lo.value
        settings["picture.hi"] = "%.9g" % hi.value
        gen = cls(model, gp, settings, (t.rows, t.cols), protocol)
        gen.loss = loss
        if report is not None:
            gen.report = L.struct_to_dict(report)
        return gen

    @staticmethod
    def _train_exact(r, gp, t, model, protocol, p, report):
        stats = ctypes.c_void_p()
        rc = lib.th_gen_stats_accumulate(ctypes.byref(gp), 0, t.images, t.labels, t.count,
                                         r.paths if r.paths else t.count,
                                         r.batch if r.batch > 1 else 8, r.stride, p.fn, None,
                                         ctypes.byref(stats))
        if rc != L.OK:
            return rc
        try:
            so = lib.th_solve_opts_default()
            so.progress = p.solve_fn
            so.clamped_ridge, so.bias_ridge = r.class_ridge, r.bias_ridge
            if protocol:
                return lib.th_gen_stats_protocol_fit(stats, ctypes.byref(gp), r.ridge,
                                                     r.segment_penalty, None, ctypes.byref(so),
                                                     protocol, ctypes.byref(report))
            return lib.th_gen_stats_fit(stats, ctypes.byref(gp), r.ridge, None, ctypes.byref(so),
                                        model._ptr, ctypes.byref(report))
        finally:
            lib.th_gen_stats_free(stats)

    # ------------------------------------------------------------ files

    @classmethod
    def load(cls, path):
        """A generator from a model file written by thermo train or save():
        its settings from the gen.* metadata, its picture shape from data.*."""
        path = L.path_arg(path, "path")
        out = ctypes.POINTER(S.th_model)()
        with L.c_meta() as meta:
            L.check(lib.th_model_load(path, ctypes.byref(out), ctypes.byref(meta)))
            model = Model._wrap(out)
            gp = S.th_gen_params()
            L.check(lib.th_gen_params_from_meta(ctypes.byref(meta), ctypes.byref(gp)))
            pic = S.th_gen_picture()
            L.check(lib.th_gen_picture_from_meta(path, ctypes.byref(meta), gp.n_visible,
                                                 ctypes.byref(pic)))
            protocol = None
            if gp.segments > 1:  # every segment (th_gen_protocol_load)
                ptr = ctypes.c_void_p()
                q = S.th_gen_params()
                L.check(lib.th_gen_protocol_load(path, ctypes.byref(ptr), ctypes.byref(q), None))
                protocol = _Protocol(ptr.value)
            return cls(model, gp, L.meta_to_dict(meta), (pic.rows, pic.cols), protocol)

    def save(self, path):
        """The model file (atomic), with every setting in its metadata; a
        protocol's with every segment (th_gen_protocol_save)."""
        if not self._protocol:
            self.model.save(path, self.meta)
            return
        with L.c_meta(self.meta) as m:
            L.check(lib.th_gen_protocol_save(L.path_arg(path, "path"), self._protocol,
                                             ctypes.byref(m)))

    # --------------------------------------------------------- sampling

    def _settings(self, seed):
        gp = S.th_gen_params.from_buffer_copy(self._gp)
        if seed is not None:
            gp.seed = L.count_arg(seed, "seed", 0)
        return gp

    def sample(self, n, *, first=0, seed=None, classes=None, batch=None, precision="f32",
               readout_window=None, progress=None):
        """n samples (th_gen_sample): (images (n, rows, cols) float32, heat
        (n) float64 in kT, given to the bath while computing). Sample k uses
        noise stream first + k of seed (default the model's), so any sample
        can be drawn again alone. classes: for a conditional generator, one
        class for all or one per sample (default: sample k of class k mod
        n_classes). precision: "f32", or "bf16" for coupling products with
        couplings and states rounded to bfloat16 and float32 sums (thermo
        sample --precision). readout_window W > 0: each sample is the visible
        units averaged over the last W steps (thermo sample --readout-window);
        None: the model's (its sample.readout_window, as thermo sample reads
        it), else 0, the state at the end.
        A protocol of several segments (.segments) runs segment by segment
        (th_gen_protocol_sample)."""
        n = L.count_arg(n, "n")
        names = ("f32", "bf16")  # th_precision_names(), in th_precision's order
        if precision not in names:
            raise ValueError(f"precision: {precision!r}, expected 'f32' or 'bf16'")
        first = L.count_arg(first, "first", 0)
        if first + n > S.GEN_SAMPLE_STREAM:
            raise ValueError("first, n: sample indices must stay below 2^33")
        gp = self._settings(seed)
        so = lib.th_gen_sample_opts_default()
        so.first = first
        so.precision = names.index(precision)
        if readout_window is None:
            readout_window = int(self.meta.get("sample.readout_window", "0"))
        so.readout_window = L.count_arg(readout_window, "readout_window", 0)
        if batch is not None:
            so.batch = L.count_arg(batch, "batch")
        cls_arr = self._classes(classes, n, gp)
        if cls_arr is not None:
            so.classes = L.ptr(cls_arr)
        images = np.empty((n,) + tuple(self.shape), np.float32)
        heat = np.empty(n, np.float64)
        p = L.Progress(progress)
        so.progress = p.fn
        with p:
            if self._protocol:
                rc = lib.th_gen_protocol_sample(self._protocol, ctypes.byref(gp), n,
                                                ctypes.byref(so), L.ptr(images), L.ptr(heat))
            else:
                rc = lib.th_gen_sample(self.model._ptr, ctypes.byref(gp), n, ctypes.byref(so),
                                       L.ptr(images), L.ptr(heat))
        p.check(rc)
        return images, heat

    @staticmethod
    def _classes(classes, n, gp):
        if classes is None:
            return None
        if not gp.n_classes:
            raise ValueError("classes: this generator is unconditional (no label units)")
        if np.ndim(classes) == 0:
            classes = np.full(n, L.count_arg(classes, "classes", 0), np.intc)
        arr = L.array_in(classes, "classes", np.intc, (n,))
        n_classes = lib.th_gen_classes(ctypes.byref(gp))  # with styles: classes, not codes
        if arr.min() < 0 or arr.max() >= n_classes:
            raise ValueError("classes: expected classes from 0 to %d" % (n_classes - 1))
        return arr

    def energy_ledger(self, n=1000, *, seed=None, temperature=300.0, time_unit=1e-6,
                      mac_energy=1e-12, network=None, steps=0, rapl_root=None, name="generator",
                      progress=None):
        """thermo energy's ledger of n samples (th_energy_run_gen) as a dict:
        the heat per sample against the digital lines (a)-(d), each with its
        assumptions; the keys are those of thermo energy --json. A protocol of
        several segments runs them all (th_energy_run_gen_protocol): the
        ledger adds the switching work and the first law per sample."""
        n = L.count_arg(n, "n")
        gp = self._settings(seed)
        o, keep = E.options(temperature, time_unit, mac_energy, network, steps,
                            rapl_root=rapl_root)
        p = L.Progress(progress)
        o.progress = p.fn

        def run(book):
            with p:
                if self._protocol:
                    rc = lib.th_energy_run_gen_protocol(self._protocol, ctypes.byref(gp), n,
                                                        ctypes.byref(o), book)
                else:
                    rc = lib.th_energy_run_gen(self.model._ptr, ctypes.byref(gp), n,
                                               ctypes.byref(o), book)
            p.check(rc)
            return rc
        out = E.ledger(run, name)
        del keep
        return out

    def __repr__(self):
        gp = self._gp
        return "thermo.Generator(%d visible %s + %d hidden, t_f %g, seed %d)" % (
            gp.n_visible, "x".join(map(str, self.shape)), gp.n_hidden, gp.t_f, gp.seed)
