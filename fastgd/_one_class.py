"""SGDOneClassSVM: the linear One-Class SVM by per-sample SGD, scikit-learn's
parameters and attributes."""
import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils.validation import validate_data

from fastgd._base import BaseSGD, OneModel, store_init_params
from fastgd._dask.chunks import is_dask
from fastgd._docs import shared_docs
from fastgd._params import ONE_CLASS_CONSTRAINTS


@shared_docs
class SGDOneClassSVM(OutlierMixin, OneModel, BaseSGD):
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
    {n_passes_}
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
        store_init_params(self, locals())

    @property
    def alpha(self):
        """The L2 penalty's strength of the kernels: ``nu / 2``."""
        return self.nu / 2.0

    @property
    def _intercept_drift(self):
        """The gradient of ``nu * b``: scikit-learn's intercept steps move by ``eta *
        nu``."""
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
