"""Regularization paths (``sgd_path``) and the CV estimators: every path's models are
the optimum at their alpha (against fits from scratch and scikit-learn's solvers), the
CV estimators pick the alpha scikit-learn's CV estimators pick on the same folds, and
bad input gets scikit-learn-style errors."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import (
    ElasticNetCV, LogisticRegression, LogisticRegressionCV, enet_path,
)
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold
from sklearn.utils.estimator_checks import check_estimator

import fastgd
from fastgd import SGDClassifierCV, SGDRegressor, SGDRegressorCV, sgd_path

from realdata import txhousing


def _regression(n=600, d=12, seed=0):
    X, y = make_regression(n, d, n_informative=6, noise=10.0, random_state=seed)
    return X, y / y.std()


def test_path_matches_fits_from_scratch_and_enet_path():
    X, y = _regression()
    alphas, coefs, intercepts = sgd_path(X, y, penalty="elasticnet", l1_ratio=0.5,
                                         alphas=8, tol=1e-9)
    assert coefs.shape == (12, 8) and intercepts.shape == (8,)
    assert np.all(np.diff(alphas) < 0)
    # scikit-learn's largest alpha zeroes every weight; so does the path's first
    sk_alphas, sk_coefs, _ = enet_path(X - X.mean(0), y - y.mean(), l1_ratio=0.5,
                                       alphas=alphas, tol=1e-12, max_iter=100_000)
    np.testing.assert_allclose(alphas[0], np.max(np.abs((X - X.mean(0)).T
                                                        @ (y - y.mean()))) / 600 / 0.5)
    assert not np.any(coefs[:, 0])
    np.testing.assert_allclose(coefs, sk_coefs, atol=1e-6)
    for k in (2, 7):
        scratch = SGDRegressor(penalty="elasticnet", l1_ratio=0.5, alpha=alphas[k],
                               batch_size="full", optimizer="lbfgs", tol=1e-9,
                               max_iter=5000).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], scratch.coef_, atol=1e-6)
        np.testing.assert_allclose(intercepts[k], scratch.intercept_[0], atol=1e-6)


def test_logistic_path_matches_logistic_regression_at_mapped_C():
    X, y = make_classification(800, 8, random_state=0)
    alphas, coefs, intercepts = sgd_path(X, y, loss="log_loss", alphas=6, tol=1e-9)
    assert coefs.shape == (8, 6)
    for k in (0, 3, 5):
        lr = LogisticRegression(C=1 / (len(y) * alphas[k]), tol=1e-12,
                                max_iter=10_000).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], lr.coef_[0], atol=1e-5)
        np.testing.assert_allclose(intercepts[k], lr.intercept_[0], atol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multiclass_path_has_a_model_per_class():
    X, y = make_classification(600, 6, n_informative=4, n_classes=3, random_state=0)
    alphas, coefs, intercepts, n_iter = sgd_path(
        X, y, loss="log_loss", penalty="l1", alphas=[1e-2, 1e-1, 1e-3],
        tol=1e-6, return_n_iter=True)
    np.testing.assert_array_equal(alphas, [1e-1, 1e-2, 1e-3])
    assert coefs.shape == (3, 6, 3) and intercepts.shape == (3, 3)
    assert n_iter.shape == (3,)
    scratch = fastgd.SGDClassifier(loss="log_loss", penalty="l1", alpha=1e-2,
                                   batch_size="full", optimizer="lbfgs", tol=1e-6,
                                   max_iter=5000).fit(X, y)
    np.testing.assert_allclose(coefs[:, :, 1], scratch.coef_, atol=1e-4)


@pytest.mark.parametrize("bad, message", [
    ([], "at least one"), ([1.0, -1.0], "positive"), ([np.nan], "positive"),
])
def test_path_refuses_bad_alphas(bad, message):
    X, y = _regression(50, 3)
    with pytest.raises(ValueError, match=message):
        sgd_path(X, y, alphas=bad)
    with pytest.raises(ValueError, match=message):
        SGDRegressorCV(alphas=bad).fit(X, y)


def test_bad_parameters_get_scikit_learn_errors():
    X, y = _regression(50, 3)
    with pytest.raises(ValueError, match="l1_ratio"):
        sgd_path(X, y, l1_ratio=1.5)
    with pytest.raises(ValueError, match="l1_ratio must be in"):
        SGDRegressorCV(l1_ratio=[0.5, 1.2]).fit(X, y)
    with pytest.raises(ValueError, match="needs penalty='elasticnet'"):
        SGDRegressorCV(penalty="l2", l1_ratio=[0.2, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="alphas"):
        SGDClassifierCV(alphas=0).fit(X, y > 0)
    with pytest.raises(ValueError, match="loss"):
        SGDClassifierCV(loss="squared_error").fit(X, y > 0)


def test_failed_fit_leaves_the_estimator_as_it_was():
    X, y = _regression(200, 4)
    est = SGDRegressorCV(alphas=4, cv=3).fit(X, y)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v)
              for k, v in vars(est).items() if k.endswith("_")}
    X_bad = X.copy()
    X_bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X_bad, y)
    est.set_params(alphas=[1.0, -2.0])
    with pytest.raises(ValueError, match="positive"):
        est.fit(X, y)
    assert {k for k in vars(est) if k.endswith("_")} == set(before)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(est, name), value)


def test_classifier_cv_picks_logistic_regression_cv_alpha():
    X, y = make_classification(2000, 10, n_informative=4, flip_y=0.1, random_state=1)
    folds = StratifiedKFold(5)
    n_train = len(y) * 4 // 5  # every training fold's rows: C = 1 / (n_train alpha)
    alphas = np.geomspace(1e-1, 1e-5, 9)
    ours = SGDClassifierCV(alphas=alphas, cv=folds, tol=1e-7).fit(X, y)
    theirs = LogisticRegressionCV(Cs=1 / (n_train * alphas[::-1]), cv=folds,
                                  scoring="neg_log_loss", l1_ratios=(0,), tol=1e-10,
                                  max_iter=10_000, use_legacy_attributes=False
                                  ).fit(X, y)
    np.testing.assert_allclose(ours.scores_[:, 0], theirs.scores_[:, 0, ::-1],
                               rtol=1e-4)
    np.testing.assert_allclose(ours.alpha_, 1 / (n_train * theirs.C_))
    assert ours.scores_.shape == (5, 1, 9) and ours.coefs_paths_.shape == (5, 1, 9, 1,
                                                                           10)
    # the refit is the optimum at alpha_ on every row (LogisticRegressionCV refits at
    # C_, which is alpha_ * n_train / n on every row)
    scratch = fastgd.SGDClassifier(loss="log_loss", alpha=ours.alpha_,
                                   batch_size="full", optimizer="lbfgs", tol=1e-8,
                                   max_iter=5000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, scratch.coef_, atol=1e-5)
    proba = ours.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(ours.classes_, [0, 1])


def test_regressor_cv_picks_elastic_net_cv_alpha_on_real_data():
    X, y = txhousing()
    folds = KFold(5)
    # the default grid's top alpha is scikit-learn's (the smallest that zeroes w)
    top = np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / len(y)
    for ratio in (0.3, 0.9):
        alphas, coefs, _ = sgd_path(X, y, penalty="elasticnet", l1_ratio=ratio,
                                    alphas=1)
        np.testing.assert_allclose(alphas, [top / ratio])
        assert not np.any(coefs)
    alphas = list(np.geomspace(top / 0.3, top / 0.3 * 1e-3, 12))
    ours = SGDRegressorCV(alphas=alphas, l1_ratio=[0.3, 0.9], cv=folds, tol=1e-7,
                          n_jobs=2).fit(X, y)
    theirs = ElasticNetCV(alphas=alphas, l1_ratio=[0.3, 0.9],
                          cv=folds, tol=1e-10, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, y)
    assert ours.mse_path_.shape == (2, 12, 5)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-4)
    assert ours.l1_ratio_ == theirs.l1_ratio_ and ours.alpha_ == theirs.alpha_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)


@pytest.mark.parametrize("cv", [KFold(4, shuffle=True, random_state=0),
                                ShuffleSplit(3, train_size=0.5, test_size=0.3,
                                             random_state=0)],
                         ids=["kfold", "shuffle-split"])
def test_squared_error_cv_reads_every_folds_sums_from_two_passes(cv, monkeypatch):
    """Squared error's folds take their Hessian and sums at zero from all the rows'
    minus their held-out rows' (two passes over X for every fold; a fold whose rows
    do not split X reads its own): the same scores and models as each fold's path
    reading its own rows."""
    import fastgd._cv as cv_module
    from fastgd._training import runners

    X, y = _regression(3000, 10)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    params = dict(alphas=8, l1_ratio=0.5, cv=cv, tol=1e-10)
    rows_read = []
    run = runners.HessianRunner.run

    def counted(self, coef, intercept, rows=None):
        rows_read.append(self.rows.n_rows if rows is None else len(rows))
        return run(self, coef, intercept, rows)
    monkeypatch.setattr(runners.HessianRunner, "run", counted)
    shared = SGDRegressorCV(**params).fit(X, y, sample_weight=w)
    shared_rows = sum(rows_read)
    monkeypatch.setattr(cv_module, "quadratic_parts", lambda *args: None)
    rows_read.clear()
    own = SGDRegressorCV(**params).fit(X, y, sample_weight=w)
    if isinstance(cv, KFold):  # 3000 + 4 x 750 rows, against 4 x 2250 + 3000
        assert shared_rows == 2 * len(y) and sum(rows_read) == 4 * len(y)
    else:  # each fold's training rows read, as its own path would
        assert shared_rows == sum(rows_read)
    np.testing.assert_allclose(shared.mse_path_, own.mse_path_, rtol=1e-9)
    np.testing.assert_allclose(shared.coef_, own.coef_, rtol=1e-8, atol=1e-10)
    assert shared.alpha_ == own.alpha_


def test_cv_is_the_same_at_every_n_jobs():
    X, y = make_classification(1500, 6, n_classes=3, n_informative=4, random_state=0)
    fits = [SGDClassifierCV(alphas=5, penalty="elasticnet", l1_ratio=[0.2, 0.7],
                            cv=3, n_jobs=n_jobs).fit(X, y) for n_jobs in (1, 2)]
    np.testing.assert_array_equal(fits[0].scores_, fits[1].scores_)
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].coef_.shape == (3, 6)


def test_refit_false_is_the_folds_mean_model():
    X, y = _regression(300, 5)
    est = SGDRegressorCV(alphas=5, cv=3, refit=False).fit(X, y)
    i = int(np.flatnonzero(est.alphas_ == est.alpha_)[0])
    np.testing.assert_allclose(est.coef_, est.coefs_paths_[:, 0, i, 0].mean(0),
                               rtol=1e-6)


@pytest.mark.parametrize("estimator", [SGDClassifierCV(alphas=3, cv=3),
                                       SGDRegressorCV(alphas=3, cv=3)],
                         ids=["classifier", "regressor"])
def test_check_estimator(estimator):
    expected = fastgd.expected_failed_checks(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None,
                                  expected_failed_checks=expected)
    failed = [(r["check_name"], r["exception"]) for r in results
              if r["status"] == "failed"]
    assert not failed, failed
