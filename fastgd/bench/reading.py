"""``python -m fastgd bench --read``: how fast a libsvm file is read, fastgd's reader
(``fastgd._files.readers.DataFile``, on the parser of ``fastgd._files._libsvm``) next
to scikit-learn's ``load_svmlight_file`` and Vowpal Wabbit's parser, on the same rows.

The file is written once to a temporary folder: ``--n-samples`` rows of random sparse
features (``--read-features`` columns, 3% of them set, values with 4 decimals, as
in the common libsvm data sets), binary labels.  Vowpal Wabbit (``pip install
vowpalwabbit``, run as ``python -m vowpalwabbit --noop``: it parses every example and
learns nothing) reads the same rows in its own text format; its start-up, timed on an
empty file, is subtracted.  Each reader is timed ``--repeat`` times, alternating; the
table gives the median.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

from fastgd.bench.tables import markdown_table, show, times


def write_files(folder, n_rows, n_features, density, seed=0):
    """The libsvm file and the same rows in Vowpal Wabbit's format."""
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(seed)
    X = sp.random(n_rows, n_features, density=density, format="csr",
                  random_state=seed, data_rvs=rng.standard_normal)
    X.data = np.round(X.data, 4)
    y = rng.integers(0, 2, n_rows)
    libsvm = os.path.join(folder, "data.svm")
    dump_svmlight_file(X, y, libsvm, zero_based=False)
    vw = os.path.join(folder, "data.vw")
    with open(libsvm, "rb") as source, open(vw, "wb") as target:
        for line in source:
            label, _, features = line.partition(b" ")
            target.write(b"1" if label == b"1" else b"-1")
            target.write(b" | " + features)
    return libsvm, vw


def _vw_available():
    """Whether Vowpal Wabbit's Python package is installed."""
    try:
        import vowpalwabbit  # noqa: F401
    except ImportError:
        return False
    return True


def _vw_seconds(path):
    """Seconds of ``python -m vowpalwabbit --noop`` reading ``path``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vowpalwabbit", "--noop", "--quiet", "-d",
                    path], check=True, capture_output=True)
    return time.perf_counter() - start


def readers(libsvm, vw, empty_vw, threads):
    """The contenders: each reads the file once and returns its seconds.

    Parameters
    ----------
    libsvm : str
        The libsvm file (``write_files``).
    vw, empty_vw : str or None
        The same rows in Vowpal Wabbit's format, and an empty file (its start-up);
        ``vw=None`` leaves Vowpal Wabbit out.
    threads : list of int
        The thread counts of fastgd's reader.

    Returns
    -------
    dict of str to callable
        Name -> a callable of no arguments returning the seconds of one read.
    """
    from sklearn.datasets import load_svmlight_file

    from fastgd._files.readers import DataFile

    def timed(read):
        def run():
            start = time.perf_counter()
            read()
            return time.perf_counter() - start
        return run

    out = {"scikit-learn load_svmlight_file": timed(lambda: load_svmlight_file(
        libsvm))}
    for n in threads:
        out[f"fastgd DataFile, {n} thread{'s' if n > 1 else ''}"] = timed(
            lambda n=n: DataFile(libsvm, chunk_bytes=1 << 40, n_threads=n).read_all())
    if vw is not None:
        out["Vowpal Wabbit --noop (start-up subtracted)"] = (
            lambda: _vw_seconds(vw) - _vw_seconds(empty_vw))
    return out


def run(n_rows, n_features, threads, repeat, markdown=None):
    """Write the files, time every reader, print the table."""
    with tempfile.TemporaryDirectory() as folder:
        libsvm, vw = write_files(folder, n_rows, n_features, 0.03)
        empty_vw = os.path.join(folder, "empty.vw")
        open(empty_vw, "w").close()
        size_mb = os.path.getsize(libsvm) / 2**20
        contenders = readers(libsvm, vw if _vw_available() else None, empty_vw,
                             threads)
        seconds = {name: [] for name in contenders}
        # alternating, as ``timing.alternating_medians``; each reader times itself
        # (Vowpal Wabbit's start-up is subtracted)
        for _ in range(repeat):
            for name, read in contenders.items():
                seconds[name].append(read())
    medians = {name: float(np.median(values)) for name, values in seconds.items()}
    base = medians["scikit-learn load_svmlight_file"]
    lines = [f"libsvm file: {n_rows:,} rows x {n_features:,} features, 3% set, "
             f"{size_mb:.0f} MB; median of {repeat}", ""]
    lines += markdown_table(
        ("reader", "seconds", "MB/s", "rows/s", "vs scikit-learn"),
        [(name, f"{t:.3f}", f"{size_mb / t:.0f}", f"{n_rows / t:,.0f}",
          times(base / t, digits=1)) for name, t in medians.items()])
    if not _vw_available():
        lines.append("")
        lines.append("Vowpal Wabbit is not installed (pip install vowpalwabbit).")
    show(lines, markdown)
