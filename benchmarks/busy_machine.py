"""Threads on a shared machine: fits on 1 and on 2 threads, on a quiet machine and
beside one CPU-bound process (another fit, a test run, a GridSearchCV worker).  The
goal: a 2-thread fit is never slower than the 1-thread fit by more than 10% when one
core is taken.  The figures in ``fastgd/_config.py`` come from here.

    python benchmarks/busy_machine.py [--n-samples 200000] [--repeat 3]

Run it with ``OMP_WAIT_POLICY=active`` to see what spinning threads cost (fastgd sets
a passive policy for itself unless the user set one).
"""
import argparse
import multiprocessing
import pathlib
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import fastgd  # noqa: E402
from fastgd.bench.synthetic import dense_regression, sparse_classification  # noqa: E402
from fastgd.bench.tables import markdown_row, markdown_table  # noqa: E402


def _spin(stop):
    """Keep one core busy until ``stop`` is set."""
    x = 0
    while not stop.is_set():
        x += 1


def cases(n):
    """{name: (estimator class, parameters, X, y)} of the cases at ``n`` rows."""
    rng = np.random.default_rng(0)
    X, y = dense_regression(n, 100, rng)
    Xs, ys = sparse_classification(n, 50_000, 50, rng)
    reg, clf = fastgd.SGDRegressor, fastgd.SGDClassifier
    return {
        "per-sample SGD, dense (defaults)": (reg, dict(), X, y),
        "mini-batch 256, dense": (reg, dict(batch_size=256), X, y),
        "mini-batch 8192, sparse": (clf, dict(batch_size=8192, loss="log_loss"),
                                    Xs, ys),
        "lbfgs, dense": (reg, dict(batch_size="full", optimizer="lbfgs"), X, y),
        "lbfgs, sparse": (clf, dict(batch_size="full", optimizer="lbfgs",
                                    loss="log_loss", alpha=1e-5), Xs, ys),
    }


def timed(est, params, X, y, n_jobs, repeat):
    """The median seconds of ``repeat`` fits of 10 epochs (or iterations)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        est(max_iter=10, tol=None, random_state=0, n_jobs=n_jobs, **params).fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    header = ("case", "machine", "1 thread", "2 threads", "2 / 1")
    print("\n".join(markdown_table(header, [])))
    for name, (est, params, X, y) in cases(args.n_samples).items():
        timed(est, params, X, y, 1, 1)  # warm-up
        for machine in ("quiet", "busy"):
            stop = multiprocessing.Event()
            spinner = multiprocessing.Process(target=_spin, args=(stop,))
            if machine == "busy":
                spinner.start()
                time.sleep(0.5)
            one, two = (timed(est, params, X, y, j, args.repeat) for j in (1, 2))
            if machine == "busy":
                stop.set()
                spinner.join()
            print(markdown_row((name, machine, f"{one:.3f}s", f"{two:.3f}s",
                                f"{two / one:.2f}")), flush=True)


if __name__ == "__main__":
    main()
