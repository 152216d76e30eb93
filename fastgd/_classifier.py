"""SGDClassifier: linear classification by SGD (one-vs-rest or the softmax, hard or
soft labels), scikit-learn's parameters and attributes."""
import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from fastgd._base import BaseSGD, store_init_params
from fastgd._cluster import ScoreOnWorkers, predict_blocks
from fastgd._dask.chunks import is_dask
from fastgd._docs import shared_docs
from fastgd._params import CLASSIFIER_CONSTRAINTS, LOSS_SPECS
from fastgd._training.targets import TargetEncoding, class_indices, class_weights


@shared_docs
class SGDClassifier(ScoreOnWorkers, ClassifierMixin, BaseSGD):
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
    {n_passes_}
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
        store_init_params(self, locals())

    _y_numeric = False

    def _validate_X_y(self, X, y, reset, **kwargs):
        shape = getattr(y, "shape", None) or np.asarray(y).shape
        if len(shape) == 2 and shape[1] > 1:  # soft labels
            kwargs.update(multi_output=True, y_numeric=True)
        return super()._validate_X_y(X, y, reset, **kwargs)

    def _set_classes(self, y, partial, classes):
        """``classes_`` from ``classes``, y (or the columns of soft labels), or the
        previous call of ``partial_fit``."""
        soft = np.ndim(y) == 2
        if not soft:
            check_classification_targets(y)
        if not partial:
            if classes is not None:
                self.classes_ = np.unique(classes)
            else:
                self.classes_ = np.arange(y.shape[1]) if soft else np.unique(y)
        elif not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to "
                                 "partial_fit.")
            self.classes_ = np.unique(classes)
        elif classes is not None and not np.array_equal(self.classes_,
                                                        np.unique(classes)):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call "
                             f"to partial_fit, was: {self.classes_!r}")
        if partial and self.class_weight == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In order "
                "to use 'balanced' weights, use compute_class_weight('balanced', "
                "classes=classes, y=y) on a large enough sample of the targets and "
                "pass the resulting weights as the class_weight parameter.")
        if len(self.classes_) < 2:
            raise ValueError("The number of classes has to be greater than one; got "
                             f"{len(self.classes_)} class")

    def _target_encoding(self, y, fitting):
        """The ``TargetEncoding`` of y: class indices with the class weights (found
        from y when ``fitting``, else the kept ones), or soft labels."""
        multinomial = self.multi_class == "multinomial"
        if np.ndim(y) == 2:
            if not multinomial:
                raise ValueError("Soft labels (a 2D y of class probabilities) need "
                                 "multi_class='multinomial'.")
            if self.class_weight is not None:
                raise ValueError("class_weight is not used with soft labels: weight "
                                 "the samples (sample_weight) or the probabilities "
                                 "instead.")
            return TargetEncoding(self.classes_, None, multinomial)
        if fitting:
            try:
                weights = class_weights(self.class_weight, self.classes_, y)
            except ValueError:
                class_indices(y, self.classes_)  # names the labels that are no class
                raise
        else:
            weights = getattr(self, "_class_weight", np.ones(len(self.classes_)))
        self._class_weight = weights
        return TargetEncoding(self.classes_, weights, multinomial)

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
