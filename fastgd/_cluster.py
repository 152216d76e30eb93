"""The estimators on Dask collections: a fit's checks, classes and targets on the
client, the training on the workers (``fastgd._dask``), and lazy prediction and
scores.

The estimator's side of a Dask fit: X's feature names and width are set or checked
here, the chunks are checked and summarised on the workers
(``ChunkedData.summarise``), the classes and the class weights are found from the
summary (which also says whether the rows are ordered by label across the chunks,
which SGD is warned of), and the epochs run on the chunks with the fit's ``Plan`` and
``TargetEncoding`` (``_dask.source.train_on_cluster``).  Prediction maps the fitted
estimator over X's chunks, lazily.
"""
import copy
import warnings

import numpy as np
from sklearn.utils.validation import _check_feature_names, _check_n_features

from fastgd._dask.chunks import ChunkedData, is_dask, map_rows, rows_of, score_blocks
from fastgd._kernels._structs import Targets
from fastgd._params import check_cluster_params
from fastgd._training.targets import class_counts, class_weights


def dask_rows(estimator, X, reset):
    """X as a 2D Dask array of whole rows, its feature names (from a dask DataFrame's
    ``_meta``) and number of features set (``reset``) or checked against the
    estimator's."""
    _check_feature_names(estimator, getattr(X, "_meta", X), reset=reset)
    X = rows_of(X)
    _check_n_features(estimator, X, reset=reset)
    return X


def fit_on_cluster(estimator, X, y, sample_weight, partial, max_iter, classes,
                   coef_init, intercept_init):
    """``fit`` / ``partial_fit`` of ``estimator`` on Dask collections: check the
    chunks on the workers, train there; the client keeps a sample of the rows."""
    from fastgd._dask.source import train_on_cluster

    e = estimator
    check_cluster_params(e)
    first = not partial or not hasattr(e, "coef_")
    data = ChunkedData.from_collections(dask_rows(e, X, reset=first), y,
                                        sample_weight)
    # optimizer='auto' picks for a dense X: the values a chunk stores are not known
    # before it is read
    shape = (data.n_rows, data.n_features)
    plan = e._plan(shape, shape[0] * shape[1],
                   e._fresh_start(partial, coef_init, intercept_init))
    summary = data.summarise(plan.fit_intercept, classify=not e._y_numeric,
                             largest_row=plan.needs_largest_row)
    if summary.rows == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0, "
                         f"{data.n_features})) while a minimum of 1 is required.")
    if not plan.whole_objective and plan.shuffle:
        warn_if_ordered_by_label(summary)
    if not e._y_numeric:
        soft = summary.y.ndim == 2
        e._set_classes(summary.y if soft else summary.labels, partial, classes)
        if not soft:
            e._class_weight = class_weights(
                e.class_weight, e.classes_,
                counts=class_counts(e.classes_, summary.labels, summary.counts))
    encoding = e._target_encoding(summary.y, fitting=False)
    encoded, _ = encoding.encode(summary.y, data.dtype)
    targets = Targets(data.dtype, summary.X.shape[0],
                      sample_weight=summary.sample_weight, **encoded)
    traffic = []

    def on_cluster(problem, state, loss_curve):
        result, counted = train_on_cluster(plan, encoding, data, problem, state,
                                           max_iter, partial, loss_curve)
        traffic.append(counted)
        return result

    e._train(plan, summary.X, targets, None, summary.sample_weight, max_iter, partial,
             coef_init, intercept_init, cluster=on_cluster)
    e.cluster_traffic_ = traffic[0].report()


def warn_if_ordered_by_label(summary):
    """Warn when the chunks' labels say that the rows are ordered by label across
    them (``Summary.label_order``): SGD on a cluster visits each chunk's rows
    together, and learns worse from rows in that order than from rows in a random
    one."""
    found = summary.label_order()
    if found is None:
        return
    chunk, label, share, overall = found
    label = label.item() if isinstance(label, np.generic) else label
    warnings.warn(
        f"The rows look ordered by label across the chunks of the Dask input: "
        f"chunk {chunk} has {share:.0%} of class {label!r}, against {overall:.0%} "
        f"of all the rows.  SGD on a cluster visits each chunk's rows together, and "
        f"learns worse from rows ordered so than from rows in a random order; "
        f"shuffle them across the chunks once with fastgd.shuffle_rows(X, y, "
        f"random_state=...) and persist the result, or fit with "
        f"batch_size='full', whose solvers do not depend on the order.",
        UserWarning, stacklevel=4)


def predict_blocks(estimator, X, method, n_columns):
    """``estimator.<method>`` of every chunk of the Dask collection ``X``, lazily: a
    Dask array of the chunks' results, 1D (``n_columns`` None) or with
    ``n_columns`` columns.  The feature names are checked here, once."""
    X = dask_rows(estimator, X, reset=False)
    # the chunks are arrays without names: the copy they meet has none either
    fitted = copy.copy(estimator)
    fitted.__dict__.pop("feature_names_in_", None)
    dtype = (estimator.classes_.dtype if method == "predict"
             and hasattr(estimator, "classes_") else
             X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
    return map_rows(getattr(fitted, method), X, dtype, n_columns)


class ScoreOnWorkers:
    """``score`` of scikit-learn's mixins, computed on the workers for Dask
    collections (``_score_metric``: ``"r2"`` or ``"accuracy"``)."""

    def score(self, X, y, sample_weight=None):
        """R^2 (regressor) or mean accuracy (classifier), as scikit-learn's mixins;
        on Dask collections it is computed on the workers.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask collection} of shape \\
                (n_samples, n_features)
        y : array-like or dask collection of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if any(is_dask(a) for a in (X, y, sample_weight)):
            return score_blocks(self.predict(X), y, sample_weight, self._score_metric)
        return super().score(X, y, sample_weight)
