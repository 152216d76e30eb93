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
              b1=0.9, b2=0.999, rho=0.99, eps=1e-8):
    """Mini-batch proximal steps with PyTorch's update rules, in NumPy; the intercept
    follows the same rule without a penalty, its step times ``decay``."""
    n, d = X.shape
    theta = np.zeros(d + 1)                      # weights, then the intercept
    s1, s2 = np.zeros(d + 1), np.zeros(d + 1)
    Xb = np.hstack([X, np.ones((n, 1))])
    t = 1
    for _ in range(epochs):
        for start in range(0, n, batch):
            rows = slice(start, start + batch)
            g = Xb[rows].T @ (Xb[rows] @ theta - y[rows]) / len(Xb[rows])
            factor = np.ones(d + 1)
            if optimizer == "sgd":
                direction = g
            elif optimizer in ("momentum", "nesterov"):
                s1 = mu * s1 + g
                direction = s1 if optimizer == "momentum" else g + mu * s1
            elif optimizer == "adagrad":
                s1 += g * g
                factor, direction = 1 / (np.sqrt(s1) + eps), g
            elif optimizer == "rmsprop":
                s1 = rho * s1 + (1 - rho) * g * g
                factor, direction = 1 / (np.sqrt(s1) + eps), g
            else:
                s1 = b1 * s1 + (1 - b1) * g
                s2 = b2 * s2 + (1 - b2) * g * g
                factor = 1 / (np.sqrt(s2 / (1 - b2**t)) + eps)
                direction = s1 / (1 - b1**t)
            step = eta * factor
            step[d] *= decay
            theta = theta - step * direction
            w = theta[:d]
            theta[:d] = (np.sign(w) * np.maximum(np.abs(w) - step[:d] * lam1, 0)
                         / (1 + step[:d] * lam2))
            t += 1
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
    (dict(optimizer="lbfgs"), "'optimizer' parameter"),
    (dict(momentum=1.5), "'momentum' parameter"),
    (dict(eps=0.0), "'eps' parameter"),
])
def test_bad_optimizer_settings(params, match):
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**params).fit(X, X[:, 0] > 0)
