"""The multinomial (softmax) cross-entropy kernels against NumPy."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from fastgd import _batch


def kernel_args(X):
    sparse = sp.issparse(X)
    dtype = X.dtype
    return (sparse, np.empty((0, 0), dtype) if sparse else X,
            X.data if sparse else np.empty(0, dtype),
            X.indices if sparse else np.empty(0, np.int32),
            X.indptr if sparse else np.empty(0, np.int32))


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
    grad, grad_b = np.empty((K, d)), np.empty(K)
    total = _batch.softmax_gradient(*kernel_args(X), Y, y, sw, cw, rows, len(rows),
                                    coef, b, grad, grad_b,
                                    np.empty((n_threads, K * (d + 2))), n_threads)
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
    ei = np.empty(0, np.int32)
    g1, gb1 = np.empty((K, d)), np.empty(K)
    soft = _batch.softmax_gradient(*kernel_args(X), Y, ei, np.empty(0), np.ones(K), ei,
                                   n, coef, b, g1, gb1, np.empty((1, K * (d + 2))), 1)
    Xc = np.repeat(X, K, axis=0)
    yc = np.tile(np.arange(K), n).astype(np.int32)
    wc = Y.ravel()
    g2, gb2 = np.empty((K, d)), np.empty(K)
    hard = _batch.softmax_gradient(*kernel_args(Xc), np.empty((0, 0)), yc, wc,
                                   np.ones(K), ei, len(yc), coef, b, g2, gb2,
                                   np.empty((1, K * (d + 2))), 1)
    np.testing.assert_allclose(soft, hard, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb1, gb2, rtol=1e-10, atol=1e-12)
