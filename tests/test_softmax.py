"""The multinomial (softmax) cross-entropy kernels against NumPy."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from kernels import class_targets, gradient, loss_sum, soft_targets
from kernels import loss as loss_function


def numpy_softmax(X, Q, weight, coef, b):
    Z = X @ coef.T + b
    loss = np.sum(weight * (logsumexp(Z, axis=1) - np.sum(Q * Z, axis=1)))
    G = weight[:, None] * (softmax(Z, axis=1) - Q)
    return loss, G.T @ X, G.sum(axis=0)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_softmax_gradient_matches_numpy(soft, sparse, n_threads):
    rng = np.random.default_rng(0)
    n, d, K = 400, 9, 4
    Xd = rng.normal(size=(n, d)) * (rng.random((n, d)) < (0.5 if sparse else 1.0))
    X = sp.csr_matrix(Xd) if sparse else Xd
    y = rng.integers(0, K, n).astype(np.int32)
    cw = np.array([1.0, 2.0, 0.5, 1.5])
    sw = rng.uniform(0.5, 2.0, n)
    Y = rng.dirichlet(np.ones(K), n) if soft else np.empty((0, 0))
    coef = rng.normal(size=(K, d)) * 3  # large logits: the log-sum-exp must be stable
    b = rng.normal(size=K)
    rows = np.sort(rng.choice(n, 150, replace=False)).astype(np.int32)
    targets = (soft_targets(Y, sw) if soft
               else class_targets(y, np.arange(K), cw, 1.0, sw, n_classes=K))
    total, grad, grad_b = gradient(loss_function("multinomial"), X, targets, coef, b, rows,
                                   n_threads)
    # the loss alone (objective, validation loss) is the same sum
    np.testing.assert_allclose(
        loss_sum(loss_function("multinomial"), X, targets, coef, b, rows, n_threads), total,
        rtol=1e-12)
    Q = Y[rows] if soft else np.eye(K)[y[rows]]
    weight = sw[rows] * (1.0 if soft else cw[y[rows]])
    loss, G, Gb = numpy_softmax(Xd[rows], Q, weight, coef, b)
    np.testing.assert_allclose(total, loss, rtol=1e-10)
    np.testing.assert_allclose(grad, G, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(grad_b, Gb, rtol=1e-9, atol=1e-10)


def test_soft_label_equals_weighted_hard_copies():
    # a row with soft label q is the same loss and gradient as K hard copies of it
    # weighted by q
    rng = np.random.default_rng(1)
    n, d, K = 50, 5, 3
    X = rng.normal(size=(n, d))
    Y = rng.dirichlet(np.ones(K), n)
    coef, b = rng.normal(size=(K, d)), rng.normal(size=K)
    soft, g1, gb1 = gradient(loss_function("multinomial"), X, soft_targets(Y), coef, b)
    Xc = np.repeat(X, K, axis=0)
    yc = np.tile(np.arange(K), n).astype(np.int32)
    wc = Y.ravel()
    hard, g2, gb2 = gradient(loss_function("multinomial"), Xc,
                             class_targets(yc, np.arange(K), np.ones(K), 1.0, wc), coef,
                             b)
    np.testing.assert_allclose(soft, hard, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb1, gb2, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ estimators

from sklearn.linear_model import LogisticRegression  # noqa: E402

from fastgd import SGDClassifier  # noqa: E402


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 12))
    logits = X @ rng.normal(size=(12, 4)) + rng.normal(size=(6000, 4))
    return X, np.argmax(logits, axis=1)


def softmax_objective(X, y, coef, b, alpha):
    Z = X @ coef.T + b
    return (np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y])
            + alpha / 2 * np.sum(coef**2))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_full_batch_multinomial_reaches_lbfgs(multiclass, sparse):
    X, y = multiclass
    alpha = 1e-3
    exact = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
    f_star = softmax_objective(X, y, exact.coef_, exact.intercept_, alpha)
    Xf = sp.csr_matrix(X) if sparse else X
    m = SGDClassifier(loss="log_loss", multi_class="multinomial", batch_size="full",
                      alpha=alpha, max_iter=3000, tol=None).fit(Xf, y)
    f = softmax_objective(X, y, m.coef_, m.intercept_, alpha)
    assert (f - f_star) / f_star < 1e-4
    np.testing.assert_allclose(m.loss_curve_[-1], f, rtol=1e-9)
    np.testing.assert_allclose(m.objective(Xf, y), f, rtol=1e-9)
    p = m.predict_proba(X)
    np.testing.assert_allclose(p, softmax(m.decision_function(X), axis=1), rtol=1e-10)
    np.testing.assert_array_equal(m.predict(X), np.argmax(p, axis=1))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_multinomial_lbfgs_is_preconditioned_on_unscaled_columns(multiclass, sparse):
    """The softmax's L-BFGS starts from the columns' weighted second moments (class
    weights and sample weights counted), as the one-vs-rest losses' does: on
    columns of scales 1e-2 to 1e2 it reaches scikit-learn's optimum in a few dozen
    iterations (unpreconditioned, 3000 did not reach 1e-4 on 100k x 50)."""
    X, y = multiclass
    X = X * np.logspace(-2, 2, X.shape[1])
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    alpha = 1e-5
    Xf = sp.csr_matrix(X) if sparse else X
    m = SGDClassifier(loss="log_loss", multi_class="multinomial", batch_size="full",
                      optimizer="lbfgs", alpha=alpha, tol=1e-8, max_iter=300,
                      class_weight={0: 1.0, 1: 2.0, 2: 0.5, 3: 1.0}).fit(
        Xf, y, sample_weight=w)
    cw = np.array([1.0, 2.0, 0.5, 1.0])[y]
    weighted = LogisticRegression(C=1 / (alpha * w.sum()), solver="newton-cholesky",
                                  tol=1e-12, max_iter=1000).fit(X, y,
                                                                sample_weight=w * cw)
    assert m.n_iter_ < 150
    # fastgd's mean loss divides by the sample weights' sum; the class weights
    # weigh the rows (scikit-learn's softmax is defined up to a shift per column)
    np.testing.assert_allclose(m.coef_ - m.coef_.mean(0), weighted.coef_
                               - weighted.coef_.mean(0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch_size, eta0, power_t", [(1, 0.5, 0.5), (64, 5.0, 0.5)])
def test_stochastic_multinomial_learns(multiclass, batch_size, eta0, power_t):
    X, y = multiclass
    alpha = 1e-3
    exact = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-10, max_iter=10_000).fit(X, y)
    f_star = softmax_objective(X, y, exact.coef_, exact.intercept_, alpha)
    m = SGDClassifier(loss="log_loss", multi_class="multinomial", batch_size=batch_size,
                      alpha=alpha, learning_rate="invscaling", eta0=eta0,
                      power_t=power_t, max_iter=15, tol=None, random_state=0).fit(X, y)
    assert (softmax_objective(X, y, m.coef_, m.intercept_, alpha) - f_star) / f_star < 5e-3
    assert m.score(X, y) > exact.score(X, y) - 0.02


def test_soft_labels_are_weighted_hard_copies(multiclass):
    X, y = multiclass
    X, y = X[:1000], y[:1000]
    rng = np.random.default_rng(3)
    Y = 0.7 * np.eye(4)[y] + 0.3 * rng.dirichlet(np.ones(4), len(y))
    kw = dict(loss="log_loss", multi_class="multinomial", batch_size="full",
              max_iter=200, tol=None)
    soft = SGDClassifier(**kw).fit(X, Y)
    np.testing.assert_array_equal(soft.classes_, np.arange(4))
    Xr = np.repeat(X, 4, axis=0)
    yr = np.tile(np.arange(4), len(y))
    hard = SGDClassifier(**kw).fit(Xr, yr, sample_weight=Y.ravel())
    np.testing.assert_allclose(soft.coef_, hard.coef_, rtol=1e-7, atol=1e-9)
    # one-hot soft labels are the hard labels
    a = SGDClassifier(**kw).fit(X, np.eye(4)[y])
    b = SGDClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)
    named = SGDClassifier(**kw).fit(X, Y, classes=["a", "b", "c", "d"])
    assert list(named.predict(X[:3])) == list(np.array(["a", "b", "c", "d"])[
        soft.predict(X[:3])])


def test_binary_multinomial_is_logistic(multiclass):
    X, y = multiclass
    yb = (y == 1).astype(int)
    m = SGDClassifier(loss="log_loss", multi_class="multinomial", batch_size="full",
                      max_iter=300, tol=None).fit(X, yb)
    assert m.coef_.shape == (1, X.shape[1])
    p = m.predict_proba(X)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-m.decision_function(X))),
                               rtol=1e-9, atol=1e-15)
    assert m.score(X, yb) > 0.8


@pytest.mark.parametrize("Y, params, match", [
    (lambda Y: -Y, {}, "negative"),
    (lambda Y: Y * 2, {}, "sum to 1"),
    (lambda Y: Y, dict(multi_class="ovr"), "multi_class='multinomial'"),
    (lambda Y: Y, dict(class_weight={0: 2.0}), "class_weight"),
])
def test_bad_soft_labels(Y, params, match):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    soft = rng.dirichlet(np.ones(3), 30)
    kw = dict(loss="log_loss", multi_class="multinomial")
    kw.update(params)
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**kw).fit(X, Y(soft))
    with pytest.raises(ValueError, match="columns"):
        SGDClassifier(loss="log_loss", multi_class="multinomial").fit(
            X, soft, classes=[0, 1])
    with pytest.raises(ValueError, match="needs loss='log_loss'"):
        SGDClassifier(multi_class="multinomial").fit(X, soft.argmax(axis=1))
