"""SGDRegressor, SGDClassifier and SGDOneClassSVM: the public API, input validation
and attributes.

The path of one fit: validate the parameters, X, y and the weights -> encode the
targets of every model row (``_structs.Targets``) -> a ``TrainingState`` (new, or
continued by ``partial_fit``) -> ``_training.train`` runs the epochs -> attributes.
A fit that fails leaves the estimator as it was.  The fits of one estimator
(``fit``, ``partial_fit``) run one after the other: a lock per estimator object, kept
in a module-level weak mapping rather than on the estimator so that pickling,
``clone`` and ``deepcopy`` never see it; concurrent ``partial_fit`` calls from several
threads then each count.  Nothing here loops over samples.
Dask collections take the same path with their chunks checked on the workers and the
epochs run there (``_chunks``, ``_distributed``); their predictions are lazy.
"""
import threading
import warnings
import weakref
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, OutlierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    assert_all_finite,
    check_is_fitted,
    validate_data,
)

from fastgd._kernels import _evaluate
from fastgd._config import effective_n_threads
from fastgd._docs import shared_docs
from fastgd._dask.chunks import is_dask, predict_blocks, score_blocks
from fastgd._training.targets import (
    class_counts, class_weights, classifier_targets, set_classes,
)
from fastgd._kernels._losses import LOSS_TYPES
from fastgd._params import (
    CLASSIFIER_CONSTRAINTS,
    COMMON_CONSTRAINTS,
    LOSS_SPECS,
    ONE_CLASS_CONSTRAINTS,
    REGRESSOR_CONSTRAINTS,
    check_cluster_params,
    check_params,
    effective_learning_rate,
    loss_spec,
)
from fastgd._training.state import TrainingState, _dense
from fastgd._training.step_rule import make_step_rule, regularisation
from fastgd._kernels._structs import Rows, Targets
from fastgd._training.loop import Problem, train


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


