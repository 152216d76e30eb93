"""Rows held out of training by a fixed stride, and their score beside the constant model.

A stream of rows has no random split that a second pass would repeat cheaply, so the
holdout is a stride, as Vowpal Wabbit's: for a fraction ``f``, every
``holdout_stride(f)``-th row of the stream (counted from 0 across blocks, the same
rows in every pass) is held out (``holdout_rows``).  ``ConstantModel`` gathers the
constant prediction of the training labels block by block (the most frequent class,
or the mean), and ``HoldoutScore`` scores the held-out rows block by block: accuracy
(classifier), R^2 (regressor) or the share inside the boundary (one-class), beside
the constant model's score, so that a model worse than predicting a constant can be
caught (``HoldoutResult.worse_than_constant``).  ``fastgd train`` and ``fit_stream``
share them.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np


def holdout_stride(fraction):
    """Every how many rows one is held out for ``fraction`` (> 0)."""
    return max(int(round(1.0 / fraction)), 2)


def holdout_rows(start, n_rows, fraction):
    """Whether each of rows ``start .. start + n_rows - 1`` of the stream is held
    out: every ``holdout_stride(fraction)``-th row (none for 0).

    Parameters
    ----------
    start : int
        The first row's place in the stream (from 0).
    n_rows : int
    fraction : float
        In [0, 0.5].

    Returns
    -------
    ndarray of bool, shape (n_rows,)
    """
    if fraction <= 0:
        return np.zeros(n_rows, dtype=bool)
    stride = holdout_stride(fraction)
    return (np.arange(start, start + n_rows) % stride) == stride - 1


def held_out_count(n_rows, fraction):
    """How many of the first ``n_rows`` rows of a stream ``holdout_rows`` holds
    out."""
    return n_rows // holdout_stride(fraction) if fraction > 0 else 0


class ConstantModel:
    """The constant model of the training labels, gathered block by block: the
    most frequent class (classifier; the smallest of a tie) or the mean
    (regressor)."""

    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.tally = {}

    def add(self, y):
        """Count the labels ``y`` of a block's training rows."""
        self.count += y.size
        self.total += float(np.sum(y))
        for value, times in zip(*np.unique(y, return_counts=True)):
            self.tally[value] = self.tally.get(value, 0) + int(times)

    def prediction(self, classify):
        """The most frequent label (``classify``) or the mean label."""
        if classify:
            return max(sorted(self.tally), key=self.tally.get)
        return self.total / max(self.count, 1)


@dataclass(frozen=True)
class HoldoutResult:
    """What the held-out rows measured.

    Attributes
    ----------
    metric : str
        ``"accuracy"`` (classifier), ``"R^2"`` (regressor) or ``"share inside the
        boundary"`` (one-class).
    n_rows : int
        The held-out rows scored (0: no holdout).
    score : float
        The model's score on them (nan without rows, or R^2 of labels that do not
        vary).
    constant_score : float or None
        The constant model's score on them; None where there is no constant model
        (one-class, or predictions scored without one).
    worse_than_constant : bool
        Whether the model scored below the constant model (a regressor whose
        residuals are NaN too).
    """

    metric: str
    n_rows: int
    score: float
    constant_score: Optional[float]
    worse_than_constant: bool


class HoldoutScore:
    """Accuracy (classifier), R^2 (regressor) or the share of rows inside the
    boundary (one-class) over held-out rows, block by block, beside the same score
    of the constant model's prediction.

    Parameters
    ----------
    estimator : SGDClassifier, SGDRegressor or SGDOneClassSVM
        Fitted: its ``predict`` is scored.
    constant : float or None, default=None
        The constant model's prediction (``ConstantModel.prediction``); None: not
        scored.  A one-class model has none.
    """

    def __init__(self, estimator, constant=None):
        from sklearn.base import is_classifier, is_outlier_detector

        self.estimator = estimator
        self.classify = is_classifier(estimator)
        self.one_class = is_outlier_detector(estimator)
        self.constant = None if self.one_class else constant
        self.n = 0
        self.correct = np.zeros(2)  # the model's, the constant's
        self.sums = np.zeros(4)  # y, y^2, squared residuals: model's, constant's

    def add(self, X, y):
        """Score the rows ``X`` of labels ``y`` (ignored by a one-class model)."""
        if X.shape[0] == 0:
            return
        prediction = self.estimator.predict(X)
        self.n += X.shape[0]
        if self.one_class:
            self.correct[0] += np.sum(prediction == 1)
        elif self.classify:
            self.correct += (np.sum(prediction == y), np.sum(y == self.constant))
        else:
            constant = 0.0 if self.constant is None else self.constant
            self.sums += (y.sum(), (y * y).sum(), ((y - prediction) ** 2).sum(),
                          ((y - constant) ** 2).sum())

    def _value(self, which):
        if self.n == 0:
            return float("nan")
        if self.classify or self.one_class:
            return self.correct[which] / self.n
        total, squares = self.sums[:2]
        spread = squares - total * total / self.n
        return 1.0 - self.sums[2 + which] / spread if spread > 0 else float("nan")

    def result(self):
        """The scores of the rows added so far.

        Returns
        -------
        HoldoutResult
        """
        if self.classify:
            worse = bool(self.correct[0] < self.correct[1])
        else:
            worse = (self.constant is not None and self.n > 0
                     and not self.sums[2] <= self.sums[3])  # a NaN residual too
        return HoldoutResult(
            metric=("share inside the boundary" if self.one_class else
                    "accuracy" if self.classify else "R^2"),
            n_rows=self.n, score=float(self._value(0)),
            constant_score=None if self.constant is None else float(self._value(1)),
            worse_than_constant=bool(worse))
