"""``fastgd compare`` (what ``python -m fastgd`` runs when no command is given):
fastgd and scikit-learn side by side on generated data.

Each case trains both libraries on the same arrays, alternating runs, and prints the
median fit time, the speedup and the score each reached (R^2, accuracy, or the share
of rows inside the boundary), so a faster fit that learns less is visible.
"""
import argparse
import time

import numpy as np

from fastgd._cli.commands import plain_text
from fastgd.bench.synthetic import dense_multiclass, dense_regression, sparse_classification


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


def compare(argv):
    """``fastgd compare``: the side-by-side table of four cases."""
    import fastgd
    from sklearn import linear_model

    parser = argparse.ArgumentParser(
        prog="fastgd compare", description=plain_text(__doc__),
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