class _BaseSGD(BaseEstimator):
    """Shared machinery of SGDRegressor and SGDClassifier."""

    _parameter_constraints = COMMON_CONSTRAINTS

    # ------------------------------------------------------------------ training

    def _loss(self):
        """The loss function the kernels are specialised by."""
        spec = loss_spec(self)
        return spec, LOSS_TYPES[spec.name](self.epsilon)

    def _fit_or_partial(self, X, y, sample_weight, partial, max_iter, classes=None,
                        coef_init=None, intercept_init=None):
        """Validate, encode the targets (``_encode_targets`` of the subclass), train;
        one call at a time on this estimator (``_training_lock``)."""
        with _training_lock(self):
            return self._fit_or_partial_locked(X, y, sample_weight, partial, max_iter,
                                               classes, coef_init, intercept_init)

    def _fit_or_partial_locked(self, X, y, sample_weight, partial, max_iter, classes,
                               coef_init, intercept_init):
        """``_fit_or_partial`` once this estimator's training lock is held."""
        self._validate_params()
        check_params(self, partial, self._pa_loss)
        if any(is_dask(a) for a in (X, y, sample_weight)):
            return self._fit_on_cluster(X, y, sample_weight, partial, max_iter,
                                        classes, coef_init, intercept_init)
        with _unchanged_on_failure(self):
            first = not partial or not hasattr(self, "coef_")
            # X's values are checked by the training pass itself (``_training``): a
            # separate check would read X once more
            X, y = self._validate_X_y(X, y, reset=first, y_numeric=self._y_numeric,
                                      ensure_all_finite=False)
            self._set_classes(y, partial, classes)
            encoded, stratify = self._encode_targets(y, X.dtype, fitting=True)
            sample_weight = self._sample_weight(sample_weight, X)
            targets = Targets(X.dtype, X.shape[0], sample_weight=sample_weight,
                              **encoded)
            self._train(X, targets, stratify, sample_weight, max_iter, partial,
                        coef_init, intercept_init)
        return self

    def _fit_on_cluster(self, X, y, sample_weight, partial, max_iter, classes,
                        coef_init, intercept_init):
        """``_fit_or_partial`` on Dask collections: check the chunks on the workers,
        train there (``_distributed``); the client keeps a sample of the rows."""
        from fastgd._dask.chunks import ChunkedData
        from fastgd._dask.training import needs_largest_row

        with _unchanged_on_failure(self):
            check_cluster_params(self)
            first = not partial or not hasattr(self, "coef_")
            data = ChunkedData.from_collections(self, X, y, sample_weight,
                                                reset=first)
            summary = data.summarise(self, classify=not self._y_numeric,
                                     largest_row=needs_largest_row(self))
            if summary.rows == 0:
                raise ValueError("Found array with 0 sample(s) (shape=(0, "
                                 f"{data.n_features})) while a minimum of 1 is "
                                 "required.")
            if not self._y_numeric:
                soft = summary.y.ndim == 2
                self._set_classes(summary.y if soft else summary.labels, partial,
                                  classes)
                if not soft:
                    self._class_weight = class_weights(
                        self, counts=class_counts(self.classes_, summary.labels,
                                                  summary.counts))
            encoded, _ = self._encode_targets(summary.y, data.dtype, fitting=False)
            targets = Targets(data.dtype, summary.X.shape[0],
                              sample_weight=summary.sample_weight, **encoded)
            self._train(summary.X, targets, None, summary.sample_weight, max_iter,
                        partial, coef_init, intercept_init, cluster=data)
        return self

    def _train(self, X, targets, stratify, sample_weight, max_iter, partial, coef_init,
               intercept_init, cluster=None):
        """Run the epochs; set coef_, intercept_, n_iter_, t_, loss_curve_.

        With ``cluster`` (a checked ``ChunkedData``), the epochs run on its chunks and
        (X, targets, sample_weight) are the sample of rows the client keeps."""
        spec, loss = self._loss()
        rows = Rows(X)
        rule = make_step_rule(self, rows.sparse, effective_learning_rate(self))
        previous = getattr(self, "_train_state", None) if partial else None
        if not partial and self.warm_start and hasattr(self, "coef_"):
            # a warm start keeps the model, not the step counter (as scikit-learn)
            last = getattr(self, "_train_state", None)
            if spec.task == "multiclass" and last is not None:
                # coef_ may be the two-class form of the softmax
                coef_init = self._iterate(last) if coef_init is None else coef_init
                intercept_init = (last.intercept if intercept_init is None
                                  else intercept_init)
            coef_init = _dense(self.coef_) if coef_init is None else coef_init
            if intercept_init is None:
                intercept_init = self.intercept_
        state = TrainingState.start(targets.n_models, rows.n_features, X.dtype, rule,
                                    previous, (getattr(self, "coef_", None),
                                               getattr(self, "intercept_", None)),
                                    averaging=bool(self.average))
        state.initialise(coef_init, intercept_init)
        problem = Problem(X=X, rows=rows, targets=targets, loss=loss, spec=spec,
                          sample_weight=sample_weight, stratify=stratify)
        if cluster is None:
            result = train(self, problem, state, max_iter, partial, rule,
                           effective_n_threads(self.n_jobs))
        else:
            from fastgd._dask.training import train_on_cluster

            result, traffic = train_on_cluster(self, cluster, problem, state,
                                               max_iter, partial)
            self.cluster_traffic_ = traffic.report()

        averaged = state.averaged(self.average)
        coef, intercept = state.model(bool(self.average))
        collapsed = spec.task == "multiclass" and coef.shape[0] == 2
        if collapsed:
            # two classes: the softmax is the logistic function of the logit difference
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        if not (averaged or collapsed):
            state.coef = None  # coef_ is the iterate: no second copy is kept
        self._train_state = state
        self._set_coef(coef, intercept.astype(X.dtype))
        self.n_iter_ = result.n_iter
        self.t_ = state.t
        self.loss_curve_ = result.loss_curve
        if self.early_stopping:
            self.validation_loss_curve_ = result.validation_loss_curve
        if not partial and self.tol is not None and result.n_iter == max_iter:
            warnings.warn("Maximum number of iteration reached before convergence. "
                          "Consider increasing max_iter to improve the fit.",
                          ConvergenceWarning)

    def _iterate(self, state):
        """The weights training continues from (see ``TrainingState.coef``)."""
        if state.coef is not None:
            return state.coef
        return _dense(self.coef_).reshape(state.scalars.shape[0], -1)

    def _validate_X_y(self, X, y, reset, **kwargs):
        return validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32], order="C",
                             accept_large_sparse=True, reset=reset, **kwargs)

    def _check_finite(self, X):
        """scikit-learn's error for NaN or infinity in X."""
        assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)

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
        coef = np.ascontiguousarray(_dense(self.coef_), dtype=dtype)
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
        encoded, _ = self._encode_targets(y, X.dtype, fitting=False)
        targets = Targets(X.dtype, X.shape[0], **encoded,
                          sample_weight=self._sample_weight(sample_weight, X))
        spec, loss = self._loss()
        rows = Rows(X)
        coef, intercept = self._kernel_model(X.dtype, rows.n_features)
        if spec.task == "multiclass":  # the penalty is on the class rows
            state = self._train_state
            coef = np.ascontiguousarray(self._iterate(state), dtype=X.dtype)
            intercept = state.intercept.copy()
        total = _evaluate.loss_sum(loss, rows, targets,
                                 np.arange(rows.n_rows, dtype=np.int32), coef,
                                 intercept, effective_n_threads(self.n_jobs))
        return total / rows.n_rows + regularisation(self, coef, intercept)

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


