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

Each chunk's real shape is checked against the one its collection declares where the
chunk is first computed (a chunk that would be cut again, by the summary otherwise),
so that chunks built with wrong sizes get an error naming them, not a misaligned fit.
A computation of the fit that fails because input data is gone (futures the cluster
lost: data scattered to a worker that died, which Dask cannot compute again) raises
an error naming the lost chunks (``input_kept``).

The modules of ``fastgd._dask`` import Dask only once the estimators have been given
a Dask collection (``is_dask``): the core package does not need it.
"""
import sys
from concurrent.futures import CancelledError
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import assert_all_finite, check_array

from fastgd._training.curvature import CURVATURE_SAMPLE_ROWS, max_row_norm, sample_rows

# a chunk of at least LABEL_ORDER_MIN_ROWS rows whose labels' shares differ from
# those of all the rows by more than LABEL_ORDER_DISTANCE (total variation) says
# that the rows are ordered by label across the chunks (``Summary.label_order``):
# rows in a random order put a chunk of 1000 rows that far off with a tiny
# probability (5 standard deviations for two balanced classes; with a hundred
# classes the expected distance is about 0.13)
LABEL_ORDER_DISTANCE = 0.25
LABEL_ORDER_MIN_ROWS = 1000


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
        with input_kept({name: obj}):  # the lengths are computed
            return obj.to_dask_array(lengths=lengths)
    raise TypeError(f"{name} must be a dask.array.Array or a dask DataFrame or Series; "
                    f"got {type(obj).__name__}.")


def rows_of(X):
    """X (a Dask array or DataFrame) as a 2D Dask array whose chunks hold whole
    rows."""
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D Dask array for X, got {X.ndim}D with "
                         f"shape {X.shape}.")
    _row_chunks_known(X, "X")
    if len(X.chunks[1]) > 1:
        # the chunks are cut again: their shapes are checked first
        X = shapes_checked(X, "X").rechunk({1: -1})
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
    if arr.shape[0] != X.shape[0]:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"[{X.shape[0]}, {arr.shape[0]}] (X and {name}).")
    if not is_dask(arr):
        arr = da.from_array(arr, chunks=(X.chunks[0],) + arr.shape[1:])
    whole_rows = arr.ndim == 1 or arr.chunks[1:] == tuple((n,) for n in arr.shape[1:])
    if is_dask(arr) and not (whole_rows and arr.chunks[0] == X.chunks[0]):
        # the chunks are cut again: their shapes are checked first
        arr = shapes_checked(arr, name)
    if not whole_rows:
        arr = arr.rechunk({1: -1})
    if arr.chunks[0] != X.chunks[0]:
        # y and the weights are small beside X: they move, X does not
        arr = arr.rechunk({0: X.chunks[0]})
    return arr


def check_chunk_shape(chunk, declared, index, name):
    """Raise a ValueError naming chunk ``index`` of ``name`` when its real shape is not
    the ``declared`` one (rows first: the shapes must match for the chunks of X, y
    and the weights to line up)."""
    real = tuple(int(n) for n in np.shape(chunk))
    declared = tuple(int(n) for n in declared)
    if real == declared:
        return
    if real[:1] != declared[:1]:
        found = f"has {real[0]} rows where the collection declares {declared[0]}"
    else:
        found = f"has shape {real} where the collection declares {declared}"
    raise ValueError(f"Chunk {index} of {name} in the Dask input {found}; build the "
                     f"collection with each chunk's true shape (the shape given to "
                     f"da.from_delayed, the lengths given to to_dask_array).")


def _checked_block(block, input_name, block_info=None):
    """A chunk of a Dask array, unchanged, once its shape is the declared one."""
    where = block_info[0]
    declared = [stop - start for start, stop in where["array-location"]]
    check_chunk_shape(block, declared, where["chunk-location"][0], input_name)
    return block


def shapes_checked(arr, name):
    """The Dask array ``arr`` with each chunk's shape checked where it is computed
    (``check_chunk_shape``), for a collection whose chunks are cut again."""
    return arr.map_blocks(_checked_block, input_name=name, dtype=arr.dtype,
                          meta=arr._meta)


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
    inputs : dict
        X, y and the weights as the Dask arrays the chunks come from, by name (to
        find the chunks that depend on lost data).
    """

    X: list
    y: Optional[list]
    sample_weight: Optional[list]
    chunk_rows: list
    n_features: int
    dtype: Any
    summary: Any = None
    array: Any = None
    inputs: dict = field(default_factory=dict)

    @property
    def n_rows(self):
        return int(sum(self.chunk_rows))

    @classmethod
    def from_collections(cls, X, y=None, sample_weight=None):
        """Check the shapes and cut y and the weights as X.

        Parameters
        ----------
        X : dask Array of shape (n_samples, n_features)
            Chunks of whole rows (``rows_of``).
        y, sample_weight : dask or NumPy array-like, default=None
        """
        y = _aligned(y, X, "y")
        sample_weight = _aligned(sample_weight, X, "sample_weight")
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return cls(X=list(X.to_delayed().ravel()),
                   y=None if y is None else list(y.to_delayed().ravel()),
                   sample_weight=(None if sample_weight is None
                                  else list(sample_weight.to_delayed().ravel())),
                   chunk_rows=[int(c) for c in X.chunks[0]],
                   n_features=int(X.shape[1]), dtype=np.dtype(dtype), array=X,
                   inputs={name: arr for name, arr in (("X", X), ("y", y),
                                                       ("sample_weight", sample_weight))
                           if arr is not None})

    def summarise(self, fit_intercept, classify, largest_row):
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
                X, y, w, i, (self.chunk_rows[i], self.n_features), self.dtype,
                classify, fit_intercept, take, largest_row))
        with input_kept(self.inputs):
            self.summary = Summary.combine(dask.compute(*parts), classify)
        return self.summary

    def check_finite(self, estimator_name):
        """scikit-learn's error for NaN or infinity in X, naming the first chunk
        that holds them (a pass over X on the workers)."""
        import dask

        name = estimator_name
        with input_kept(self.inputs):
            dask.compute(*[dask.delayed(chunk_finite, pure=True)(X, i, name)
                           for i, X in enumerate(self.X)])


