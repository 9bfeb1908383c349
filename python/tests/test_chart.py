"""thermo.chart: the library's plotter from Python."""
import struct

import numpy as np
import pytest

import thermo
import thermo.chart


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_draws_lines_bars_and_references(tmp_path):
    out = tmp_path / "c.png"
    thermo.chart.draw(out, title="a test", x_title="x", y_title="y", width=300, height=200,
                      magnify=2, series=[
                          {"x": [1, 2, 3], "y": [1.0, 4.0, 9.0], "err": [0.1, 0.2, 0.3],
                           "label": "squares", "markers": True},
                          {"kind": "bars", "x": [0, 1, 2, 3], "y": [2, 3, 1]},
                          {"kind": "hline", "y": [5.0], "label": "five", "dashed": True},
                          {"kind": "vline", "x": [2.5]}])
    assert _png_size(out) == (600, 400)


def test_log_axes_and_fixed_ranges(tmp_path):
    out = tmp_path / "log.png"
    x = np.logspace(0, 3, 10)
    thermo.chart.draw(out, [{"x": x, "y": 1 / x}], x_log=True, y_log=True,
                      x_range=(1, 1000), y_range=(1e-3, 1), legend="bottom left")
    assert _png_size(out) == (720, 480)


def test_bad_arguments_are_named(tmp_path):
    out = tmp_path / "bad.png"
    with pytest.raises(ValueError, match="series\\[0\\]: x and y differ"):
        thermo.chart.draw(out, [{"x": [1, 2], "y": [1]}])
    with pytest.raises(ValueError, match="bin edges"):
        thermo.chart.draw(out, [{"kind": "bars", "x": [1, 2], "y": [1, 2]}])
    with pytest.raises(ValueError, match="series\\[0\\].kind"):
        thermo.chart.draw(out, [{"kind": "pie", "x": [1], "y": [1]}])
    with pytest.raises(ValueError, match="y_range"):
        thermo.chart.draw(out, [{"x": [1], "y": [1]}], y_range=(2, 1))
    with pytest.raises(ValueError, match="finite"):
        thermo.chart.draw(out, [{"x": [1, 2], "y": [1, float("nan")]}])
    # nothing positive on a log axis: the library's own message
    with pytest.raises(thermo.Error, match="axis"):
        thermo.chart.draw(out, [{"x": [1, 2], "y": [-1, -2]}], y_log=True)
    assert not out.exists()
