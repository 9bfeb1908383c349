"""The thermo package's build (the metadata is in pyproject.toml): pure
Python, plus two things copied in from the repository around it, so that one
pip command installs a package that works from any folder:

- libthermo.so, which the package calls through ctypes: $THERMO_LIBRARY, or
  ../build/libthermo.so (make builds it). Without it the package still
  installs, and finds the library at run time through THERMO_LIBRARY or an
  installed libthermo.so.0 (make install).
- the three embedded digits of the PRL recipe (../data/prl2026), the data of
  the prl2026 and tiny presets when the working folder has no data/prl2026.
"""
import glob
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


class build_py_with_library(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "thermo")
        library = os.environ.get("THERMO_LIBRARY") or os.path.join(REPO, "build", "libthermo.so")
        if os.path.exists(library):
            self.copy_file(library, os.path.join(target, "libthermo.so"))
        else:
            self.warn("no %s: build it with make, or point THERMO_LIBRARY at it; the package "
                      "will look for the library at run time" % library)
        digits = sorted(glob.glob(os.path.join(REPO, "data", "prl2026", "train-*")))
        if digits:
            self.mkpath(os.path.join(target, "data", "prl2026"))
        for path in digits:
            self.copy_file(path, os.path.join(target, "data", "prl2026", os.path.basename(path)))


setup(cmdclass={"build_py": build_py_with_library})
