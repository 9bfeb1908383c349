"""Charts drawn by the library's own plotter (th_chart_draw, include/thermo/io.h):
the same look as every picture the thermo tool writes, with no plotting
package needed.

    import thermo.chart
    thermo.chart.draw("curve.png", title="heat against t_f",
                      x_title="t_f (1/mu)", y_title="heat per sample (kT)",
                      series=[{"x": tf, "y": heat, "label": "S = 1", "markers": True}])

A series is a dict: "x", "y" (numbers of the same length; a histogram's "x"
has one more, its bin edges), and optionally "kind" ("line", "bars",
"vline", "hline"), "err" (error bars of a line), "label" (legend entry),
"rgb" (three 0..255 values), "dashed", "markers", "pen" (line width in
pixels). An axis is linear unless x_log or y_log; fixed ranges come as
x_range / y_range = (lo, hi), and x_ticks / y_ticks evenly spaced ticks of a
linear axis, its ends included (6).
"""
import ctypes

import numpy as np

from . import _structs as S
from ._lib import array_in, check, check_ptr, choice_arg, count_arg, lib, path_arg, ptr

KINDS = ["line", "bars", "vline", "hline"]
LEGENDS = ["top right", "top left", "bottom left", "bottom right"]
# The tool's palette: distinct on white and in grey print.
PALETTE = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
           (23, 190, 207), (140, 86, 75), (127, 127, 127)]


def _axis(title, log, fixed, ticks, name):
    a = S.th_chart_axis()
    a.scale = 1 if log else 0
    a.title = title.encode() if title else None
    a.pad = 0.05
    a.ticks = count_arg(ticks, name.replace("range", "ticks"), 0)
    a.numbers = 1
    a.grid = 1
    if fixed is not None:
        lo, hi = (float(v) for v in fixed)
        if not lo < hi:
            raise ValueError("%s: expected (lo, hi) with lo < hi, got %r" % (name, fixed))
        a.fixed, a.lo, a.hi = 1, lo, hi
    return a


def draw(path, series, title=None, x_title=None, y_title=None, x_log=False, y_log=False,
         x_range=None, y_range=None, x_ticks=6, y_ticks=6, width=720, height=480,
         legend="top right", magnify=1):
    """Draws the series and writes the chart to path as a PNG (atomic).
    thermo.Error when there is nothing to show (th_chart_layout's reasons);
    TypeError / ValueError naming a bad argument."""
    if not series:
        raise ValueError("series: expected at least one")
    chart = S.th_chart()
    chart.width = count_arg(width, "width", 64)
    chart.height = count_arg(height, "height", 64)
    chart.title = title.encode() if title else None
    chart.x = _axis(x_title, x_log, x_range, x_ticks, "x_range")
    chart.y = _axis(y_title, y_log, y_range, y_ticks, "y_range")
    chart.legend = choice_arg(legend, "legend", LEGENDS)
    arr = (S.th_chart_series * len(series))()
    keep = []  # the arrays the C structures point into, alive until drawn
    for k, spec in enumerate(series):
        name = "series[%d]" % k
        kind = choice_arg(spec.get("kind", "line"), name + ".kind", KINDS)
        s = arr[k]
        s.kind = kind
        x = array_in(spec["x"], name + ".x", np.float64, (None,)) if kind != 3 else None
        y = array_in(spec["y"], name + ".y", np.float64, (None,)) if kind != 2 else None
        n = len(x) if kind == 2 else len(y)
        if kind == 0 and len(x) != n:
            raise ValueError("%s: x and y differ in length (%d, %d)" % (name, len(x), n))
        if kind == 1 and len(x) != n + 1:
            raise ValueError("%s: bars need len(x) = len(y) + 1 (bin edges)" % name)
        s.x, s.y, s.n = ptr(x), ptr(y), n
        if spec.get("err") is not None:
            err = array_in(spec["err"], name + ".err", np.float64, (n,))
            s.err = ptr(err)
            keep.append(err)
        rgb = spec.get("rgb", PALETTE[k % len(PALETTE)])
        for j in range(3):
            s.rgb[j] = int(rgb[j])
        s.dashed = int(bool(spec.get("dashed", False)))
        s.markers = int(bool(spec.get("markers", False)))
        s.pen = count_arg(spec.get("pen", 2), name + ".pen", 1)
        label = spec.get("label")
        s.label = label.encode() if label else None
        keep += [x, y, s.label]
    chart.series = ctypes.cast(arr, ctypes.POINTER(S.th_chart_series))
    chart.n_series = len(series)
    canvas = check_ptr(lib.th_chart_draw(ctypes.byref(chart)))
    try:
        check(lib.th_png_write(path_arg(path, "path"), canvas, count_arg(magnify, "magnify")))
    finally:
        lib.th_canvas_free(canvas)