def lost_chunks(inputs):
    """``{name: [chunk indices]}`` of the Dask collections ``inputs`` (by name) whose
    chunks depend on a future the cluster has lost (cancelled); empty when none
    is."""
    lost = {name: chunks_on_lost_futures(collection)
            for name, collection in inputs.items()}
    return {name: indices for name, indices in lost.items() if indices}


def chunks_on_lost_futures(collection):
    """The indices of the row chunks of a Dask array (whole rows in each) or the
    partitions of a DataFrame that depend on a future the cluster has lost
    (cancelled)."""
    lost = _cancelled_keys(collection)
    if not lost:
        return []
    graph, chunk_keys = _graph_and_chunk_keys(collection)
    dependents = {}
    for key, task in graph.items():
        for dependency in _dependencies(graph, key, task):
            dependents.setdefault(dependency, set()).add(key)
    # every key that depends on a lost one, from the lost keys on
    reached, frontier = set(lost), list(lost)
    while frontier:
        for key in dependents.get(frontier.pop(), ()):
            if key not in reached:
                reached.add(key)
                frontier.append(key)
    return [i for i, key in enumerate(chunk_keys) if key in reached]


def _graph_and_chunk_keys(collection):
    """(the whole graph of a Dask collection, the key of each row chunk or
    partition), the keys outside the collection that its graph names included."""
    from dask.core import flatten

    if hasattr(collection, "chunks"):  # an array
        return (dict(collection.__dask_graph__()),
                list(flatten(collection.__dask_keys__())))
    # a DataFrame's own graph leaves out the tasks that hold its futures' keys
    parts = list(collection.to_delayed(optimize_graph=False))
    graph = {}
    for part in parts:
        graph.update(part.__dask_graph__())
    return graph, [part.key for part in parts]


def _dependencies(graph, key, task):
    """The keys a task of ``graph`` depends on, those of futures outside it
    included."""
    from dask.core import get_dependencies

    named = getattr(task, "dependencies", None)  # dask's task spec
    return named if named is not None else get_dependencies(graph, key)


def _cancelled_keys(collection):
    """The keys of the cancelled futures in ``collection``'s graph and of the default
    client (a DataFrame's graph names its futures' keys without holding them)."""
    from distributed import default_client, futures_of

    keys = {future.key for future in futures_of(collection)
            if future.status == "cancelled"}
    try:
        client = default_client()
    except ValueError:  # no client
        return keys
    return keys | {key for key, state in list(client.futures.items())
                   if state.status == "cancelled"}


def lost_input_message(lost):
    """The error for input chunks the cluster lost (``lost_chunks``)."""
    names = [f"{name}'s chunk{'s' if len(indices) > 1 else ''} "
             f"{', '.join(str(i) for i in indices)}" for name, indices in lost.items()]
    return (f"The Dask input was lost with the worker that held it: "
            f"{' and '.join(names)} depend on futures the cluster no longer has (data "
            f"put on the cluster with client.scatter has no source Dask could compute "
            f"it again from); scatter with broadcast=True (a copy on every worker), "
            f"persist a collection Dask can recompute (da.from_array, or one read from "
            f"files), or scatter the data again, then fit again.")