class _ScoreOnWorkers:
    """``score`` of scikit-learn's mixins, computed on the workers for Dask
    collections (``_score_metric``: ``"r2"`` or ``"accuracy"``)."""

    def score(self, X, y, sample_weight=None):
        """R^2 (regressor) or mean accuracy (classifier), as scikit-learn's mixins;
        on Dask collections it is computed on the workers.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask collection} of shape \
                (n_samples, n_features)
        y : array-like or dask collection of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if any(is_dask(a) for a in (X, y, sample_weight)):
            return score_blocks(self, X, y, sample_weight, self._score_metric)
        return super().score(X, y, sample_weight)


class _OneModel:
    """The targets and the model of SGDRegressor and SGDOneClassSVM: y's values
    (one model row), ``coef_`` of shape (n_features,)."""

    def _set_classes(self, y, partial, classes):
        pass

    def _encode_targets(self, y, dtype, fitting):
        """Keyword arguments of ``Targets`` for y, and the rows' strata (none)."""
        return dict(pos_class=[-1], w_pos=[1.0], w_neg=1.0,
                    y=np.ascontiguousarray(y, dtype=dtype)), None

    def _set_coef(self, coef, intercept):
        self.coef_ = coef.ravel()
        self.intercept_ = intercept


def _store_init_params(estimator, init_locals):
    """Store every ``__init__`` argument unchanged, as scikit-learn's API requires."""
    for name, value in init_locals.items():
        if name != "self":
            setattr(estimator, name, value)


