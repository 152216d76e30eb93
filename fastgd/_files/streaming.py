"""``fit_stream``: an estimator trained by ``partial_fit`` over blocks of rows, with a holdout.

Data larger than memory is trained a block at a time: each pass goes over the blocks
in order and calls the estimator's ``partial_fit`` on each, so memory holds one block
and the model.  The data is a file (read by ``readers.DataFile``, the readers of
``fastgd train``, after a first pass that finds the labels, the features and
libsvm's index base) or blocks the caller makes: a list, a callable that returns a
fresh iterator each pass, or, for one pass without a holdout, an iterator.

Every ``holdout_stride``-th row of the stream is held out of training (``holdout``,
the same rows in every pass) and scored once training ends, beside the constant
model of the training labels (``holdout.HoldoutScore``); a pass's objective is the
row-weighted mean of its blocks' last ``loss_curve_`` value.  A block's
``ConvergenceWarning`` (steps too large for the model so far) is a passing state
while the step size decays: only the last pass's are repeated, as one warning.
``fastgd train`` calls ``fit_stream`` on a file larger than one block.
"""
import numbers
import os
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fastgd._files.holdout import (ConstantModel, HoldoutResult, HoldoutScore,
                                   holdout_rows, holdout_stride)
from fastgd._files.progress import Progress

_BLOCK = "a tuple (X, y) or (X, y, sample_weight)"


@dataclass(frozen=True)
class StreamRecord:
    """What ``fit_stream`` trained on and what its holdout measured.

    Attributes
    ----------
    passes : int
        The passes over the data.
    rows_per_pass : int
        The rows trained on in each pass (the held-out rows left out).
    objective : tuple of float
        Per pass, the training objective: each block's last ``loss_curve_`` value
        after its ``partial_fit``, averaged over the pass weighted by the block's
        rows.
    holdout_stride : int
        Every how many rows of the stream one was held out (0: none).
    holdout : HoldoutResult
        The held-out rows' score (``metric``, ``n_rows``, ``score``,
        ``constant_score``, ``worse_than_constant``), once training ended.
    """

    passes: int
    rows_per_pass: int
    objective: tuple
    holdout_stride: int
    holdout: HoldoutResult