@contextmanager
def input_kept(inputs):
    """Turn a computation on the Dask collections ``inputs`` (by name; a
    ``ChunkedData``'s ``inputs``) that failed because input futures were lost into a
    RuntimeError naming the lost chunks; any other failure passes unchanged."""
    try:
        yield
    except CancelledError:
        lost = lost_chunks(inputs) if "distributed" in sys.modules else {}
        if not lost:
            raise
        raise RuntimeError(lost_input_message(lost)) from None


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


def chunk_summary(X, y, w, index, shape, dtype, classify, fit_intercept, take,
                  largest_row):
    """Check one chunk (X's shape, declared ``shape``, and type, y's labels or values,
    the weights) and return its part of the ``Summary`` with its rows ``take`` of the
    sample (runs on a worker)."""
    where = f"chunk {index} of the Dask input"
    check_chunk_shape(X, shape, index, "X")
    for name, values in (("y", y), ("sample_weight", w)):
        if values is not None:
            check_chunk_shape(values, (shape[0],) + np.shape(values)[1:], index, name)
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
    chunk_counts : ndarray of shape (n_chunks, n_labels) or None
        Each chunk's count of each of ``labels``.
    """

    rows: int
    total_weight: float
    largest_row: float
    labels: Optional[np.ndarray]
    counts: Optional[np.ndarray]
    X: Any
    y: Any
    sample_weight: Optional[np.ndarray]
    chunk_counts: Optional[np.ndarray] = None

    @classmethod
    def combine(cls, parts, classify):
        rows = sum(p["rows"] for p in parts)
        total_weight = sum(p["weight"] for p in parts)
        mean_weight = total_weight / rows if rows else 1.0
        largest = max(p["largest_row"] for p in parts)
        if parts[0]["w"] is not None and mean_weight > 0:
            largest /= mean_weight
        labels = counts = chunk_counts = None
        if classify and "labels" in parts[0]:
            labels = np.unique(np.concatenate([p["labels"] for p in parts]))
            chunk_counts = np.zeros((len(parts), len(labels)), dtype=np.int64)
            for i, p in enumerate(parts):
                chunk_counts[i, np.searchsorted(labels, p["labels"])] = p["counts"]
            counts = chunk_counts.sum(axis=0)
        Xs = [p["X"] for p in parts]
        X = sp.vstack(Xs, format="csr") if sp.issparse(Xs[0]) else np.concatenate(Xs)
        y = None if parts[0]["y"] is None else np.concatenate([p["y"] for p in parts])
        w = None if parts[0]["w"] is None else np.concatenate([p["w"] for p in parts])
        return cls(rows=rows, total_weight=total_weight, largest_row=largest,
                   labels=labels, counts=counts, X=X, y=y, sample_weight=w,
                   chunk_counts=chunk_counts)

    def label_order(self):
        """The chunk whose labels differ most from those of all the rows, when they
        differ by more than ``LABEL_ORDER_DISTANCE`` (total variation: half the
        summed absolute differences of the classes' shares), as ``(chunk, label,
        its share in the chunk, its share overall)`` for the label that differs
        most; None when every chunk has about the labels of the whole (rows in a
        random order), or without labels."""
        if self.chunk_counts is None or len(self.chunk_counts) < 2:
            return None
        rows = self.chunk_counts.sum(axis=1, keepdims=True)
        shares = self.chunk_counts / np.maximum(rows, 1)
        overall = self.counts / self.counts.sum()
        distance = 0.5 * np.abs(shares - overall).sum(axis=1)
        distance[rows[:, 0] < LABEL_ORDER_MIN_ROWS] = 0.0
        chunk = int(np.argmax(distance))
        if not distance[chunk] > LABEL_ORDER_DISTANCE:
            return None
        k = int(np.argmax(np.abs(shares[chunk] - overall)))
        return chunk, self.labels[k], float(shares[chunk, k]), float(overall[k])


def map_rows(func, X, dtype, n_columns):
    """``func`` of every chunk of the Dask array ``X``, lazily: a Dask array of the
    chunks' results of ``dtype``, 1D (``n_columns`` None) or with ``n_columns``
    columns."""
    if n_columns is None:
        return X.map_blocks(func, drop_axis=1, dtype=dtype,
                            meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(func, chunks=(X.chunks[0], (n_columns,)), dtype=dtype,
                        meta=np.empty((0, 0), dtype=dtype))


def score_blocks(predicted, y, sample_weight, metric):
    """Accuracy (``metric='accuracy'``) or R^2 of the predictions ``predicted``
    against y, computed on the workers; a float."""
    import dask
    import dask.array as da

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
