"""Build of fastgd's Cython extensions.

OpenMP is detected by compiling and linking a tiny test program with the compiler's
OpenMP flag; without it the extensions are built serially, with a warning.  Set
``FASTGD_DEBUG=1`` to build with bounds checking on (for debugging the kernels).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

MODULES = ["_enums", "_losses", "_sgd", "_shuffle", "_batch", "_linear", "_openmp"]
DEBUG = os.environ.get("FASTGD_DEBUG", "0") == "1"

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "cdivision": True,
}

# Reassociation lets the compiler vectorise the dot-product reductions; NaN and inf
# keep their IEEE meaning (no -ffinite-math-only), so divergence checks still work.
FAST_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fassociative-math",
              "-fno-signed-zeros"]

OPENMP_TEST = textwrap.dedent("""
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return n > 0 ? 0 : 1;
    }
""")


def openmp_flags(compiler):
    """Compile and link flags for OpenMP, or None when the compiler has no OpenMP."""
    if compiler.compiler_type == "msvc":
        candidates = [(["/openmp"], [])]
    elif sys.platform == "darwin":
        candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"]),
                      (["-fopenmp"], ["-fopenmp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "omp_test.c")
        with open(src, "w") as f:
            f.write(OPENMP_TEST)
        for cflags, ldflags in candidates:
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                compiler.link_executable(objs, os.path.join(tmp, "omp_test"),
                                         extra_postargs=ldflags)
                subprocess.run([os.path.join(tmp, "omp_test")], check=True,
                               capture_output=True)
                return cflags, ldflags
            except Exception:
                continue
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    """build_ext that adds -O3 and OpenMP when the compiler supports it."""

    def build_extensions(self):
        flags = openmp_flags(self.compiler)
        if flags is None:
            warnings.warn("fastgd: the C compiler does not support OpenMP; building "
                          "serial kernels (n_jobs will have no effect).")
            cflags, ldflags = [], []
        else:
            cflags, ldflags = flags
        opt = ["/O2"] if self.compiler.compiler_type == "msvc" else FAST_FLAGS
        for ext in self.extensions:
            ext.extra_compile_args = opt + cflags
            ext.extra_link_args = ldflags
        super().build_extensions()


extensions = [
    Extension(f"fastgd.{name}", [f"fastgd/{name}.pyx"],
              include_dirs=[np.get_include(), "fastgd"],
              define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")])
    for name in MODULES
]

setup(
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES),
    cmdclass={"build_ext": BuildExt},
)
