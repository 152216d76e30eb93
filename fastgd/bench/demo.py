"""``fastgd compare`` (what ``python -m fastgd`` runs when no command is given):
fastgd and scikit-learn side by side on generated data.

Each case trains both libraries on the same arrays, alternating runs, and prints the
median fit time, the speedup and the score each reached (R^2, accuracy, or the share
of rows inside the boundary), so a faster fit that learns less is visible.
"""
import argparse

import numpy as np

from fastgd._cli.commands import plain_text
from fastgd.bench.synthetic import (
    dense_multiclass, dense_regression, sparse_classification,
)
from fastgd.bench.tables import aligned_row, times
from fastgd.bench.timing import alternating_medians

# the columns of the table and their widths
COLUMNS = ("case", "n x d", "fastgd", "sklearn", "speedup", "score fastgd",
           "score sklearn")
WIDTHS = (40, 16, 9, 9, 8, 13, 14)


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
    print(aligned_row(COLUMNS, WIDTHS))
    for name, ours, theirs, kw, (X, y) in cases:
        common = dict(max_iter=5, tol=None, random_state=0, **kw)
        threads = {} if ours is fastgd.SGDOneClassSVM else dict(n_jobs=args.n_jobs)
        medians = alternating_medians(
            {"fastgd": lambda: ours(**threads, **common).fit(X, y),
             "sklearn": lambda: theirs(**common).fit(X, y)}, args.repeat)
        (t_ours, m_ours), (t_theirs, m_theirs) = medians["fastgd"], medians["sklearn"]
        print(aligned_row((name, f"{X.shape[0]} x {X.shape[1]}", f"{t_ours:.3f}s",
                           f"{t_theirs:.3f}s", times(t_theirs / t_ours),
                           f"{_score(m_ours, X, y):.4f}",
                           f"{_score(m_theirs, X, y):.4f}"), WIDTHS))
    print("\n5 epochs each, same arrays, median of", args.repeat, "alternating runs;"
          " score = R^2 (regression), accuracy (classification) or the share of rows"
          " inside the boundary (one-class) on the training data.")


def _score(model, X, y):
    """The score a fitted model reached on its training data."""
    if y is None:  # one-class: the rows it keeps inside
        return float(np.mean(model.predict(X) == 1))
    return model.score(X, y)
