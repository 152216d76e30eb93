"""Calling the kernels from the tests: their structs built from plain arrays."""
import numpy as np
import scipy.sparse as sp

from fastgd._kernels import _batch
from fastgd._kernels import _evaluate
from fastgd._kernels._losses import LOSS_TYPES
from fastgd._kernels._structs import Rows, Targets

CLASSIFY = {"log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron"}
SCALAR_LOSSES = sorted(name for name in LOSS_TYPES if name != "multinomial")


def loss(name, epsilon=0.1):
    """The loss object of a table row (``"multinomial"``: the softmax)."""
    return LOSS_TYPES[name](epsilon)


def regression_targets(y, sample_weight=None, dtype=np.float64):
    """One model regressing on y."""
    y = np.ascontiguousarray(y, dtype=dtype)
    return Targets(dtype, len(y), [-1], [1.0], 1.0, y=y,
                   sample_weight=_weights(sample_weight, dtype))


def class_targets(y_class, pos_class, w_pos, w_neg=1.0, sample_weight=None,
                  dtype=np.float64, n_classes=None):
    """Models separating classes ``pos_class`` from the others (or the softmax's
    classes)."""
    y_class = np.ascontiguousarray(y_class, dtype=np.int32)
    n_classes = int(y_class.max()) + 1 if n_classes is None else n_classes
    return Targets(dtype, len(y_class), pos_class, w_pos, w_neg, y_class=y_class,
                   sample_weight=_weights(sample_weight, dtype), n_classes=n_classes)


def soft_targets(Y, sample_weight=None, dtype=np.float64):
    """The softmax's classes on soft labels."""
    n, k = Y.shape
    return Targets(dtype, n, np.arange(k), np.ones(k), 1.0,
                   soft=np.ascontiguousarray(Y, dtype=dtype), n_classes=k,
                   sample_weight=_weights(sample_weight, dtype))


def _weights(sample_weight, dtype):
    if sample_weight is None or len(sample_weight) == 0:
        return None
    return np.ascontiguousarray(sample_weight, dtype=dtype)


def gradient(f, X, targets, coef, intercept, rows=None, n_threads=1):
    """(summed loss, gradient, intercept gradient) from ``_batch.gradient``."""
    X = sp.csr_matrix(X) if sp.issparse(X) else X
    R = Rows(X)
    work = _batch.Workspace(f, R, coef.shape[0], n_threads, min_parallel_rows=1)
    total = _batch.gradient(f, R, targets, rows, np.ascontiguousarray(coef),
                            np.ascontiguousarray(intercept, dtype=np.float64), work)
    return total, work.grad.copy(), work.grad_intercept.copy()


def hessian_diagonal(f, X, targets, coef, intercept, rows=None, n_threads=1):
    """(weights' diagonal, intercepts' diagonal) from ``_batch.hessian_diagonal``."""
    X = sp.csr_matrix(X) if sp.issparse(X) else X
    R = Rows(X)
    work = _batch.Workspace(f, R, coef.shape[0], n_threads, min_parallel_rows=1)
    _batch.hessian_diagonal(f, R, targets, rows, np.ascontiguousarray(coef),
                            np.ascontiguousarray(intercept, dtype=np.float64), work)
    return work.grad.copy(), work.grad_intercept.copy()


def loss_sum(f, X, targets, coef, intercept, rows=None, n_threads=1):
    """The summed loss from ``_evaluate.loss_sum``."""
    R = Rows(X)
    rows = np.arange(R.n_rows, dtype=np.int32) if rows is None else rows
    return _evaluate.loss_sum(f, R, targets, rows, np.ascontiguousarray(coef),
                            np.ascontiguousarray(intercept, dtype=np.float64),
                            n_threads)
