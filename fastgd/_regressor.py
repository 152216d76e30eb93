"""SGDRegressor: linear regression by SGD, scikit-learn's parameters and attributes."""
from sklearn.base import RegressorMixin

from fastgd._base import BaseSGD, OneModel, store_init_params
from fastgd._cluster import ScoreOnWorkers, predict_blocks
from fastgd._dask.chunks import is_dask
from fastgd._docs import shared_docs
from fastgd._params import REGRESSOR_CONSTRAINTS


@shared_docs
class SGDRegressor(ScoreOnWorkers, RegressorMixin, OneModel, BaseSGD):
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
    {n_passes_}
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
        store_init_params(self, locals())

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
