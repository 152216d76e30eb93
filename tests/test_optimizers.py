"""optimizer: momentum, Nesterov, AdaGrad, RMSProp and Adam for every batch size,
against a NumPy reference of their update rules and the least-squares optimum."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression

from fastgd import SGDClassifier, SGDRegressor

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
ETA = {  # (per-sample and mini-batch, full batch), constant learning rate
    "sgd": (0.01, 0.01), "momentum": (0.001, 0.1), "nesterov": (0.001, 0.1),
    "adagrad": (0.1, 1.0), "rmsprop": (0.01, 0.1), "adam": (0.01, 0.1),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 20))
    y = X @ rng.normal(size=20) + 0.5 * rng.normal(size=10_000)
    return X, y


@pytest.mark.parametrize("batch_size", [1, 32, "full"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_reaches_least_squares(data, optimizer, batch_size):
    X, y = data
    best = LinearRegression().fit(X, y).score(X, y)
    eta = ETA[optimizer][batch_size == "full"]
    m = SGDRegressor(penalty=None, batch_size=batch_size, optimizer=optimizer,
                     learning_rate="constant", eta0=eta,
                     max_iter=300 if batch_size == "full" else 20, tol=None,
                     random_state=0).fit(X, y)
    assert m.score(X, y) > best - 0.01


def reference(X, y, optimizer, eta, batch, epochs, lam1, lam2, decay=1.0, mu=0.9,
              b1=0.9, b2=0.999, rho=0.99, eps=1e-8, lazy=False):
    """Mini-batch proximal steps with PyTorch's update rules, in NumPy; the intercept
    follows the same rule without a penalty, its step times ``decay``.

    ``lazy``: the rule on CSR input.  A coordinate whose column is zero in every row of
    the batch only gets the prox, with the step its frozen state gives; its state and
    step count advance only on the other steps."""
    n, d = X.shape
    theta = np.zeros(d + 1)                      # weights, then the intercept
    s1, s2, count = np.zeros(d + 1), np.zeros(d + 1), np.zeros(d + 1)
    Xb = np.hstack([X, np.ones((n, 1))])
    for _ in range(epochs):
        for start in range(0, n, batch):
            rows = slice(start, start + batch)
            g = Xb[rows].T @ (Xb[rows] @ theta - y[rows]) / len(Xb[rows])
            on = np.any(Xb[rows] != 0, axis=0) if lazy else np.ones(d + 1, bool)
            old = s1.copy(), s2.copy(), count.copy()
            count += 1
            factor = np.ones(d + 1)
            if optimizer == "sgd":
                direction = g
            elif optimizer in ("momentum", "nesterov"):
                s1 = mu * s1 + g
                direction = s1 if optimizer == "momentum" else g + mu * s1
            elif optimizer == "adagrad":
                s1 = s1 + g * g
                factor, direction = 1 / (np.sqrt(s1) + eps), g
            elif optimizer == "rmsprop":
                s1 = rho * s1 + (1 - rho) * g * g
                factor, direction = 1 / (np.sqrt(s1) + eps), g
            else:
                s1 = b1 * s1 + (1 - b1) * g
                s2 = b2 * s2 + (1 - b2) * g * g
                factor = 1 / (np.sqrt(s2 / (1 - b2**count)) + eps)
                direction = s1 / (1 - b1**count)
            # untouched coordinates: state as it was, the factor it gives, no gradient
            s1, s2, count = (np.where(on, new, prev)
                             for new, prev in zip((s1, s2, count), old))
            if optimizer in ("adagrad", "rmsprop"):
                factor = np.where(on, factor, 1 / (np.sqrt(s1) + eps))
            elif optimizer == "adam":
                with np.errstate(divide="ignore", invalid="ignore"):
                    frozen = np.where(count > 0, 1 / (np.sqrt(s2 / (1 - b2**count))
                                                      + eps), 1 / eps)
                factor = np.where(on, factor, frozen)
            direction = np.where(on, direction, 0.0)
            step = eta * factor
            step[d] *= decay
            theta = theta - step * direction
            w = theta[:d]
            theta[:d] = (np.sign(w) * np.maximum(np.abs(w) - step[:d] * lam1, 0)
                         / (1 + step[:d] * lam2))
    return theta[:d], theta[d]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_update_rules_match_numpy(optimizer, sparse):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5)) * (rng.random((200, 5)) < (0.6 if sparse else 1))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=200)
    alpha, l1_ratio = 0.02, 0.5
    m = SGDRegressor(optimizer=optimizer, batch_size=16, shuffle=False, max_iter=2,
                     tol=None, learning_rate="constant", eta0=0.05, penalty="elasticnet",
                     alpha=alpha, l1_ratio=l1_ratio)
    m.fit(sp.csr_matrix(X) if sparse else X, y)
    # on CSR the intercept steps are scaled by 0.01, as scikit-learn does
    w, b = reference(X, y, optimizer, 0.05, 16, 2, alpha * l1_ratio,
                     alpha * (1 - l1_ratio), decay=0.01 if sparse else 1.0)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(m.intercept_[0], b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_lazy_updates_on_csr_match_numpy(optimizer):
    # 15% dense, batches of 4: most columns skip many steps between touches
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 12)) * (rng.random((300, 12)) < 0.15)
    y = X @ rng.normal(size=12) + 0.1 * rng.normal(size=300)
    alpha, l1_ratio = 0.05, 0.3
    m = SGDRegressor(optimizer=optimizer, batch_size=4, shuffle=False, max_iter=3,
                     tol=None, learning_rate="constant", eta0=0.02, penalty="elasticnet",
                     alpha=alpha, l1_ratio=l1_ratio).fit(sp.csr_matrix(X), y)
    w, b = reference(X, y, optimizer, 0.02, 4, 3, alpha * l1_ratio,
                     alpha * (1 - l1_ratio), decay=0.01, lazy=True)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(m.intercept_[0], b, rtol=1e-9, atol=1e-12)
    assert np.any(m.coef_ == 0) == np.any(w == 0)


@pytest.mark.parametrize("optimizer, learning_rate", [
    ("sgd", "constant"), ("sgd", "invscaling"), ("sgd", "optimal"),
    ("sgd", "adaptive"), ("adagrad", "constant")])
def test_lazy_equals_eager_where_the_state_stands_still(optimizer, learning_rate):
    # plain SGD and AdaGrad do not change their state under a zero gradient, so the
    # lazy CSR updates give the dense (eager) result: for sgd with every schedule,
    # for adagrad with a constant one (its skipped steps are composed with their mean
    # step).  No intercept: its step is scaled on CSR only, as scikit-learn does.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 30)) * (rng.random((400, 30)) < 0.1)
    y = X @ (rng.normal(size=30) * (np.arange(30) < 10)) + 0.1 * rng.normal(size=400)
    kw = dict(optimizer=optimizer, batch_size=3, max_iter=3, tol=None,
              learning_rate=learning_rate, eta0=0.05, penalty="elasticnet", alpha=0.05,
              l1_ratio=0.5, fit_intercept=False, random_state=0)
    eager = SGDRegressor(**kw).fit(X, y)
    lazy = SGDRegressor(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(lazy.coef_, eager.coef_, rtol=1e-9, atol=1e-12)
    assert np.sum(lazy.coef_ == 0) == np.sum(eager.coef_ == 0) > 0


def test_lazy_clock_renormalises_before_overflow():
    # eta * lam2 = 0.5 per step of 2 rows: the running product of the lazy clock
    # passes 1e308 after 1750 steps (of 3000)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6000, 10)) * (rng.random((6000, 10)) < 0.03)
    y = X @ rng.normal(size=10)
    kw = dict(batch_size=2, max_iter=1, tol=None, learning_rate="constant", eta0=0.5,
              penalty="l2", alpha=1.0, fit_intercept=False,
              shuffle=False)
    eager = SGDRegressor(**kw).fit(X, y)
    lazy = SGDRegressor(**kw).fit(sp.csr_matrix(X), y)
    assert np.all(np.isfinite(lazy.coef_)) and np.all(eager.coef_ != 0)
    np.testing.assert_allclose(lazy.coef_, eager.coef_, rtol=1e-9, atol=1e-12)


def test_partial_fit_keeps_the_optimizer_state(data):
    X, y = data
    kw = dict(optimizer="adam", batch_size=50, shuffle=False, max_iter=1, tol=None,
              learning_rate="constant", eta0=0.01)
    full = SGDRegressor(**kw).fit(X, y)
    part = SGDRegressor(**kw)
    for start in range(0, len(y), 1000):
        part.partial_fit(X[start:start + 1000], y[start:start + 1000])
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-10)


def test_classifier_with_adam_and_multinomial():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 8))
    y = np.argmax(X @ rng.normal(size=(8, 3)), axis=1)
    for multi_class in ("ovr", "multinomial"):
        m = SGDClassifier(loss="log_loss", optimizer="adam", batch_size=32,
                          multi_class=multi_class, learning_rate="constant",
                          eta0=0.01, max_iter=10, tol=None, random_state=0).fit(X, y)
        assert m.score(X, y) > 0.9


@pytest.mark.parametrize("params, match", [
    (dict(optimizer="adam", average=True), "needs optimizer='sgd'"),
    (dict(optimizer="momentum", learning_rate="pa1"), "needs optimizer='sgd'"),
    (dict(optimizer="bfgs"), "'optimizer' parameter"),
    (dict(momentum=1.5), "'momentum' parameter"),
    (dict(eps=0.0), "'eps' parameter"),
])
def test_bad_optimizer_settings(params, match):
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**params).fit(X, X[:, 0] > 0)
