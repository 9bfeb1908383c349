"""Energy ledgers (include/thermo/energy.h) as dicts: the JSON that
thermo energy --json writes (th_energy_ledger_json), parsed."""
import ctypes
import json
import os

import numpy as np

from . import _lib as L
from . import _structs as S

lib = L.lib


def options(temperature=300.0, time_unit=1e-6, mac_energy=1e-12, network=None, steps=0,
            trajectories=None, rapl_root=None):
    """th_energy_opts from keywords, and what must stay alive with it."""
    o = lib.th_energy_opts_default()
    o.temperature_K = L.real_arg(temperature, "temperature")
    o.time_unit_s = L.real_arg(time_unit, "time_unit")
    o.mac_energy_J = L.real_arg(mac_energy, "mac_energy")
    o.steps = L.count_arg(steps, "steps", 0)
    if trajectories is not None:
        o.trajectories = L.count_arg(trajectories, "trajectories")
    keep = []
    if network is not None:
        widths = L.array_in(network, "network", np.uintp, (None,))
        if not 2 <= widths.size <= S.ENERGY_MAX_LAYERS:
            raise ValueError("network: expected 2 to %d layer widths, got %d"
                             % (S.ENERGY_MAX_LAYERS, widths.size))
        o.network = widths.ctypes.data_as(S.c_size_p)
        o.n_layers = widths.size
        keep.append(widths)
    # Line (c) reads the RAPL counters under rapl_root, by default where
    # THERMO_POWERCAP points (as for thermo energy), else /sys/class/powercap.
    root = rapl_root if rapl_root is not None else os.environ.get("THERMO_POWERCAP") or None
    if root is not None:
        root = L.path_arg(root, "rapl_root")
        o.rapl_root = root
        keep.append(root)
    return o, keep


def ledger(run, name):
    """Runs run(ledger_pointer) (a th_energy_run_* call returning its status)
    and returns the ledger as a dict, name recorded as its "model"."""
    book = S.th_energy_ledger()
    L.check(run(ctypes.byref(book)))
    text = lib.th_energy_ledger_json(ctypes.byref(book), name.encode(), None)
    if not text:
        raise L.Error("out of memory for the energy ledger's JSON", L.ENOMEM)
    try:
        return json.loads(ctypes.string_at(text).decode())
    finally:
        L.free(text)
