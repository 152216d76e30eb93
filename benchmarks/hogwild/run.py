"""Measure Hogwild against per-thread replicas for sparse per-sample SGD (see
sparse_threads.c).  Writes the perf-style sparse problem (400,000 x 50,000, Zipf
features, log loss) to a temporary folder, builds the C program with the system
compiler and OpenMP, and runs each mode --repeat times on 1 and --threads threads.

    python benchmarks/hogwild/run.py [--n-samples N] [--threads T] [--repeat R]
"""
import argparse
import pathlib
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from fastgd.bench.synthetic import sparse_classification  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=400_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    here = pathlib.Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        X, y = sparse_classification(args.n_samples, 50_000, 50,
                                     np.random.default_rng(0))
        X.data.astype(np.float64).tofile(tmp / "data.bin")
        X.indices.astype(np.int32).tofile(tmp / "indices.bin")
        X.indptr.astype(np.int64).tofile(tmp / "indptr.bin")
        np.where(y == 1, 1.0, -1.0).tofile(tmp / "y.bin")
        exe = tmp / "sparse_threads"
        cc = sysconfig.get_config_var("CC").split()[0] or "cc"
        subprocess.run([cc, "-O3", "-fopenmp", str(here / "sparse_threads.c"), "-o",
                        str(exe), "-lm"], check=True)
        runs = [("replicas", 1)] + [(mode, args.threads) for mode in
                                    ("replicas", "hogwild")]
        for _ in range(args.repeat):  # alternate the modes, as the other benchmarks
            for mode, threads in runs:
                subprocess.run([str(exe), str(tmp), mode, str(threads)], check=True)


if __name__ == "__main__":
    main()