def fit_stream(estimator, data, *, passes=1, holdout=0.0, classes=None,
               progress=False, return_record=False, file_format=None,
               label_column=0, header=None, chunk_bytes=256 << 20):
    """Train ``estimator`` by ``partial_fit`` over blocks of rows, pass after pass.

    Each pass calls ``estimator.partial_fit`` on every block in order, so only one
    block is in memory at a time: the way to train on a file larger than memory,
    as ``fastgd train`` does.  With ``holdout``, every ``round(1 / holdout)``-th
    row of the stream is kept out of training (the same rows in every pass) and
    scored once training ends, beside the constant model, as Vowpal Wabbit's
    ``--holdout_period``.

    Parameters
    ----------
    estimator : SGDClassifier, SGDRegressor or SGDOneClassSVM
        Trained in place by its ``partial_fit`` (its parameters as set; one that
        was trained before goes on from where it stopped).
    data : str, path-like, list of blocks, callable or iterator
        A block is a tuple ``(X, y)`` or ``(X, y, sample_weight)``: ``X`` an array
        or a sparse matrix of shape ``(n_rows, n_features)`` (the same features in
        every block), ``y`` its labels (None for SGDOneClassSVM) and
        ``sample_weight`` its rows' weights.  The data is one of:

        - a path: a libsvm, CSV or Parquet file, read a block at a time by the
          readers of ``fastgd train`` after a first pass that finds its labels,
          features and libsvm's index base;
        - a list (or any iterable that ``iter`` gives a new iterator of each time)
          of blocks;
        - a callable that returns a fresh iterator of blocks each time it is
          called (e.g. a generator function): it is called once per pass and once
          more for the holdout;
        - an iterator (e.g. a generator object), only with ``passes=1`` and
          ``holdout=0``: it can be gone over once.
    passes : int, default=1
        How many times to go over the data.
    holdout : float, default=0.0
        In [0, 0.5]: the share of rows held out, every ``round(1 / holdout)``-th
        row of the stream (at least every second), counted from 0 across blocks.
        0: none, and no score.
    classes : array-like or None, default=None
        SGDClassifier: every label the data holds, as ``partial_fit`` needs them on
        its first call.  None: a file's are found by its first pass; blocks need
        them unless the classifier was trained before.
    progress : bool or Progress, default=False
        True: a line per pass on standard error (rows, seconds, rows per second,
        objective), redrawn in place on a terminal; or the ``Progress`` that
        ``fastgd train`` passes.
    return_record : bool, default=False
        Also return the ``StreamRecord`` of the passes and the holdout.
    file_format : {"libsvm", "csv", "parquet"} or None, default=None
        A file's format (None: from its content).  Ignored for blocks.
    label_column : int or str, default=0
        CSV and Parquet files: the labels' column, by index or name.
    header : bool or None, default=None
        CSV files: whether the first line names the columns (None: when its fields
        are names).
    chunk_bytes : int, default=268435456
        Files: about how many bytes one block reads (256 MB).

    Returns
    -------
    estimator : SGDClassifier, SGDRegressor or SGDOneClassSVM
        The estimator given, trained.
    record : StreamRecord
        With ``return_record`` only.

    Raises
    ------
    TypeError
        ``estimator`` is not one of fastgd's, ``data`` is none of the above, or a
        block is not a tuple of 2 or 3 items.
    ValueError
        ``passes`` or ``holdout`` out of range, an iterator for more than one
        pass, a classifier without ``classes``, blocks of other shapes (X not 2-D,
        labels or weights not one per row, another number of features than the
        first block), data without rows, and the estimator's own errors.
    FileFormatError
        A file that does not parse (a ``ValueError`` naming the file and line).

    See Also
    --------
    fastgd.SGDClassifier.partial_fit : what each block is given to.

    Notes
    -----
    The holdout score is accuracy (classifier), R^2 (regressor) or the share of
    rows inside the boundary (one-class), unweighted; the constant model predicts
    the most frequent training label or their mean.  ``record.holdout``'s
    ``worse_than_constant`` flags a model that scores below it (steps too large,
    unscaled features): ``fastgd train`` refuses to write such a model.

    Examples
    --------
    >>> import numpy as np
    >>> from fastgd import SGDRegressor, fit_stream
    >>> rng = np.random.default_rng(0)
    >>> w = np.array([1.0, 2.0, 0.0, -1.0, 0.5])
    >>> blocks = []
    >>> for _ in range(10):
    ...     X = rng.standard_normal((1000, 5))
    ...     blocks.append((X, X @ w + 0.1 * rng.standard_normal(1000)))
    >>> model, record = fit_stream(SGDRegressor(random_state=0), blocks, passes=3,
    ...                            holdout=0.1, return_record=True)
    >>> record.rows_per_pass, record.holdout.n_rows, record.holdout.metric
    (9000, 1000, 'R^2')
    >>> bool(record.holdout.score > 0.99)
    True

    A generator function reads the blocks again each pass:

    >>> def read_blocks():
    ...     yield from blocks
    >>> model = fit_stream(SGDRegressor(random_state=0), read_blocks, passes=2)
    >>> bool(np.allclose(model.coef_, w, atol=0.05))
    True

    A file, read a block at a time (``"train.svm"`` of libsvm lines)::

        model = fit_stream(SGDClassifier(), "train.svm", passes=5, holdout=0.1)
    """
    from sklearn.base import is_classifier

    _check_estimator(estimator)
    _check_counts(passes, holdout)
    if not isinstance(progress, Progress):
        progress = Progress(quiet=not progress)
    if isinstance(data, (str, os.PathLike)):
        source, labels = _file_source(estimator, data, progress, file_format,
                                      label_column, header, chunk_bytes)
        classes = labels if classes is None else classes
    else:
        source = _block_source(data, passes, holdout)
    fit_args = {}
    if is_classifier(estimator):
        if classes is None and not hasattr(estimator, "classes_"):
            raise ValueError("fit_stream: the classifier's first partial_fit needs "
                             "every label the data holds: pass classes=[...].")
        if classes is not None:
            fit_args["classes"] = classes
    rows, objective, constant = _train(estimator, source, passes, holdout, fit_args,
                                       progress)
    score = HoldoutScore(estimator, constant.prediction(is_classifier(estimator)))
    if holdout > 0:
        progress.begin("holdout pass")
        for X, y, _, held in _held_blocks(source, holdout, estimator):
            held = np.flatnonzero(held)
            score.add(X[held], None if y is None else y[held])
        progress.done("holdout pass", score.n)
    if not return_record:
        return estimator
    return estimator, StreamRecord(
        passes=passes, rows_per_pass=rows, objective=tuple(objective),
        holdout_stride=holdout_stride(holdout) if holdout > 0 else 0,
        holdout=score.result())


def _check_estimator(estimator):
    """Refuse anything but an instance of fastgd's three estimators."""
    from fastgd import SGDClassifier, SGDOneClassSVM, SGDRegressor

    if not isinstance(estimator, (SGDClassifier, SGDRegressor, SGDOneClassSVM)):
        got = (f"the class {estimator.__name__}: pass an instance, e.g. "
               f"{estimator.__name__}()" if isinstance(estimator, type)
               else type(estimator).__name__)
        raise TypeError(f"fit_stream trains fastgd's SGDClassifier, SGDRegressor or "
                        f"SGDOneClassSVM; got {got}.")


def _check_counts(passes, holdout):
    """Refuse passes that are not a positive integer, a holdout outside [0, 0.5]."""
    if (isinstance(passes, bool) or not isinstance(passes, numbers.Integral)
            or passes < 1):
        raise ValueError(f"fit_stream: passes must be an integer of at least 1; got "
                         f"{passes!r}.")
    if (isinstance(holdout, bool) or not isinstance(holdout, numbers.Real)
            or not 0 <= holdout <= 0.5):
        raise ValueError(f"fit_stream: holdout must be a number in [0, 0.5] (the "
                         f"share of rows held out); got {holdout!r}.")


