"""Synthetic benchmark data: the generated problems of the demo (``python -m
fastgd``), of every ``fastgd bench`` benchmark and of the scripts and asv suites in
``benchmarks/``, so that they all train on the same problems."""
import numpy as np
import scipy.sparse as sp


def dense_regression(n, d, rng, dtype=np.float64, noise=0.1):
    """Dense regression data: X standard normal, y a random linear model plus noise.

    Parameters
    ----------
    n, d : int
    rng : numpy.random.Generator
    dtype : float32 or float64, default=float64
    noise : float, default=0.1
        Standard deviation of the noise on y.

    Returns
    -------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    """
    X = rng.standard_normal((n, d)).astype(dtype, copy=False)
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return X, y.astype(dtype, copy=False)


def sparse_classification(n, d, nnz, rng, noise=0.01):
    """CSR data with Zipf-distributed features, unit-norm rows, and a binary target of
    a sparse random linear model.

    Parameters
    ----------
    n, d : int
    nnz : int
        Stored entries drawn per row (duplicates are summed, so a few less).
    rng : numpy.random.Generator
    noise : float, default=0.01
        Standard deviation of the noise added to the margin before its sign is taken.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n, d)
    y : ndarray of int, shape (n,)
    """
    p = 1.0 / np.arange(1, d + 1) ** 1.1
    cols = rng.choice(d, size=n * nnz, p=p / p.sum())
    X = sp.csr_matrix((rng.random(n * nnz), cols, np.arange(0, n * nnz + 1, nnz)),
                      shape=(n, d))
    X.sum_duplicates()
    X = sp.diags(1 / np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())) @ X
    w = rng.standard_normal(d) * (rng.random(d) < 0.1)
    y = (X @ w + noise * rng.standard_normal(n) > 0).astype(int)
    return X.tocsr(), y


def dense_logistic(n, d, rng):
    """Dense binary data (the time-to-gap benchmarks' logistic problem): X standard
    normal, y the sign of a random linear model plus unit noise.

    Parameters
    ----------
    n, d : int
    rng : numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, d)
    y : ndarray of int64, shape (n,)
        0 / 1 labels.
    """
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


def dense_multiclass(n, d, k, rng):
    """Dense data with k classes: the argmax of a random linear model plus noise.

    Returns
    -------
    X : ndarray of shape (n, d)
    y : ndarray of int, shape (n,)
    """
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, k)) + rng.standard_normal((n, k)), axis=1)
    return X, y
