"""Dask collections as fastgd trains on them: aligned row chunks of X, y and the
sample weights, checked once on the workers.

A fit on Dask input never brings X or y to the client: ``ChunkedData`` holds one
delayed object per row chunk (X's chunks, and y and the weights cut the same way), and
one pass over the chunks on the workers (``summarise``) checks them and brings back
what the fit needs to start: the rows of every chunk, the classes and their counts, the
weights' sum, the largest row and a random sample of at most ``CURVATURE_SAMPLE_ROWS``
rows (the rows the fit on one machine samples for its curvature estimates) that the
step size, the constant model's objective and the checks of the epoch loop are
computed on.

Only this module and ``_distributed`` import Dask, and only once the estimators have
been given a Dask collection (``is_dask``): the core package does not need it.
"""
import sys
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import (
    _check_feature_names, _check_n_features, assert_all_finite, check_array,
)

from fastgd._proximal import CURVATURE_SAMPLE_ROWS, max_row_norm, sample_rows


def is_dask(obj):
    """Whether ``obj`` is a Dask collection (without importing Dask)."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(obj)


def as_dask_array(obj, name, lengths=True):
    """A Dask array of a Dask array, DataFrame or Series (its chunk lengths computed
    when ``lengths``: one pass over the index)."""
    import dask.array as da

    if isinstance(obj, da.Array):
        return obj
    if hasattr(obj, "to_dask_array"):
        return obj.to_dask_array(lengths=lengths)
    raise TypeError(f"{name} must be a dask.array.Array or a dask DataFrame or Series; "
                    f"got {type(obj).__name__}.")


def _check_names(estimator, X, reset):
    """scikit-learn's ``feature_names_in_`` set or checked from the columns of a
    dask DataFrame (its ``_meta``, an empty pandas frame with the same columns)."""
    _check_feature_names(estimator, getattr(X, "_meta", X), reset=reset)


def _rows_of(estimator, X, reset):
    """X as a 2D Dask array whose chunks hold whole rows, its feature names and
    number of features set (``reset``) or checked against the estimator's."""
    _check_names(estimator, X, reset)
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D Dask array for X, got {X.ndim}D with "
                         f"shape {X.shape}.")
    _row_chunks_known(X, "X")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    _check_n_features(estimator, X, reset=reset)
    return X


def _row_chunks_known(arr, name):
    if any(np.isnan(c) for c in arr.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes (a Dask array made from a DataFrame "
            f"without lengths, or after boolean indexing): call "
            f"{name}.compute_chunk_sizes() first, or pass the dask DataFrame itself.")


def _aligned(arr, X, name):
    """``arr`` (NumPy or Dask, 1D or 2D) cut into X's row chunks."""
    import dask.array as da

    if arr is None:
        return None
    if is_dask(arr):
        arr = as_dask_array(arr, name)
        _row_chunks_known(arr, name)
    else:
        arr = np.asarray(arr)
        arr = da.from_array(arr, chunks=(X.chunks[0],) + arr.shape[1:])
    if arr.shape[0] != X.shape[0]:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"[{X.shape[0]}, {arr.shape[0]}] (X and {name}).")
    if arr.ndim > 1 and arr.chunks[1:] != tuple((n,) for n in arr.shape[1:]):
        arr = arr.rechunk({1: -1})
    if arr.chunks[0] != X.chunks[0]:
        # y and the weights are small beside X: they move, X does not
        arr = arr.rechunk({0: X.chunks[0]})
    return arr


