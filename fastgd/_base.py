"""The machinery the estimators share: a fit's path from validated input to fitted
attributes, prediction, the objective, sparse ``coef_``.

The path of one fit: validate the parameters and resolve them into a ``Plan``
(``_params.resolve_plan``) -> validate X, y and the weights -> encode the targets of
every model row (a ``TargetEncoding``, which the subclass makes) -> a
``TrainingState`` (new, continued by ``partial_fit``, or warm-started) ->
``_training.loop.train`` runs the epochs (Dask collections: ``_cluster.fit_on_cluster``)
-> attributes.  A fit that fails leaves the estimator as it was.  The fits of one
estimator (``fit``, ``partial_fit``) run one after the other: a lock per estimator
object, kept in a module-level weak mapping rather than on the estimator so that
pickling, ``clone`` and ``deepcopy`` never see it; concurrent ``partial_fit`` calls
from several threads then each count.  Nothing here loops over samples.
"""
import threading
import warnings
import weakref
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from fastgd._config import effective_n_threads
from fastgd._dask.chunks import is_dask
from fastgd._kernels import _evaluate
from fastgd._kernels._structs import Rows, Targets
from fastgd._params import COMMON_CONSTRAINTS, resolve_plan, validate_parameters
from fastgd._training.loop import train
from fastgd._training.objective import regularisation
from fastgd._training.problem import Problem
from fastgd._training.sources import InMemory
from fastgd._training.state import TrainingState, dense
from fastgd._training.targets import TargetEncoding
from fastgd._training.step_rule import make_step_rule


@contextmanager
def _unchanged_on_failure(estimator):
    """Restore every attribute of ``estimator`` if the block raises."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


# one lock per estimator object, outside the object: a lock cannot be pickled, and a
# copy (pickle, clone, deepcopy) is another object that trains on its own
_TRAINING_LOCKS = weakref.WeakKeyDictionary()
_TRAINING_LOCKS_GUARD = threading.Lock()


def _training_lock(estimator):
    """The re-entrant lock that serialises the fits of ``estimator``.

    Parameters
    ----------
    estimator : object
        Any object that takes weak references (compared by identity).

    Returns
    -------
    threading.RLock
        The same lock for every call on the same object while it lives.
    """
    with _TRAINING_LOCKS_GUARD:
        lock = _TRAINING_LOCKS.get(estimator)
        if lock is None:
            lock = _TRAINING_LOCKS[estimator] = threading.RLock()
        return lock


def store_init_params(estimator, init_locals):
    """Store every ``__init__`` argument unchanged, as scikit-learn's API requires."""
    for name, value in init_locals.items():
        if name != "self":
            setattr(estimator, name, value)


