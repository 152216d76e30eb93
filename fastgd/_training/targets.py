"""From y to the kernels' targets: the encoding of a fit's targets (``TargetEncoding``:
values for a regressor, class indices with their weights for a classifier, soft
labels for the softmax), the class weights, and the class counts of data that is not
in one place.

The estimator decides the classes and the class weights; the encoding is a plain,
picklable object, so that a Dask worker encodes its chunk of y as the client would.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np
from sklearn.utils.class_weight import compute_class_weight


@dataclass(frozen=True)
class TargetEncoding:
    """How y becomes the keyword arguments of ``Targets``.

    Attributes
    ----------
    classes : ndarray or None
        The sorted class labels; None for a regressor (y's values, one model row).
    class_weights : ndarray or None
        The weight of every class.
    multinomial : bool
        The classes are the rows of one softmax (else one-vs-rest, or one binary
        model for two classes).
    """

    classes: Optional[np.ndarray] = None
    class_weights: Optional[np.ndarray] = None
    multinomial: bool = False

    def encode(self, y, dtype):
        """(keyword arguments of ``Targets``, each row's class for a stratified split
        or None).  Raises for labels that are not classes and for soft labels that
        are not probabilities."""
        if self.classes is None:
            return dict(pos_class=[-1], w_pos=[1.0], w_neg=1.0,
                        y=np.ascontiguousarray(y, dtype=dtype)), None
        if np.ndim(y) == 2:
            return self._soft(y, dtype)
        y_class = class_indices(y, self.classes)
        n_classes, weights = len(self.classes), self.class_weights
        targets = dict(y_class=y_class, n_classes=n_classes)
        if self.multinomial or n_classes > 2:
            targets.update(pos_class=np.arange(n_classes), w_pos=weights, w_neg=1.0)
        else:
            targets.update(pos_class=[1], w_pos=[weights[1]], w_neg=weights[0])
        return targets, y_class

    def _soft(self, Y, dtype):
        """Soft labels, validated: the softmax's ``Targets`` arguments."""
        Y = np.ascontiguousarray(Y, dtype=dtype)
        n_classes = len(self.classes)
        if Y.shape[1] != n_classes:
            raise ValueError(f"Soft labels have {Y.shape[1]} columns but there are "
                             f"{n_classes} classes {self.classes!r}.")
        if np.any(Y < 0):
            raise ValueError("Soft labels must be probabilities: got negative "
                             "values.")
        sums = Y.sum(axis=1, dtype=np.float64)
        bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-4)
        if bad.size:
            raise ValueError(f"Each row of soft labels must sum to 1; row {bad[0]} "
                             f"sums to {sums[bad[0]]:.6g}.")
        return dict(pos_class=np.arange(n_classes), w_pos=np.ones(n_classes),
                    w_neg=1.0, soft=Y, n_classes=n_classes), np.argmax(Y, axis=1)


def class_indices(y, classes):
    """Each label's index in ``classes`` (int32); raises for labels that are not
    classes."""
    y_class = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    unknown = classes[y_class] != y
    if np.any(unknown):
        raise ValueError(f"y contains labels not in classes_ {classes!r}: "
                         f"{np.unique(np.asarray(y)[unknown])!r}")
    return y_class.astype(np.int32)


def class_counts(classes, labels, counts):
    """The counts of ``labels`` (with ``counts``) as counts of ``classes`` (0 for a
    class not found; labels that are not classes are left out: the targets' encoding
    reports them)."""
    out = np.zeros(len(classes), dtype=np.int64)
    known = np.isin(labels, classes)
    out[np.searchsorted(classes, labels[known])] = counts[known]
    return out


def class_weights(class_weight, classes, y=None, counts=None):
    """The weight of every class of ``classes``: the ``class_weight`` parameter
    resolved, from y or (for ``'balanced'`` on data that is not in one place) the
    classes' counts."""
    if counts is not None and class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        if np.any(counts == 0):
            missing = classes[counts == 0]
            raise ValueError(f"classes should have valid labels that are in y; "
                             f"{missing!r} are not.")
        weights = counts.sum() / (len(counts) * counts)
    else:
        y = classes if y is None else y
        weights = compute_class_weight(class_weight, classes=classes, y=y)
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"class_weight must give every class a finite "
                         f"weight; got {dict(zip(classes, weights))!r}.")
    return weights
