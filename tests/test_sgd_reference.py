"""The per-sample kernel against the naive NumPy loop, to rounding, for every loss x
penalty x schedule, dense and CSR, with and without averaging."""
import numpy as np
import pytest
import scipy.sparse as sp

import fastgd
from fastgd._params import REGRESSION_LOSSES
from fastgd._training.step_rule import SPARSE_INTERCEPT_DECAY
from reference import reference_sgd

CLASSIFY = ["log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron"]
REGRESS = sorted(REGRESSION_LOSSES)
PENALTIES = [None, "l2", "l1", "elasticnet"]
SCHEDULES = ["constant", "optimal", "invscaling", "adaptive", "exponential", "linear"]


def make_data(classify, sparse, seed=0, n=40, d=6):
    rng = np.random.default_rng(seed)
    X = 0.4 * rng.normal(size=(n, d)) * (rng.random((n, d)) < (0.5 if sparse else 1.0))
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    if classify:
        y = (y > 0).astype(int)
    return (sp.csr_matrix(X) if sparse else X), y


class Etas:
    def __init__(self, est, n_epochs):
        self.est, self.n_epochs = est, n_epochs
        self.t0 = 1.0 / (np.sqrt(1.0 / np.sqrt(est.alpha)) * est.alpha)

    def __call__(self, t, epoch):
        e = self.est
        if e.learning_rate == "optimal":
            return 1.0 / (e.alpha * (self.t0 + t - 1))
        if e.learning_rate == "invscaling":
            return e.eta0 / t**e.power_t
        if e.learning_rate == "exponential":
            return e.eta0 * e.decay_rate**epoch
        if e.learning_rate == "linear":
            return e.eta0 + (e.eta_min - e.eta0) * min(1.0, epoch / e.max_iter)
        return e.eta0


def strengths(est):
    a, r = est.alpha, est.l1_ratio
    return {None: (0, 0), "l2": (0, a), "l1": (a, 0),
            "elasticnet": (a * r, a * (1 - r))}[est.penalty]


def check_against_reference(est, X, y, sample_weight=None, rtol=1e-8):
    est.fit(X, y, sample_weight=sample_weight)
    classify = hasattr(est, "classes_")
    target = np.where(y == est.classes_[1], 1.0, -1.0) if classify else y.astype(float)
    lam1, lam2 = strengths(est)
    average_start = int(est.average) if est.average else 0
    pa = est.learning_rate if est.learning_rate in ("pa1", "pa2") else None
    w, b, w_avg, b_avg = reference_sgd(
        X, target, loss=est.loss, eps=est.epsilon, lam1=lam1, lam2=lam2,
        etas=Etas(est, est.max_iter), fit_intercept=est.fit_intercept,
        intercept_decay=SPARSE_INTERCEPT_DECAY if sp.issparse(X) else 1.0,
        average_start=average_start, sample_weight=sample_weight, pa=pa,
        pa_c=est.eta0)
    np.testing.assert_allclose(np.ravel(est.coef_), w_avg, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(np.ravel(est.intercept_)[0], b_avg, rtol=rtol,
                               atol=1e-10)
    assert est.t_ == 1 + est.max_iter * X.shape[0]


def estimator(loss, **kw):
    cls = fastgd.SGDRegressor if loss in REGRESS else fastgd.SGDClassifier
    params = dict(loss=loss, max_iter=3, tol=None, shuffle=False, eta0=0.05,
                  alpha=0.05, l1_ratio=0.4, power_t=0.5)
    params.update(kw)
    return cls(**params)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("loss", CLASSIFY + REGRESS)
def test_kernel_matches_naive_sgd(loss, penalty, schedule, sparse):
    X, y = make_data(loss in CLASSIFY, sparse)
    est = estimator(loss, penalty=penalty, learning_rate=schedule)
    check_against_reference(est, X, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("average", [True, 7])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error", "hinge"])
def test_averaged_sgd_matches_naive(loss, average, penalty, sparse):
    X, y = make_data(loss != "squared_error", sparse, seed=1)
    est = estimator(loss, penalty=penalty, learning_rate="invscaling",
                    average=average, alpha=0.1, eta0=0.2)
    check_against_reference(est, X, y)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
def test_lazy_windows_close_mid_epoch(monkeypatch, penalty):
    # a window of n_features steps forces many full catch-ups within each epoch
    monkeypatch.setattr("fastgd._kernels._sgd.MIN_LAZY_WINDOW", 1)
    X, y = make_data(True, True, seed=2, n=60, d=5)
    est = estimator("log_loss", penalty=penalty, average=3, alpha=0.2, eta0=0.3,
                    learning_rate="constant")
    check_against_reference(est, X, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("schedule,loss", [("pa1", "hinge"), ("pa2", "hinge"),
                                           ("pa1", "epsilon_insensitive"),
                                           ("pa2", "epsilon_insensitive")])
def test_passive_aggressive_steps(schedule, loss, sparse):
    X, y = make_data(loss == "hinge", sparse, seed=3)
    est = estimator(loss, penalty=None, learning_rate=schedule, eta0=0.5)
    check_against_reference(est, X, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_sample_and_class_weights_scale_the_step(sparse):
    X, y = make_data(True, sparse, seed=4)
    sw = np.random.default_rng(0).uniform(0.2, 2.0, X.shape[0])
    est = estimator("log_loss", penalty="elasticnet", learning_rate="constant")
    check_against_reference(est, X, y, sample_weight=sw)
    # class weights multiply the same step: {0: 2, 1: 1} == sample weights 2 / 1
    a = estimator("hinge", class_weight={0: 2.0, 1: 1.0}).fit(X, y)
    b = estimator("hinge").fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)


def test_float32_follows_float64():
    X, y = make_data(False, False, n=200, d=8)
    a = estimator("squared_error", learning_rate="constant").fit(X, y)
    b = estimator("squared_error", learning_rate="constant").fit(
        X.astype(np.float32), y.astype(np.float32))
    assert b.coef_.dtype == np.float32
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=2e-4, atol=2e-5)
