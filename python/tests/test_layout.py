"""The ctypes mirrors of the C structures against the C compiler's own
layout: a program compiled from include/thermo.h prints sizeof and offsetof of
every mirrored structure and field, and the constants the mirrors use, which
must equal ctypes' numbers."""
import ctypes
import os
import shutil
import subprocess

import pytest

from thermo import _structs as S


def _program():
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <thermo.h>",
             "int main(void) {"]
    for st in S.STRUCTS:
        name = st.__name__
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (name, name))
        for field in st._fields_:
            lines.append('printf("%s.%s %%zu\\n", offsetof(%s, %s));'
                         % (name, field[0], name, field[0]))
    for name in S.CONSTANTS:
        lines.append('printf("%s %%llu\\n", (unsigned long long)(%s));' % (name, name))
    lines.append("return 0; }")
    return "\n".join(lines) + "\n"


def _python_layout():
    out = []
    for st in S.STRUCTS:
        out.append("%s %d" % (st.__name__, ctypes.sizeof(st)))
        for field in st._fields_:
            out.append("%s.%s %d" % (st.__name__, field[0], getattr(st, field[0]).offset))
    out += ["%s %d" % item for item in S.CONSTANTS.items()]
    return out


def test_struct_layouts_match_the_headers(tmp_path, root):
    cc = shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler to measure the headers' layout")
    src = tmp_path / "layout.c"
    src.write_text(_program())
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", os.path.join(root, "include"), str(src), "-o",
                    str(exe)], check=True)
    c_layout = subprocess.run([str(exe)], check=True, capture_output=True,
                              text=True).stdout.split("\n")[:-1]
    assert c_layout == _python_layout()