class BaseSGD(BaseEstimator):
    """Shared machinery of SGDRegressor, SGDClassifier and SGDOneClassSVM.

    A subclass says how y becomes targets: ``_y_numeric``, ``_set_classes``,
    ``_target_encoding`` and ``_set_coef``.
    """

    _parameter_constraints = COMMON_CONSTRAINTS
    # the gradient of the objective's linear term in the intercept (SGDOneClassSVM)
    _intercept_drift = 0.0

    # ------------------------------------------------------------------ training

    def _plan(self, shape=None, stored=None, fresh_start=False):
        """The ``Plan`` of a fit with the current parameters, on X of ``shape`` with
        ``stored`` values (``optimizer='auto'`` picks its solver for them), from a
        model of zeros (``fresh_start``) or not."""
        return resolve_plan(self, self._intercept_drift, shape, stored, fresh_start)

    def _fresh_start(self, partial, coef_init, intercept_init):
        """Whether a fit starts from zeros: no continuation, warm start or init."""
        return not (partial or coef_init is not None or intercept_init is not None
                    or (self.warm_start and hasattr(self, "coef_")))

    def _fit_or_partial(self, X, y, sample_weight, partial, max_iter, classes=None,
                        coef_init=None, intercept_init=None):
        """Validate, encode the targets, train; one call at a time on this estimator
        (``_training_lock``)."""
        with _training_lock(self):
            return self._fit_or_partial_locked(X, y, sample_weight, partial, max_iter,
                                               classes, coef_init, intercept_init)

    def _fit_or_partial_locked(self, X, y, sample_weight, partial, max_iter, classes,
                               coef_init, intercept_init):
        """``_fit_or_partial`` once this estimator's training lock is held."""
        validate_parameters(self, partial)
        if any(is_dask(a) for a in (X, y, sample_weight)):
            from fastgd._cluster import fit_on_cluster

            with _unchanged_on_failure(self):
                fit_on_cluster(self, X, y, sample_weight, partial, max_iter, classes,
                               coef_init, intercept_init)
            return self
        with _unchanged_on_failure(self):
            first = not partial or not hasattr(self, "coef_")
            # X's values are checked by the training pass itself (``_training``): a
            # separate check would read X once more
            X, y = self._validate_X_y(X, y, reset=first, y_numeric=self._y_numeric,
                                      ensure_all_finite=False)
            plan = self._plan(X.shape, X.nnz if sp.issparse(X) else X.size,
                              self._fresh_start(partial, coef_init, intercept_init))
            self._set_classes(y, partial, classes)
            encoded, stratify = self._target_encoding(y, fitting=True).encode(y,
                                                                              X.dtype)
            sample_weight = self._sample_weight(sample_weight, X)
            targets = Targets(X.dtype, X.shape[0], sample_weight=sample_weight,
                              **encoded)
            self._train(plan, X, targets, stratify, sample_weight, max_iter, partial,
                        coef_init, intercept_init)
        return self

    def _train(self, plan, X, targets, stratify, sample_weight, max_iter, partial,
               coef_init, intercept_init, cluster=None):
        """Run the epochs; set coef_, intercept_, n_iter_, t_, loss_curve_.

        With ``cluster`` (a function that trains a problem from a state, on a Dask
        cluster), (X, targets, sample_weight) are the sample of rows the client
        keeps."""
        rows = Rows(X)
        rule = make_step_rule(plan, rows.sparse)
        state = self._starting_state(plan, targets.n_models, rows.n_features, X.dtype,
                                     rule, partial, coef_init, intercept_init)
        problem = Problem(X=X, rows=rows, targets=targets, loss=plan.loss_function(),
                          spec=plan.spec, sample_weight=sample_weight,
                          stratify=stratify)
        loss_curve = list(getattr(self, "loss_curve_", [])) if partial else []
        if cluster is None:
            n_threads = effective_n_threads(self.n_jobs)
            result = train(plan, problem, state,
                           InMemory(plan, problem, rule, n_threads), max_iter,
                           partial, loss_curve)
        else:
            result = cluster(problem, state, loss_curve)
        self._set_fitted(plan, state, result)
        if (not partial and self.tol is not None and result.n_iter == max_iter
                and not result.converged):
            warnings.warn("Maximum number of iteration reached before convergence. "
                          "Consider increasing max_iter to improve the fit.",
                          ConvergenceWarning)

    def _starting_state(self, plan, n_models, n_features, dtype, rule, partial,
                        coef_init, intercept_init):
        """The ``TrainingState`` a fit starts from: new, continued (``partial_fit``)
        or warm-started (``warm_start``: the model, not the step counter, as
        scikit-learn), then moved to ``coef_init`` / ``intercept_init``."""
        previous = getattr(self, "_train_state", None) if partial else None
        if not partial and self.warm_start and hasattr(self, "coef_"):
            last = getattr(self, "_train_state", None)
            if plan.multinomial and last is not None:
                # coef_ may be the two-class form of the softmax
                coef_init = self._iterate(last) if coef_init is None else coef_init
                intercept_init = (last.intercept if intercept_init is None
                                  else intercept_init)
            coef_init = dense(self.coef_) if coef_init is None else coef_init
            if intercept_init is None:
                intercept_init = self.intercept_
        state = TrainingState.start(n_models, n_features, dtype, rule, previous,
                                    (getattr(self, "coef_", None),
                                     getattr(self, "intercept_", None)),
                                    averaging=plan.averaging)
        state.initialise(coef_init, intercept_init)
        return state

    def _set_fitted(self, plan, state, result):
        """The fitted attributes from the trained ``state`` and the ``Result``."""
        averaged = state.averaged(plan.average)
        coef, intercept = state.model(plan.averaging)
        collapsed = plan.multinomial and coef.shape[0] == 2
        if collapsed:
            # two classes: the softmax is the logistic function of the logit difference
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        if not (averaged or collapsed):
            state.coef = None  # coef_ is the iterate: no second copy is kept
        self._train_state = state
        self._set_coef(coef, intercept.astype(coef.dtype))
        self.n_iter_ = result.n_iter
        self.n_passes_ = result.passes
        self.t_ = state.t
        self.loss_curve_ = result.loss_curve
        if plan.early_stopping:
            self.validation_loss_curve_ = result.validation_loss_curve

    def _iterate(self, state):
        """The weights training continues from (see ``TrainingState.coef``)."""
        if state.coef is not None:
            return state.coef
        return dense(self.coef_).reshape(state.scalars.shape[0], -1)

    def _validate_X_y(self, X, y, reset, **kwargs):
        return validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32], order="C",
                             accept_large_sparse=True, reset=reset, **kwargs)

    def _sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=X.dtype)

    # ---------------------------------------------------------------- prediction

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          order="C", accept_large_sparse=True, reset=False)
        rows = Rows(X)
        coef, intercept = self._kernel_model(X.dtype, rows.n_features)
        out = np.empty((rows.n_rows, coef.shape[0]), dtype=X.dtype)
        _evaluate.decision_function(rows, coef, intercept, out,
                                    effective_n_threads(self.n_jobs))
        return out

    def _kernel_model(self, dtype, n_features):
        """coef_ (n_models, n_features) in X's dtype and intercept_ in float64."""
        coef = np.ascontiguousarray(dense(self.coef_), dtype=dtype)
        return (coef.reshape(-1, n_features),
                np.ravel(self.intercept_).astype(np.float64))

    def objective(self, X, y, sample_weight=None):
        """Regularised training objective of the current model on (X, y).

        ``mean_i(s_i * loss(x_i . w + b, y_i)) + lam1 * |w|_1 + lam2 / 2 * |w|^2``
        (SGDOneClassSVM: ``+ nu * b``), computed by a parallel kernel (an OpenMP
        reduction over rows).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        objective : float
        """
        check_is_fitted(self)
        X, y = self._validate_X_y(X, y, reset=False)
        encoded, _ = self._target_encoding(y, fitting=False).encode(y, X.dtype)
        targets = Targets(X.dtype, X.shape[0], **encoded,
                          sample_weight=self._sample_weight(sample_weight, X))
        plan = self._plan()
        rows = Rows(X)
        coef, intercept = self._kernel_model(X.dtype, rows.n_features)
        if plan.multinomial:  # the penalty is on the class rows
            state = self._train_state
            coef = np.ascontiguousarray(self._iterate(state), dtype=X.dtype)
            intercept = state.intercept.copy()
        total = _evaluate.loss_sum(plan.loss_function(), rows, targets,
                                   np.arange(rows.n_rows, dtype=np.int32), coef,
                                   intercept, effective_n_threads(self.n_jobs))
        return total / rows.n_rows + regularisation(plan, coef, intercept)

    # -------------------------------------------------------------- sparse coef

    def densify(self):
        """Convert a sparse ``coef_`` back to a dense array (the default format).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse CSR matrix (worth it for L1 models).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class OneModel:
    """The targets and the model of SGDRegressor and SGDOneClassSVM: y's values
    (one model row), ``coef_`` of shape (n_features,)."""

    def _set_classes(self, y, partial, classes):
        pass

    def _target_encoding(self, y, fitting):
        """y's values as they are."""
        return TargetEncoding()

    def _set_coef(self, coef, intercept):
        self.coef_ = coef.ravel()
        self.intercept_ = intercept