@dataclass
class ChunkedData:
    """X, y and the sample weights of a fit as aligned row chunks (delayed objects).

    Attributes
    ----------
    X, y, sample_weight : list of dask.delayed.Delayed
        One per row chunk (``sample_weight`` None without weights).
    chunk_rows : list of int
    n_features : int
    dtype : numpy dtype
        The dtype the chunks are trained in (float32 stays float32).
    summary : Summary or None
        What ``summarise`` found.
    array : dask.array.Array or None
        X as a Dask array (to find the workers that hold its chunks).
    """

    X: list
    y: Optional[list]
    sample_weight: Optional[list]
    chunk_rows: list
    n_features: int
    dtype: Any
    summary: Any = None
    array: Any = None

    @property
    def n_rows(self):
        return int(sum(self.chunk_rows))

    @classmethod
    def from_collections(cls, estimator, X, y=None, sample_weight=None, reset=True):
        """Check the shapes and cut y and the weights as X; set ``n_features_in_``
        and ``feature_names_in_`` (``reset``) or check them.

        Parameters
        ----------
        estimator : SGDRegressor or SGDClassifier
        X : dask Array or DataFrame of shape (n_samples, n_features)
        y, sample_weight : dask or NumPy array-like, default=None
        reset : bool
        """
        X = _rows_of(estimator, X, reset)
        y = _aligned(y, X, "y")
        sample_weight = _aligned(sample_weight, X, "sample_weight")
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return cls(X=list(X.to_delayed().ravel()),
                   y=None if y is None else list(y.to_delayed().ravel()),
                   sample_weight=(None if sample_weight is None
                                  else list(sample_weight.to_delayed().ravel())),
                   chunk_rows=[int(c) for c in X.chunks[0]],
                   n_features=int(X.shape[1]), dtype=np.dtype(dtype), array=X)

    def summarise(self, estimator, classify, largest_row):
        """Check every chunk's y and weights on the workers and keep what the fit
        starts from (``self.summary``); one round trip.  X's values are checked by
        the training itself (``check_finite`` once an objective is not finite), as
        on one machine.  ``largest_row``: find the largest row (a pass over X)."""
        import dask

        # the rows the fit on one machine samples for its curvature estimates: the
        # same estimates, so that the full-batch solvers take the same path
        sample = sample_rows(self.n_rows, CURVATURE_SAMPLE_ROWS)
        starts = np.cumsum([0] + self.chunk_rows)
        parts = []
        for i, X in enumerate(self.X):
            y = None if self.y is None else self.y[i]
            w = None if self.sample_weight is None else self.sample_weight[i]
            take = (sample if isinstance(sample, slice) else
                    sample[(sample >= starts[i]) & (sample < starts[i + 1])]
                    - starts[i])
            parts.append(dask.delayed(chunk_summary, pure=True)(
                X, y, w, i, self.dtype, classify, estimator.fit_intercept, take,
                largest_row))
        self.summary = Summary.combine(dask.compute(*parts), classify)
        return self.summary

    def check_finite(self, estimator):
        """scikit-learn's error for NaN or infinity in X, naming the first chunk
        that holds them (a pass over X on the workers)."""
        import dask

        name = type(estimator).__name__
        dask.compute(*[dask.delayed(chunk_finite, pure=True)(X, i, name)
                       for i, X in enumerate(self.X)])


def chunk_matrix(X, dtype):
    """A chunk of X as the kernels read it: C-ordered array or CSR, in ``dtype``."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=dtype)
    return np.ascontiguousarray(X, dtype=dtype)


def chunk_finite(X, index, estimator_name):
    """Raise scikit-learn's error for NaN or infinity in a chunk of X, naming it."""
    try:
        assert_all_finite(X.data if sp.issparse(X) else X, input_name="X",
                          estimator_name=estimator_name)
    except ValueError as error:
        raise ValueError(f"chunk {index} of the Dask input: {error}") from None


def chunk_summary(X, y, w, index, dtype, classify, fit_intercept, take, largest_row):
    """Check one chunk (X's shape and type, y's labels or values, the weights) and
    return its part of the ``Summary`` with its rows ``take`` of the sample (runs on
    a worker)."""
    where = f"chunk {index} of the Dask input"
    try:
        X = check_array(X, accept_sparse="csr", dtype=dtype, order="C",
                        accept_large_sparse=True, input_name="X",
                        ensure_all_finite=False, ensure_min_samples=0)
        if y is not None:
            soft = classify and np.ndim(y) == 2
            y = check_array(y, ensure_2d=False, dtype=None if classify and not soft
                            else np.float64, input_name="y", ensure_min_samples=0)
        if w is not None:
            w = check_array(w, ensure_2d=False, dtype=np.float64,
                            input_name="sample_weight", ensure_min_samples=0)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    X = chunk_matrix(X, dtype)
    largest = (float(max_row_norm(X, w, fit_intercept)) if largest_row
               else float("nan"))
    part = dict(rows=X.shape[0], weight=float(X.shape[0] if w is None else w.sum()),
                largest_row=largest)
    if classify and y is not None and y.ndim == 1:
        part["labels"], part["counts"] = np.unique(y, return_counts=True)
    part["X"] = X[take]
    part["y"] = None if y is None else y[take]
    part["w"] = None if w is None else w[take]
    return part


