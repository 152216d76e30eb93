"""The training state: what a fit carries from epoch to epoch, and from one call of
``partial_fit`` to the next."""
from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp

from fastgd._kernels import _batch
from fastgd._kernels import _sgd


@dataclass
class TrainingState:
    """The model as training sees it, with the bookkeeping that continues it.

    Attributes
    ----------
    coef : ndarray of shape (n_models, n_features), X's dtype, or None
        The iterate.  None once stored on an estimator whose ``coef_`` is the iterate
        itself (not an average, not the two-class form of a softmax): the estimator's
        ``coef_`` and ``intercept_`` are then the model to continue from.
    scalars : ndarray of ``_structs.MODEL_SCALARS``, shape (n_models,)
        Step counter, intercept (float64), averaging counts, last epoch's summed loss
        and the L1 total of each model row.
    avg_sum : ndarray of shape (n_models, n_features) or (n_models, 0)
        Running sum of the averaged weights (averaged SGD).
    l1_received : ndarray of shape (n_models, n_features) or (n_models, 0)
        L1 penalty each weight has received (cumulative-penalty L1).
    optimizer_state : ndarray of shape (n_models, n_features + 1, n_slots)
        The optimizer's state of every coordinate (no slots for plain SGD).
    epochs_done : int
        Epochs run so far (the exponential and linear schedules continue from it).
    auto_eta : float or None
        The step ``learning_rate='auto'`` found on the first call (``partial_fit``
        keeps it).
    """

    coef: Optional[np.ndarray]
    scalars: np.ndarray
    avg_sum: np.ndarray
    l1_received: np.ndarray
    optimizer_state: np.ndarray
    epochs_done: int = 0
    auto_eta: Optional[float] = None

    @classmethod
    def start(cls, n_models, n_features, dtype, rule, previous=None,
              previous_model=None, averaging=False):
        """A new state: zeros and step counters at 1, or the continuation of
        ``previous`` (``partial_fit``).

        Parameters
        ----------
        n_models, n_features : int
        dtype : numpy dtype
        rule : StepRule
            Sizes the bookkeeping (averaging, L1, the optimizer's slots).
        previous : TrainingState or None
            Continue it: step counter, averages and L1 bookkeeping (reset where the
            rule changed what they hold), the optimizer's state.
        previous_model : (coef, intercept) or None
            The estimator's ``coef_`` and ``intercept_``, with ``previous``: where the
            training continues from unless it is averaging (or ``previous`` keeps its
            iterate because the model differs from it).
        averaging : bool
            Whether this call averages (it continues from the iterate, not from the
            average).
        """
        arrays = _sgd.new_model_arrays(n_models, n_features, rule)
        state = cls(coef=np.zeros((n_models, n_features), dtype=dtype),
                    scalars=arrays.scalars, avg_sum=arrays.avg_sum,
                    l1_received=arrays.l1_received,
                    optimizer_state=_batch.new_optimizer_state(n_models, n_features,
                                                               rule))
        if previous is None:
            return state
        state.scalars[:] = previous.scalars
        if previous.l1_received.shape == state.l1_received.shape:
            state.l1_received[:] = previous.l1_received
        else:
            state.scalars["l1_total"] = 0.0
        coef_, intercept_ = previous_model
        coef_ = dense(coef_)
        if averaging or coef_.reshape(-1, n_features).shape != state.coef.shape:
            state.coef[:] = previous.coef if previous.coef is not None else coef_
            if previous.avg_sum.shape == state.avg_sum.shape:
                state.avg_sum[:] = previous.avg_sum
            else:
                state.scalars["avg_count"] = 0.0
                state.scalars["avg_intercept_sum"] = 0.0
        else:
            state.coef[:] = coef_.reshape(n_models, n_features)
            state.scalars["intercept"] = np.ravel(intercept_)
        if previous.optimizer_state.shape == state.optimizer_state.shape:
            state.optimizer_state[:] = previous.optimizer_state
        state.epochs_done = previous.epochs_done
        state.auto_eta = previous.auto_eta
        return state

    def initialise(self, coef_init, intercept_init):
        """Start from ``coef_init`` / ``intercept_init`` (each None to keep)."""
        n_models, n_features = self.coef.shape
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=self.coef.dtype)
            if coef_init.size != self.coef.size:
                raise ValueError(
                    f"Provided coef_init does not match dataset: expected shape "
                    f"{self.coef.shape if n_models > 1 else (n_features,)}, got "
                    f"{coef_init.shape}.")
            if not np.all(np.isfinite(coef_init)):
                raise ValueError("coef_init contains NaN or infinity.")
            self.coef[:] = coef_init.reshape(self.coef.shape)
        if intercept_init is not None:
            intercept_init = np.ravel(np.asarray(intercept_init, dtype=np.float64))
            if intercept_init.size != n_models:
                raise ValueError(f"Provided intercept_init does not match dataset: "
                                 f"expected shape ({n_models},), got "
                                 f"{intercept_init.shape}.")
            if not np.all(np.isfinite(intercept_init)):
                raise ValueError("intercept_init contains NaN or infinity.")
            self.scalars["intercept"] = intercept_init

    def copy(self):
        """A copy with arrays of its own."""
        return TrainingState(
            coef=None if self.coef is None else self.coef.copy(),
            scalars=self.scalars.copy(), avg_sum=self.avg_sum.copy(),
            l1_received=self.l1_received.copy(),
            optimizer_state=self.optimizer_state.copy(),
            epochs_done=self.epochs_done, auto_eta=self.auto_eta)

    def restore(self, other):
        """Take ``other``'s values into this state's own arrays (the kernels' runners
        hold them)."""
        self.coef[:] = other.coef
        for name in ("scalars", "avg_sum", "l1_received", "optimizer_state"):
            getattr(self, name)[...] = getattr(other, name)
        self.epochs_done, self.auto_eta = other.epochs_done, other.auto_eta

    @property
    def intercept(self):
        return self.scalars["intercept"]

    @property
    def t(self):
        """The step counter (of model row 0; every row takes the same steps)."""
        return float(self.scalars["t"][0])

    def averaged(self, averaging):
        """Whether the model to return is the average: averaging, and it has started."""
        return bool(averaging) and self.scalars["avg_count"][0] > 0

    def model(self, averaging):
        """(coef, intercept) to return: the average once averaging has started."""
        count = self.scalars["avg_count"][0]
        if self.averaged(averaging):
            coef = (self.avg_sum / count).astype(self.coef.dtype)
            intercept = self.scalars["avg_intercept_sum"] / count
        else:
            coef = self.coef.copy()
            intercept = self.scalars["intercept"].copy()
        return coef, intercept

    def finite(self):
        """Whether the weights and scalars are all finite."""
        return bool(np.all(np.isfinite(self.coef)) and all(
            np.all(np.isfinite(self.scalars[name]))
            for name in self.scalars.dtype.names))


def dense(coef):
    """``coef`` as a NumPy array (a sparse ``coef_`` after ``sparsify()``)."""
    return coef.toarray() if sp.issparse(coef) else np.asarray(coef)
