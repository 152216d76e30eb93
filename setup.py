"""Build of fastgd's Cython extensions.

The templates ``fastgd/*.tp`` are first rendered with the tables of
``fastgd/_kernels/_tables.py`` (Tempita, which ships with Cython): the loss types and the
optimizer enum are generated from those tables.  OpenMP is detected by compiling and
linking a tiny test program with the compiler's OpenMP flag; without it the extensions
are built serially, with a warning.  Set ``FASTGD_DEBUG=1`` to build with bounds
checking on (Cython's on memoryviews, fastgd's on the row indices the kernels form).
"""
import glob
import os
import runpy
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

# the extensions, by dotted name: the training and evaluation kernels (and proximal
# Newton's coordinate descent), and the parser of libsvm files
MODULES = [f"fastgd._kernels.{name}" for name in (
    "_enums", "_losses", "_structs", "_sgd", "_shuffle", "_batch", "_evaluate",
    "_coordinate", "_openmp")] + ["fastgd._files._libsvm"]
KERNELS = os.path.join("fastgd", "_kernels")
DEBUG = os.environ.get("FASTGD_DEBUG", "0") == "1"
DEBUG_C_DIR = os.path.join("build", "debug-c")

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
    """build_ext that adds -O3 and OpenMP when the compiler supports it, and compiles
    the extensions in parallel, one per core (``pip install`` passes no ``-j``)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

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


def render_templates():
    """Write ``fastgd/X`` from every ``fastgd/X.tp``, with the tables of
    ``fastgd/_kernels/_tables.py`` in the namespace (only when the text changes, so that an
    unchanged template does not trigger a rebuild)."""
    from Cython.Tempita import Template

    here = os.path.dirname(os.path.abspath(__file__))
    tables = runpy.run_path(os.path.join(here, KERNELS, "_tables.py"))
    namespace = {name: tables[name] for name in ("LOSSES", "SCALAR_LOSSES",
                                                 "OPTIMIZERS")}
    for template in sorted(glob.glob(os.path.join(here, KERNELS, "*.tp"))):
        with open(template) as f:
            text = Template(f.read(), name=template).substitute(namespace)
        target = template[:-len(".tp")]
        if os.path.exists(target):
            with open(target) as f:
                if f.read() == text:
                    continue
        with open(target, "w") as f:
            f.write(text)


render_templates()
macros = [("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")]
if DEBUG:
    macros.append(("FASTGD_DEBUG", "1"))
extensions = [
    Extension(name, [name.replace(".", "/") + ".pyx"],
              include_dirs=[np.get_include(), KERNELS], define_macros=macros)
    for name in MODULES
]

setup(
    # the debug build's C files go elsewhere, so that neither build reuses the other's
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES,
                          build_dir=DEBUG_C_DIR if DEBUG else None,
                          nthreads=os.cpu_count() or 1),
    cmdclass={"build_ext": BuildExt},
)