@shared_docs
class SGDRegressor(_ScoreOnWorkers, RegressorMixin, _OneModel, _BaseSGD):
    """Linear regression by per-sample stochastic gradient descent.

    A drop-in replacement of :class:`sklearn.linear_model.SGDRegressor` (same
    parameters, defaults and attributes) on typed Cython + OpenMP kernels.  Penalties
    are proximal steps (L1 gives exact zeros); on sparse input the work per sample is
    proportional to its non-zeros.

    Parameters
    ----------
    loss : {regression_losses}, default='squared_error'
        The loss to minimise, of a row's prediction ``p = <x, w> + b`` against its
        target ``y``.  ``'squared_error'`` is ``(p - y)^2 / 2`` (least squares),
        ``'huber'`` is squared up to an error of ``epsilon`` and linear beyond (robust
        to outliers), ``'epsilon_insensitive'`` is ``max(0, |p - y| - epsilon)`` (the
        linear support vector regression) and ``'squared_epsilon_insensitive'`` its
        square.
    {penalty}
    {alpha}
    {l1_ratio}
    {fit_intercept}
    {max_iter}
    {tol}
    {shuffle}
    {verbose}
    {epsilon}
    {random_state}
    learning_rate : {learning_rate_options}, default='auto'
        The schedule of the step size ``eta``.  With ``t`` the step counter (from
        1):

        {learning_rates}
    {eta0}
    power_t : float, default=0.25
        The exponent of ``learning_rate='invscaling'``: ``eta = eta0 / t **
        power_t``.  Not used by the other schedules.
    {early_stopping}
    {validation_fraction}
    {n_iter_no_change}
    {warm_start}
    {average}
    {n_jobs}
    {extra_parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The weights of the features (the average with ``average``); a
        ``scipy.sparse`` matrix after ``sparsify()``.
    intercept_ : ndarray of shape (1,)
        The intercept ``b`` (the average with ``average``).
    {n_iter_}
    {t_}
    loss_curve_ : list of float
        The training objective of each epoch: the mean of the (weighted) per-sample
        losses met during the epoch plus the penalty at its end (full batch: the
        objective at the epoch's model).  ``partial_fit`` appends its epoch.
    {validation_loss_curve_}
    {n_features_in_}
    {feature_names_in_}
    {cluster_traffic_}
    """

    _parameter_constraints = REGRESSOR_CONSTRAINTS
    _score_metric = "r2"
    _pa_loss = "epsilon_insensitive"
    _sklearn_learning_rate = "invscaling"

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=0.0001,
                 l1_ratio=0.15, fit_intercept=True, max_iter=1000, tol=1e-3,
                 shuffle=True, verbose=0, epsilon=0.1, random_state=None,
                 learning_rate="auto", eta0=0.01, power_t=0.25,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 warm_start=False, average=False, n_jobs=None, decay_rate=0.9,
                 eta_min=0.0, shuffle_window="auto", batch_size=1, optimizer="sgd",
                 momentum=0.9, beta_1=0.9, beta_2=0.999, rho=0.99, eps=1e-8):
        _store_init_params(self, locals())

    _y_numeric = True

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model with ``max_iter`` epochs of SGD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        coef_init : array of shape (n_features,), default=None
        intercept_init : array of shape (1,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, False, self.max_iter,
                                    coef_init=coef_init, intercept_init=intercept_init)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of SGD over the given samples, continuing the step counter.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, True, 1)

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            A Dask array (computed lazily, chunk by chunk) for Dask input.
        """
        if is_dask(X):
            return predict_blocks(self, X, "predict", None)
        return self._decision(X).ravel()


@shared_docs
class SGDClassifier(_ScoreOnWorkers, ClassifierMixin, _BaseSGD):
    """Linear classification by per-sample stochastic gradient descent.

    A drop-in replacement of :class:`sklearn.linear_model.SGDClassifier` (same
    parameters, defaults and attributes) on typed Cython + OpenMP kernels.  With more
    than two classes the one-vs-rest models are trained together, in parallel across
    ``n_jobs`` threads.

    Parameters
    ----------
    loss : {classification_losses}, default='hinge'
        The loss to minimise, of a row's score ``p = <x, w> + b`` against its label
        ``y`` (-1 or +1 for each one-vs-rest model).  ``'hinge'`` is ``max(0, 1 - y p)``
        (a linear support vector machine), ``'log_loss'`` is ``log(1 + exp(-y p))``
        (logistic regression, with probabilities), ``'modified_huber'`` a hinge smoothed
        to be quadratic near the margin and linear far from it (outliers weigh less;
        probabilities too), ``'squared_hinge'`` the square of the hinge and
        ``'perceptron'`` ``max(0, -y p)``.  The regression losses fit the labels -1 and
        +1 as numbers (see ``SGDRegressor``).
    {penalty}
    {alpha}
    {l1_ratio}
    {fit_intercept}
    {max_iter}
    {tol}
    {shuffle}
    {verbose}
    {epsilon}
    {n_jobs}
    {random_state}
    learning_rate : {learning_rate_options}, default='auto'
        The schedule of the step size ``eta``.  With ``t`` the step counter (from
        1):

        {learning_rates}
    {eta0}
    power_t : float, default=0.5
        The exponent of ``learning_rate='invscaling'``: ``eta = eta0 / t **
        power_t``.  Not used by the other schedules.
    {early_stopping}
    {validation_fraction}
    {n_iter_no_change}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, which multiply the loss (so the steps) of their
        rows, on top of ``sample_weight``.  A dict ``{label: weight}`` (a class not
        in it weighs 1), ``'balanced'`` for ``n_samples / (n_classes *
        count(class))`` from the labels of ``fit`` (not available with
        ``partial_fit``), or ``None`` for 1 everywhere.
    {warm_start}
    {average}
    {extra_parameters}
    multi_class : {"ovr", "multinomial"}, default="ovr"
        ``"ovr"``: one binary model per class (scikit-learn's scheme).
        ``"multinomial"`` (``loss="log_loss"`` only): one softmax model, the class rows
        trained jointly on the cross-entropy; ``fit`` then also takes soft labels,
        an ``(n_samples, n_classes)`` array of probabilities as ``y``.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights of the features (the average with ``average``): one row for two
        classes, the model of ``classes_[1]`` against ``classes_[0]``; else one row
        per class, its one-vs-rest model or its row of the softmax.  A two-class
        softmax is given as its difference of rows, the logistic model it is.  A
        ``scipy.sparse`` matrix after ``sparsify()``.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts, one per row of ``coef_``.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    {n_iter_}
    {t_}
    loss_curve_ : list of float
        The training objective of each epoch, summed over the one-vs-rest models:
        the mean of the (weighted) per-sample losses met during the epoch plus the
        penalty at its end (full batch: the objective at the epoch's model).
        ``partial_fit`` appends its epoch.
    {validation_loss_curve_}
    {n_features_in_}
    {feature_names_in_}
    {cluster_traffic_}
    """

    _parameter_constraints = CLASSIFIER_CONSTRAINTS
    _score_metric = "accuracy"
    _pa_loss = "hinge"
    _sklearn_learning_rate = "optimal"

    def __init__(self, loss="hinge", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=0.1, n_jobs=None, random_state=None, learning_rate="auto",
                 eta0=0.01, power_t=0.5, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False,
                 average=False, decay_rate=0.9, eta_min=0.0, shuffle_window="auto",
                 batch_size=1, multi_class="ovr", optimizer="sgd", momentum=0.9,
                 beta_1=0.9, beta_2=0.999, rho=0.99, eps=1e-8):
        _store_init_params(self, locals())

    _y_numeric = False

    def _validate_X_y(self, X, y, reset, **kwargs):
        shape = getattr(y, "shape", None) or np.asarray(y).shape
        if len(shape) == 2 and shape[1] > 1:  # soft labels
            kwargs.update(multi_output=True, y_numeric=True)
        return super()._validate_X_y(X, y, reset, **kwargs)

    def _set_classes(self, y, partial, classes):
        set_classes(self, y, partial, classes)

    def _encode_targets(self, y, dtype, fitting):
        return classifier_targets(self, y, dtype, fitting)

    def _set_coef(self, coef, intercept):
        self.coef_ = coef
        self.intercept_ = intercept

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None,
            classes=None):
        """Fit the model with ``max_iter`` epochs of SGD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or (``multi_class="multinomial"``) soft labels: rows of
            class probabilities, e.g. a larger model's ``predict_proba``.
        coef_init : array of shape (n_classes, n_features), default=None
        intercept_init : array of shape (n_classes,), default=None
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            The class labels; by default the labels found in ``y``, or
            ``arange(n_classes)`` for soft labels.

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, False, self.max_iter,
                                    classes=classes, coef_init=coef_init,
                                    intercept_init=intercept_init)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of SGD over the given samples, continuing the step counter.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, True, 1, classes=classes)

    def decision_function(self, X):
        """Signed distance to the separating hyperplane(s), rows in parallel.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            A Dask array (computed lazily, chunk by chunk) for Dask input.
        """
        if is_dask(X):
            check_is_fitted(self)
            rows = self.coef_.shape[0]
            return predict_blocks(self, X, "decision_function",
                                  None if rows == 1 else rows)
        scores = self._decision(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            A Dask array (computed lazily, chunk by chunk) for Dask input.
        """
        if is_dask(X):
            return predict_blocks(self, X, "predict", None)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def _has_proba(self):
        if not LOSS_SPECS[self.loss].has_proba:
            raise AttributeError("probability estimates are not available for "
                                 f"loss={self.loss!r}")
        return True

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities (log_loss: logistic; modified_huber: clipped).

        With more than two classes the one-vs-rest probabilities are normalised to
        sum to one; a multinomial model gives the softmax of its logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            A Dask array (computed lazily, chunk by chunk) for Dask input.
        """
        if is_dask(X):
            check_is_fitted(self)
            return predict_blocks(self, X, "predict_proba", len(self.classes_))
        scores = self._decision(X).astype(np.float64)
        if self.multi_class == "multinomial" and scores.shape[1] > 1:
            scores -= scores.max(axis=1, keepdims=True)
            prob = np.exp(scores)
            return prob / prob.sum(axis=1, keepdims=True)
        if self.loss == "log_loss":
            prob = 0.5 * (1.0 + np.tanh(0.5 * scores))  # the logistic function
        else:
            prob = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
        if prob.shape[1] == 1:
            return np.hstack([1.0 - prob, prob])
        norm = prob.sum(axis=1, keepdims=True)
        zero = norm[:, 0] == 0
        prob[zero] = 1.0
        norm[zero] = prob.shape[1]
        return prob / norm

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            A Dask array (computed lazily, chunk by chunk) for Dask input.
        """
        if is_dask(X):
            check_is_fitted(self)
            return predict_blocks(self, X, "predict_log_proba", len(self.classes_))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


@shared_docs
class SGDOneClassSVM(OutlierMixin, _OneModel, _BaseSGD):
    """Linear One-Class SVM by per-sample stochastic gradient descent.

    Drop-in for scikit-learn's ``SGDOneClassSVM`` (same parameters, attributes and
    methods), trained by fastgd's per-sample kernel: every row is a positive
    example of the hinge loss, the L2 penalty's strength is ``alpha = nu / 2`` and
    every intercept step also moves by ``eta * nu``, scikit-learn's update.  The
    objective is

    ``mean_i max(0, 1 - (x_i . w + b)) + nu / 4 * |w|^2 + nu * b``,

    and the rows with ``x . w < offset_ = 1 - b`` are the outliers.  As
    scikit-learn's, it is linear: pair it with a kernel approximation (e.g.
    ``Nystroem``) for a non-linear boundary.

    Parameters
    ----------
    nu : float, default=0.5
        In (0, 1]: an upper bound on the fraction of training rows outside the
        boundary and a lower bound on the fraction of support vectors.
    {fit_intercept}
    max_iter : int, default=1000
        The most epochs (passes over the training rows) ``fit`` runs; it stops
        sooner when the stopping rule of ``tol`` fires.  ``partial_fit`` runs one
        epoch whatever its value.
    tol : float or None, default=1e-3
        The stopping criterion: ``fit`` stops once the epoch's objective has failed
        to fall by at least ``tol`` below its best for 5 epochs in a row.  ``None``
        runs all ``max_iter`` epochs.  A fit that runs all ``max_iter`` epochs with
        ``tol`` set warns (``ConvergenceWarning``).
    {shuffle}
    {verbose}
    {random_state}
    learning_rate : {one_class_learning_rate_options}, default='optimal'
        The schedule of the step size ``eta``, as scikit-learn's.  With ``t`` the
        step counter (from 1) and ``alpha = nu / 2``:

        {one_class_learning_rates}
    eta0 : float, default=0.0
        The step of ``'constant'``, ``'invscaling'`` and ``'adaptive'`` (where they
        start), which need it positive.  Not used by ``'optimal'``.
    power_t : float, default=0.5
        The exponent of ``learning_rate='invscaling'``: ``eta = eta0 / t **
        power_t``.  Not used by the other schedules.
    {warm_start}
    {average}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The weights ``w`` of the features (the average with ``average``).
    offset_ : ndarray of shape (1,)
        ``1 - b``: the threshold of the score, ``decision_function = X @ coef_ -
        offset_``.
    intercept_ : ndarray of shape (1,)
        The intercept ``b`` of the model (the average with ``average``):
        ``offset_ = 1 - intercept_``.
    {n_iter_}
    {t_}
    loss_curve_ : list of float
        The objective of each epoch: the mean of the (weighted) hinge losses met
        during the epoch plus the penalty and ``nu * b`` at its end.
        ``partial_fit`` appends its epoch.
    {n_features_in_}
    {feature_names_in_}
    """

    _parameter_constraints = ONE_CLASS_CONSTRAINTS
    # scikit-learn's algorithm, which SGDOneClassSVM does not let one change
    loss = "hinge"
    penalty = "l2"
    l1_ratio = 0.0
    epsilon = 0.1
    early_stopping = False
    validation_fraction = 0.1
    n_iter_no_change = 5
    batch_size = 1
    optimizer = "sgd"
    shuffle_window = "auto"
    decay_rate = 0.9
    eta_min = 0.0
    momentum, beta_1, beta_2, rho, eps = 0.9, 0.9, 0.999, 0.99, 1e-8
    n_jobs = None
    _pa_loss = "hinge"
    _y_numeric = True

    def __init__(self, nu=0.5, fit_intercept=True, max_iter=1000, tol=1e-3,
                 shuffle=True, verbose=0, random_state=None, learning_rate="optimal",
                 eta0=0.0, power_t=0.5, warm_start=False, average=False):
        _store_init_params(self, locals())

    @property
    def alpha(self):
        """The L2 penalty's strength of the kernels: ``nu / 2``."""
        return self.nu / 2.0

    @property
    def _intercept_drift(self):
        # the gradient of nu * b: scikit-learn's intercept steps move by eta * nu
        return self.nu

    @property
    def offset_(self):
        """``1 - b``: ``decision_function = X @ coef_ - offset_``."""
        return 1.0 - np.atleast_1d(self.intercept_)

    def _validate_params(self):
        super()._validate_params()
        if self.learning_rate != "optimal" and self.eta0 <= 0:
            raise ValueError(f"eta0 must be > 0 with learning_rate="
                             f"{self.learning_rate!r}; got eta0={self.eta0!r}.")

    def _validate_X_y(self, X, y, reset, **kwargs):
        # every row is a positive example of the hinge loss: y is ignored, as in
        # scikit-learn, and the targets are ones
        for name in ("y_numeric", "multi_output"):
            kwargs.pop(name, None)
        X = validate_data(self, X, accept_sparse="csr",
                          dtype=[np.float64, np.float32], order="C",
                          accept_large_sparse=True, reset=reset, **kwargs)
        return X, np.ones(X.shape[0], dtype=X.dtype)

    def objective(self, X, y=None, sample_weight=None):
        """The objective of the current model on X: ``mean_i(s_i * max(0, 1 - (x_i
        . w + b))) + nu / 4 * |w|^2 + nu * b``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        objective : float
        """
        return super().objective(X, y, sample_weight)

    def _no_dask(self, *arrays):
        if any(is_dask(a) for a in arrays):
            raise TypeError("SGDOneClassSVM does not train on Dask collections; "
                            "SGDClassifier and SGDRegressor do.")

    def fit(self, X, y=None, coef_init=None, offset_init=None, sample_weight=None):
        """Fit the model with ``max_iter`` epochs of per-sample SGD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        coef_init : array of shape (n_features,), default=None
        offset_init : array of shape (1,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._no_dask(X, sample_weight)
        intercept_init = (None if offset_init is None
                          else 1.0 - np.atleast_1d(np.asarray(offset_init, float)))
        return self._fit_or_partial(X, None, sample_weight, False, self.max_iter,
                                    coef_init=coef_init, intercept_init=intercept_init)

    def partial_fit(self, X, y=None, sample_weight=None):
        """One epoch of SGD over the given samples, continuing the step counter.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._no_dask(X, sample_weight)
        return self._fit_or_partial(X, None, sample_weight, True, 1)

    def decision_function(self, X):
        """Signed distance to the boundary: positive inside, negative outside.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._decision(X).ravel() - 1.0

    def score_samples(self, X):
        """``X @ coef_``: the decision function plus ``offset_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.decision_function(X) + self.offset_

    def predict(self, X):
        """1 for the rows inside the boundary (inliers), -1 outside.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of int of shape (n_samples,)
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)
