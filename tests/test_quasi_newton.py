"""optimizer='lbfgs' (batch_size='full'): L-BFGS reaches scikit-learn's lbfgs optimum,
OWL-QN the coordinate-descent optimum of the lasso and the elastic net with the same
zeros, on dense and CSR input, for regression, binary and the softmax."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge

from fastgd import SGDClassifier, SGDRegressor


def _relative_gap(value, best):
    return (value - best) / abs(best)


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 30)) * (rng.random((2000, 30)) < 0.5)
    y = (X @ rng.normal(size=30) + rng.normal(size=2000) > 0).astype(int)
    return X, y


def _logistic_objective(X, y, coef, intercept, alpha):
    s = 2 * y - 1
    margin = X @ np.ravel(coef) + intercept[0]
    return np.mean(np.logaddexp(0, -s * margin)) + alpha / 2 * np.sum(coef ** 2)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_binary_reaches_the_lbfgs_optimum(binary, layout):
    X, y = binary
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    alpha = 1e-3
    ref = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12, max_iter=10000)
    ref.fit(X, y)
    ours = SGDClassifier(loss="log_loss", alpha=alpha, batch_size="full",
                         optimizer="lbfgs", max_iter=200, tol=None).fit(Xf, y)
    best = _logistic_objective(X, y, ref.coef_, ref.intercept_, alpha)
    got = _logistic_objective(X, y, ours.coef_, ours.intercept_, alpha)
    assert _relative_gap(got, best) < 1e-8
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    # it stops by itself once no step decreases the objective
    assert ours.n_iter_ < 200
    assert np.all(np.diff(ours.loss_curve_) <= 0)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_softmax_reaches_the_lbfgs_optimum(layout):
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    alpha = 1e-2
    ref = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12, max_iter=10000)
    ref.fit(X, y)
    ours = SGDClassifier(loss="log_loss", multi_class="multinomial", alpha=alpha,
                         batch_size="full", optimizer="lbfgs", max_iter=500,
                         tol=None).fit(Xf, y)

    def objective(m):
        p = m.predict_proba(X)
        return (-np.mean(np.log(p[np.arange(len(y)), y]))
                + alpha / 2 * np.sum(m.coef_ ** 2))

    assert _relative_gap(objective(ours), objective(ref)) < 1e-8


def test_ridge_reaches_the_closed_form():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1500, 20))
    y = X @ rng.normal(size=20) + 0.5 * rng.normal(size=1500) + 3.0
    alpha = 1e-2
    # scikit-learn's Ridge minimises |y - Xw|^2 + a |w|^2: a = alpha * n_samples
    ref = Ridge(alpha=alpha * len(y)).fit(X, y)
    ours = SGDRegressor(alpha=alpha, batch_size="full", optimizer="lbfgs",
                        max_iter=500, tol=None).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-7)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 1.0), ("elasticnet", 0.5)])
def test_owlqn_reaches_coordinate_descent_with_the_same_zeros(layout, penalty,
                                                              l1_ratio):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1000, 40))
    w = rng.normal(size=40) * (rng.random(40) < 0.3)
    y = X @ w + 0.3 * rng.normal(size=1000)
    alpha = 0.05
    # the same objective: mean of (y - p)^2 / 2 + alpha (l1_ratio |w|_1 +
    # (1 - l1_ratio) / 2 |w|^2)
    ref = (Lasso(alpha=alpha, tol=1e-14, max_iter=100000) if penalty == "l1" else
           ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14,
                      max_iter=100000)).fit(X, y)
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    ours = SGDRegressor(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                        batch_size="full", optimizer="lbfgs", max_iter=1000,
                        tol=None).fit(Xf, y)
    np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
    assert np.count_nonzero(ref.coef_ == 0) > 10
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


@pytest.mark.parametrize("params, match", [
    (dict(optimizer="lbfgs"), "needs batch_size='full'"),
    (dict(optimizer="lbfgs", batch_size=32), "needs batch_size='full'"),
    (dict(optimizer="lbfgs", batch_size="full", loss="hinge"),
     "needs a differentiable loss"),
])
def test_lbfgs_needs_the_full_batch_and_a_smooth_loss(binary, params, match):
    X, y = binary
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**params).fit(X, y)


def test_the_diagonal_preconditioner_undoes_the_scales_of_the_features():
    """L-BFGS started from the inverse of the Hessian's diagonal takes the steps it
    takes on features of unit curvature: on columns scaled over four orders of
    magnitude it reaches the optimum (to rounding) in a few dozen passes, where from
    the identity it is still far after 1000."""
    from scipy.special import expit

    from fastgd._solvers.quasi_newton import QuasiNewton, preconditioner

    rng = np.random.default_rng(0)
    n, d, alpha = 2000, 20, 1e-4
    scales = np.logspace(-2, 2, d)
    X = rng.normal(size=(n, d)) * scales
    y = (X / scales @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    s = 2 * y - 1

    def smooth(w, b):
        m = -s * (X @ w[0] + b[0])
        r = -s * expit(m) / n
        return np.mean(np.logaddexp(0, m)), (X.T @ r)[None], np.array([r.sum()])

    p = expit(np.zeros(n))
    diagonal = np.append(p * (1 - p) @ X ** 2, np.sum(p * (1 - p)))[None] / n
    runs = {}
    for name, scaling in (("identity", None),
                          ("diagonal", preconditioner(diagonal, alpha))):
        qn = QuasiNewton(smooth, np.zeros((1, d)), np.zeros(1), lam1=0.0, lam2=alpha,
                         fit_intercept=True, scaling=scaling)
        while qn.n_evaluations < 1000 and qn.step():
            pass
        runs[name] = qn
    # Newton's method does not see the scales
    reference = LogisticRegression(C=1 / (n * alpha), solver="newton-cholesky",
                                   tol=1e-12, max_iter=100).fit(X, y)
    best = (np.mean(np.logaddexp(0, -s * reference.decision_function(X)))
            + alpha / 2 * np.sum(reference.coef_ ** 2))
    assert runs["diagonal"].n_evaluations < 50
    assert _relative_gap(runs["diagonal"].F, best) < 1e-10
    assert _relative_gap(runs["identity"].F, best) > 1e-5


@pytest.mark.parametrize("settings", [
    dict(optimizer="lbfgs"), dict(optimizer="newton"), dict(optimizer="auto"),
    dict(optimizer="lbfgs", penalty="l1")], ids=["lbfgs", "newton", "auto", "owlqn"])
def test_n_passes_counts_every_read_of_x(settings, monkeypatch):
    """``n_passes_`` is the number of passes the fit made over X: every call of the
    gradient kernel (with or without the columns' moments) and every Hessian,
    counted at the runners; one per epoch for SGD."""
    from fastgd._training import runners

    calls = []
    for name in ("run", "run_with_diagonal"):
        original = getattr(runners.GradientRunner, name)
        monkeypatch.setattr(runners.GradientRunner, name,
                            lambda self, *a, _f=original, **k: calls.append(1)
                            or _f(self, *a, **k))
    original_hessian = runners.HessianRunner.run
    monkeypatch.setattr(runners.HessianRunner, "run",
                        lambda self, *a, **k: calls.append(1)
                        or original_hessian(self, *a, **k))
    X, y = make_classification(25_000, 10, random_state=0)
    X = sp.csr_matrix(X * (np.random.default_rng(0).random(X.shape) < 0.5))
    est = SGDClassifier(loss="log_loss", batch_size="full", alpha=1e-4,
                        **settings).fit(X, y)
    warm_epoch = 1 if settings["optimizer"] == "auto" else 0
    assert est.n_passes_ == len(calls) + warm_epoch
    assert est.n_passes_ >= est.n_iter_
    sgd = SGDClassifier(loss="log_loss", max_iter=7, tol=None).fit(X, y)
    assert sgd.n_passes_ == sgd.n_iter_ == 7
