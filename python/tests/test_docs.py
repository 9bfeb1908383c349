"""The README's Python quickstart and examples/python/prl_figure.py run as
they stand, from a folder of their own (no data/ beside them)."""
import os
import re
import subprocess
import sys

from conftest import ROOT


def _env():
    # the source tree's package; the library from THERMO_LIBRARY (conftest)
    path = os.path.join(ROOT, "python")
    return dict(os.environ, PYTHONPATH=path + os.pathsep + os.environ.get("PYTHONPATH", ""))


def quickstart():
    """The first ```python block of the README's section "Python"."""
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text[text.index("\n## Python\n"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_quickstart(tmp_path):
    code = quickstart()
    done = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr
    # what it prints, and what the README says it prints
    shape, heat = re.fullmatch(r"(\(10, \d+, \d+\)) (-?[\d.e+-]+)\n", done.stdout).groups()
    promised = re.search(r"# (\(10, \d+, \d+\)) (-?[\d.]+)\.\.\.", code).groups()
    assert shape == promised[0] and heat.startswith(promised[1])


def test_prl_figure_example(tmp_path):
    png = tmp_path / "figure.png"
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python",
                                                        "prl_figure.py"),
                           "--tiny", "--samples", "16", "--out", str(png)],
                          cwd=str(tmp_path), env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "heat mean" in done.stdout
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 520)
