"""``python -m fastgd``: fastgd and scikit-learn side by side on generated data
(``fastgd train`` / ``fastgd predict``: the estimators on libsvm, CSV and Parquet
files, see ``fastgd._cli``;
``python -m fastgd bench``: with every installed peer, see ``fastgd._compare``;
``python -m fastgd bench --tta``: time to an objective gap, ``fastgd._time_to_gap``;
``python -m fastgd bench --dask``: the same on a Dask cluster, ``fastgd._dask_bench``;
``python -m fastgd bench --read``: reading a libsvm file, ``fastgd._read_bench``).

Each case trains both libraries on the same arrays, alternating runs, and prints the
median fit time, the speedup and the score each reached (R^2 or accuracy), so a faster
fit that learns less is visible.
"""
import argparse
import os
import time

import numpy as np

from fastgd._data import dense_multiclass, dense_regression, sparse_classification


def plain_text(doc):
    """A docstring for the terminal: without reStructuredText's double backticks."""
    return doc.replace("``", "")


def side_by_side(make_ours, make_theirs, X, y, repeat):
    """Alternate the two fits; return median times and the last fitted models."""
    times = {"ours": [], "theirs": []}
    models = {}
    for _ in range(repeat):
        for key, make in (("ours", make_ours), ("theirs", make_theirs)):
            start = time.perf_counter()
            models[key] = make().fit(X, y)
            times[key].append(time.perf_counter() - start)
    return (float(np.median(times["ours"])), float(np.median(times["theirs"])),
            models["ours"], models["theirs"])


def bench(argv):
    """``python -m fastgd bench``: the side-by-side table with every installed peer."""
    from fastgd import _compare

    parser = argparse.ArgumentParser(
        prog="python -m fastgd bench", description=plain_text(_compare.__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", help="write the table to this Markdown file")
    parser.add_argument("--plot", help="write a chart to this image (matplotlib)")
    parser.add_argument("--tta", action="store_true",
                        help="time to relative objective gaps 1e-2 and 1e-4 instead "
                             "(fastgd._time_to_gap), at --threads")
    parser.add_argument("--threads", default="1,2,all",
                        help="--tta: comma-separated thread counts ('all': every core)")
    parser.add_argument("--max-seconds", type=float, default=30.0,
                        help="--tta, --dask: stop growing a contender's budget past a "
                             "fit this long")
    parser.add_argument("--dask", action="store_true",
                        help="time to gap on a Dask LocalCluster, fastgd next to "
                             "dask-ml (fastgd._dask_bench); --n-samples rows of dense "
                             "data (default 2,000,000) and --sparse-samples of sparse")
    parser.add_argument("--sparse-samples", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2,
                        help="--dask: worker processes (1 thread each)")
    parser.add_argument("--chunk-rows", type=int, default=125_000)
    parser.add_argument("--read", action="store_true",
                        help="reading a libsvm file: fastgd next to scikit-learn and "
                             "Vowpal Wabbit (fastgd._read_bench); --n-samples rows")
    parser.add_argument("--read-features", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.read:
        from fastgd import _read_bench

        cores = os.cpu_count() or 1
        _read_bench.run(args.n_samples, args.read_features,
                        sorted({1, cores}), args.repeat, args.markdown)
        return
    if args.dask:
        from fastgd import _dask_bench

        n = args.n_samples if "--n-samples" in argv else 2_000_000
        _dask_bench.run(n, args.sparse_samples, args.workers, args.chunk_rows,
                        args.max_seconds, args.markdown)
        return
    if args.tta:
        from fastgd import _time_to_gap

        cores = os.cpu_count() or 1
        threads = sorted({cores if t == "all" else int(t)
                          for t in args.threads.split(",")})
        _time_to_gap.run(args.n_samples, threads, args.markdown, args.plot,
                         args.max_seconds)
        return
    _compare.run(args.n_samples, args.n_jobs, args.repeat, args.markdown, args.plot)


def main(argv=None):
    import sys

    import fastgd
    from sklearn import linear_model

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        return bench(argv[1:])
    if argv[:1] in (["train"], ["predict"]):
        from fastgd import _cli

        command = _cli.train if argv[0] == "train" else _cli.predict
        try:
            command(argv[1:])
        except (ValueError, FileNotFoundError, ImportError) as error:
            sys.exit(f"fastgd {argv[0]}: error: {error}")
        except BrokenPipeError:  # the reader went away (``| head``): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        return None
    parser = argparse.ArgumentParser(
        prog="python -m fastgd", description=plain_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n = args.n_samples
    fastgd.show_config()
    print()
    cases = [
        ("dense regression, squared error + L2", fastgd.SGDRegressor,
         linear_model.SGDRegressor, dict(penalty="l2"), dense_regression(n, 100, rng)),
        ("sparse binary, log loss", fastgd.SGDClassifier, linear_model.SGDClassifier,
         dict(loss="log_loss", alpha=1e-6),
         sparse_classification(n, 50_000, 50, rng)),
        ("dense 5 classes, hinge (one-vs-rest)", fastgd.SGDClassifier,
         linear_model.SGDClassifier, dict(loss="hinge"),
         dense_multiclass(n // 4, 50, 5, rng)),
        ("dense one-class SVM, nu=0.1", fastgd.SGDOneClassSVM,
         linear_model.SGDOneClassSVM, dict(nu=0.1),
         (dense_regression(n, 100, rng)[0] + 1.0, None)),
    ]
    print(f"{'case':40s} {'n x d':>16s} {'fastgd':>9s} {'sklearn':>9s} {'speedup':>8s}"
          f" {'score fastgd':>13s} {'score sklearn':>14s}")
    for name, ours, theirs, kw, (X, y) in cases:
        common = dict(max_iter=5, tol=None, random_state=0, **kw)
        threads = {} if ours is fastgd.SGDOneClassSVM else dict(n_jobs=args.n_jobs)
        t_ours, t_theirs, m_ours, m_theirs = side_by_side(
            lambda: ours(**threads, **common), lambda: theirs(**common),
            X, y, args.repeat)
        shape = f"{X.shape[0]} x {X.shape[1]}"
        print(f"{name:40s} {shape:>16s} {t_ours:8.3f}s {t_theirs:8.3f}s "
              f"{t_theirs / t_ours:7.2f}x {_score(m_ours, X, y):13.4f} "
              f"{_score(m_theirs, X, y):14.4f}")
    print("\n5 epochs each, same arrays, median of", args.repeat, "alternating runs;"
          " score = R^2 (regression), accuracy (classification) or the share of rows"
          " inside the boundary (one-class) on the training data.")


def _score(model, X, y):
    if y is None:  # one-class: the rows it keeps inside
        return float(np.mean(model.predict(X) == 1))
    return model.score(X, y)


if __name__ == "__main__":
    main()