def _file_source(estimator, path, progress, file_format, label_column, header,
                 chunk_bytes):
    """A callable that reads the file's blocks, and the file's labels, after a
    first pass over it."""
    from fastgd._config import effective_n_threads
    from fastgd._files.readers import DataFile

    data = DataFile(path, file_format, chunk_bytes, label_column,
                    n_threads=effective_n_threads(estimator.get_params()["n_jobs"]),
                    header=header)
    progress.begin(f"scan of {data.path}")
    summary = data.scan()
    progress.done(f"scan of {data.path}", summary.n_rows)
    return (lambda: data.blocks(summary.zero_based, summary.n_features),
            summary.labels)


def _block_source(data, passes, holdout):
    """A callable that returns an iterator of the blocks of ``data``."""
    if callable(data):
        return data
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(f"fit_stream reads a file path, a list of blocks or a "
                        f"callable that returns an iterator of blocks; got "
                        f"{type(data).__name__}.") from None
    if iterator is not data:
        return lambda: iter(data)
    if passes > 1 or holdout > 0:
        raise ValueError(
            f"fit_stream: data is an iterator (a generator?), which can be gone over "
            f"once; passes={passes} and holdout={holdout} go over it again: give a "
            f"list of blocks, or a callable that returns a fresh iterator of them "
            f"(e.g. the generator function itself).")
    return lambda: iterator


def _checked_blocks(source, estimator):
    """Yield ``(X, y, sample_weight)`` of each block that ``source()`` gives, its
    form and shapes checked (X as an array or a sparse matrix)."""
    from sklearn.base import is_outlier_detector

    blocks = source()
    try:
        blocks = iter(blocks)
    except TypeError:
        raise TypeError(f"fit_stream: data() returned {type(blocks).__name__}, not "
                        f"an iterable of blocks.") from None
    width = None
    for k, block in enumerate(blocks, 1):
        if not isinstance(block, (tuple, list)) or len(block) not in (2, 3):
            raise TypeError(f"fit_stream: block {k} is of type {type(block).__name__}; "
                            f"expected {_BLOCK} (for one block of rows, "
                            f"data=[(X, y)]).")
        X, y = block[0], block[1]
        X = X if sp.issparse(X) else np.asarray(X)
        weight = None if len(block) == 2 or block[2] is None else np.asarray(block[2])
        if X.ndim != 2:
            raise ValueError(f"fit_stream: X of block {k} has shape {X.shape}; "
                             f"expected (rows, features).")
        if y is None and not is_outlier_detector(estimator):
            raise ValueError(f"fit_stream: block {k} has no labels (y is None); "
                             f"only SGDOneClassSVM trains without them.")
        y = None if y is None else np.asarray(y)
        for name, values in (("y", y), ("sample_weight", weight)):
            if values is not None and values.shape != (X.shape[0],):
                raise ValueError(f"fit_stream: {name} of block {k} has shape "
                                 f"{values.shape}; expected one value per row of X "
                                 f"({X.shape[0]},).")
        width = X.shape[1] if width is None else width
        if X.shape[1] != width:
            raise ValueError(f"fit_stream: X of block {k} has {X.shape[1]} columns "
                             f"where block 1 had {width}; every block must have "
                             f"the same features.")
        yield X, y, weight


def _held_blocks(source, holdout, estimator):
    """Yield ``(X, y, sample_weight, held)`` of each block: ``held`` masks its rows
    held out (``holdout_rows`` of their places in the stream)."""
    start = 0
    for X, y, weight in _checked_blocks(source, estimator):
        yield X, y, weight, holdout_rows(start, X.shape[0], holdout)
        start += X.shape[0]


def _train(estimator, source, passes, holdout, fit_args, progress):
    """The passes of ``partial_fit``: the rows of each, the objective of each, and
    the constant model of the training labels (gathered in the first)."""
    from sklearn.exceptions import ConvergenceWarning

    constant, objective = ConstantModel(), []
    for p in range(passes):
        label = f"pass {p + 1}/{passes}"
        progress.begin(label)
        rows, weighted = 0, 0.0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            for X, y, weight, held in _held_blocks(source, holdout, estimator):
                keep = np.flatnonzero(~held)
                if keep.size == 0:
                    continue
                if holdout > 0:
                    X, y, weight = (None if a is None else a[keep]
                                    for a in (X, y, weight))
                if p == 0 and y is not None:
                    constant.add(y)
                estimator.partial_fit(X, y, sample_weight=weight, **fit_args)
                rows += keep.size
                weighted += estimator.loss_curve_[-1] * keep.size
                progress.update(label, rows, weighted / rows)
        if rows == 0:
            again = (" (a callable must return a fresh iterator each time it is "
                     "called)" if p else "")
            raise ValueError(f"fit_stream: pass {p + 1} found no rows to train "
                             f"on{again}.")
        progress.done(label, rows, weighted / rows)
        objective.append(weighted / rows)
    for warning in caught[-1:]:
        warnings.warn(f"in the last pass, {len(caught)} block(s) warned; the last: "
                      f"{warning.message}", warning.category, stacklevel=3)
    return rows, objective, constant