@dataclass
class Summary:
    """What one pass over the chunks found.

    Attributes
    ----------
    rows : int
    total_weight : float
        The sample weights' sum (the rows without weights).
    largest_row : float
        The largest ``s_i (|x_i|^2 + 1)`` with the weights at a mean of 1 (NaN when
        not asked for).
    labels, counts : ndarray or None
        The classes found in y and their counts (classification with labels).
    X, y, sample_weight : the sample of rows (ndarray or CSR; None where absent)
    """

    rows: int
    total_weight: float
    largest_row: float
    labels: Optional[np.ndarray]
    counts: Optional[np.ndarray]
    X: Any
    y: Any
    sample_weight: Optional[np.ndarray]

    @classmethod
    def combine(cls, parts, classify):
        rows = sum(p["rows"] for p in parts)
        total_weight = sum(p["weight"] for p in parts)
        mean_weight = total_weight / rows if rows else 1.0
        largest = max(p["largest_row"] for p in parts)
        if parts[0]["w"] is not None and mean_weight > 0:
            largest /= mean_weight
        labels = counts = None
        if classify and "labels" in parts[0]:
            labels = np.unique(np.concatenate([p["labels"] for p in parts]))
            counts = np.zeros(len(labels), dtype=np.int64)
            for p in parts:
                counts[np.searchsorted(labels, p["labels"])] += p["counts"]
        Xs = [p["X"] for p in parts]
        X = sp.vstack(Xs, format="csr") if sp.issparse(Xs[0]) else np.concatenate(Xs)
        y = None if parts[0]["y"] is None else np.concatenate([p["y"] for p in parts])
        w = None if parts[0]["w"] is None else np.concatenate([p["w"] for p in parts])
        return cls(rows=rows, total_weight=total_weight, largest_row=largest,
                   labels=labels, counts=counts, X=X, y=y, sample_weight=w)


def predict_blocks(estimator, X, method, n_columns):
    """``estimator.<method>`` of every chunk of the Dask collection ``X``, lazily: a
    Dask array of the chunks' results, 1D (``n_columns`` None) or with
    ``n_columns`` columns.  The feature names are checked here, once."""
    import copy

    X = _rows_of(estimator, X, reset=False)
    # the chunks are arrays without names: the copy they meet has none either
    fitted = copy.copy(estimator)
    fitted.__dict__.pop("feature_names_in_", None)
    func = getattr(fitted, method)
    dtype = (estimator.classes_.dtype if method == "predict"
             and hasattr(estimator, "classes_") else
             X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
    if n_columns is None:
        return X.map_blocks(func, drop_axis=1, dtype=dtype,
                            meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(func, chunks=(X.chunks[0], (n_columns,)), dtype=dtype,
                        meta=np.empty((0, 0), dtype=dtype))


def score_blocks(estimator, X, y, sample_weight, metric):
    """Accuracy (``metric='accuracy'``) or R^2 of ``estimator`` on Dask collections,
    computed on the workers; a float."""
    import dask
    import dask.array as da

    predicted = estimator.predict(X)
    if not is_dask(predicted):  # X in memory, y a Dask collection
        predicted = da.from_array(np.asarray(predicted))
    y = _aligned(y, predicted, "y")
    w = _aligned(sample_weight, predicted, "sample_weight")
    w = da.ones_like(predicted, dtype=np.float64) if w is None else w
    if metric == "accuracy":
        hits, total = dask.compute(((predicted == y) * w).sum(), w.sum())
        return float(hits / total)
    y = y.astype(np.float64)
    mean = (w * y).sum() / w.sum()
    residual = (w * (y - predicted) ** 2).sum()
    spread = (w * (y - mean) ** 2).sum()
    residual, spread = dask.compute(residual, spread)
    if spread == 0:
        return 1.0 if residual == 0 else 0.0
    return float(1.0 - residual / spread)
