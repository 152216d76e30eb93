"""SGDClassifierCV and SGDRegressorCV: alpha (and l1_ratio) picked by K-fold
cross-validation on warm-started regularization paths (``_path``).

One fit reads top to bottom: validate the parameters -> validate X, y and the weights
and encode the targets once (``_path.prepare_path``, with a template estimator that
solves the whole objective) -> the alphas of every l1_ratio (given, or the default
grid of the whole data) -> one warm-started path per (l1_ratio, fold), on the fold's
training rows by their indices (no copy of X), the paths in parallel on threads
(joblib) -> each path's models scored on the fold's held-out rows -> the best mean
score -> the final model, refitted on every row from the folds' mean model at the
best alpha (``refit=True``), or that mean model itself.  Every path is the same
whatever ``n_jobs`` (the kernels' sums are in a fixed order, and each path has its
own state), so the scores and the choice do not depend on it.  A fit that fails
leaves the estimator as it was.  Prediction is ``SGDClassifier``'s and
``SGDRegressor``'s own, on the final model.
"""
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.metrics import check_scoring, log_loss, make_scorer
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions

from fastgd._base import BaseSGD, _training_lock, _unchanged_on_failure
from fastgd._classifier import SGDClassifier
from fastgd._config import effective_n_threads
from fastgd._params import (
    CLASSIFICATION_LOSSES, CLASSIFIER_CONSTRAINTS, REGRESSION_LOSSES,
    REGRESSOR_CONSTRAINTS,
)
from fastgd._path import (
    alpha_grid, check_alphas, fit_path, prepare_path, quadratic_parts,
)
from fastgd._regressor import SGDRegressor
from fastgd._training.loop import _blas_controller

# the solvers of the whole objective (``batch_size='full'``) a CV estimator takes
CV_OPTIMIZERS = {"auto", "lbfgs", "newton", "sgd", "nesterov"}

CV_CONSTRAINTS = {
    "alphas": ["array-like", Interval(Integral, 1, None, closed="left")],
    "eps": [Interval(Real, 0, 1, closed="neither"), None],
    "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
    "cv": ["cv_object"],
    "scoring": [str, callable, None],
    "refit": ["boolean"],
    "fit_intercept": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "optimizer": [StrOptions(CV_OPTIMIZERS)],
    "epsilon": [Interval(Real, 0, None, closed="left")],
    "n_jobs": REGRESSOR_CONSTRAINTS["n_jobs"],
    "verbose": ["verbose"],
}


CV_SAMPLE_WEIGHT_REASON = (
    "a row of weight 2 is one row in one fold, its two copies may fall in two folds: "
    "the folds, so the held-out scores and the chosen alpha, differ (each fit on "
    "its training rows treats weights as repetitions exactly)")
CV_EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": CV_SAMPLE_WEIGHT_REASON,
    "check_sample_weight_equivalence_on_sparse_data": CV_SAMPLE_WEIGHT_REASON,
    "check_sparsify_coefficients": (
        "the check's data holds 3 rows of each class, fewer than the 5 stratified "
        "folds of cv=None need: scikit-learn's StratifiedKFold refuses it"),
}


class BaseSGDCV(BaseEstimator):
    """What the two CV estimators share: the folds' paths, the choice, the final
    model.  A subclass names its ``_estimator_class`` and its default scoring."""

    # prediction is the fitted linear model's (``BaseSGD``'s kernels)
    _decision = BaseSGD._decision
    _kernel_model = BaseSGD._kernel_model
    densify = BaseSGD.densify
    sparsify = BaseSGD.sparsify

    def _template(self, alpha):
        """The estimator whose validation, encoding and prediction the fit uses: the
        whole objective at ``alpha`` with this estimator's settings."""
        params = dict(loss=self.loss, penalty=self.penalty,
                      l1_ratio=float(self._l1_ratios()[0]), alpha=alpha,
                      fit_intercept=self.fit_intercept, tol=self.tol,
                      max_iter=self.max_iter, batch_size="full",
                      optimizer=self.optimizer, epsilon=self.epsilon,
                      n_jobs=self.n_jobs)
        params.update(self._extra_template_params())
        return self._estimator_class(**params)

    def _extra_template_params(self):
        return {}

    def _l1_ratios(self):
        """The l1_ratios to search, as a 1-D float array (raises for bad ones)."""
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        if ratios.ndim != 1 or ratios.size == 0:
            raise ValueError(f"l1_ratio must be a float or a non-empty list of floats; "
                             f"got {self.l1_ratio!r}.")
        if np.any(~np.isfinite(ratios)) or np.any((ratios < 0) | (ratios > 1)):
            raise ValueError(f"l1_ratio must be in [0, 1]; got {self.l1_ratio!r}.")
        if ratios.size > 1 and self.penalty != "elasticnet":
            raise ValueError(f"A list of l1_ratio needs penalty='elasticnet'; got "
                             f"penalty={self.penalty!r}.")
        return ratios

    def _scorer(self, template):
        if self.scoring is not None:
            return check_scoring(template, scoring=self.scoring)
        return self._default_scorer(template)

    def _expected_failed_checks(self):
        """The scikit-learn checks this estimator is known to fail, with why
        (``fastgd.expected_failed_checks``)."""
        return dict(CV_EXPECTED_FAILED_CHECKS)

    def fit(self, X, y, sample_weight=None):
        """Pick alpha (and l1_ratio) by cross-validation, then fit the final model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in training, and in the held-out scores (passed to
            the scorer as ``sample_weight``).

        Returns
        -------
        self
        """
        with _training_lock(self), _unchanged_on_failure(self):
            self._validate_params()
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        l1_ratios = self._l1_ratios()
        given = None if isinstance(self.alphas, Integral) else check_alphas(self.alphas)
        template = self._template(1.0 if given is None else float(given[0]))
        n_threads = effective_n_threads(self.n_jobs)
        # one BLAS limit for the whole fit: the threads' own limits then nest
        with _blas_controller().limit(limits=1, user_api="blas"):
            data = prepare_path(template, X, y, sample_weight)
            grids = np.array([given if given is not None else
                              alpha_grid(data, self.penalty, ratio, self.alphas,
                                         self.eps, n_threads)
                              for ratio in l1_ratios])
            folds = list(check_cv(self.cv, data.y,
                                  classifier=self._is_classifier).split(data.X, data.y))
            tasks = [(i, j) for i in range(len(l1_ratios)) for j in range(len(folds))]
            n_parallel = max(1, min(n_threads, len(tasks)))
            inner = max(1, n_threads // n_parallel)
            scorer = self._scorer(template)
            # squared error on Newton's method: every fold's Hessian and sums
            # from two passes over X, for every l1_ratio
            parts = quadratic_parts(data, folds, n_threads)
            paths = Parallel(n_jobs=n_parallel, backend="threading")(
                delayed(_fold_path)(data, template, scorer, self.penalty,
                                    l1_ratios[i], grids[i], folds[j], inner,
                                    None if parts is None else parts[0][j])
                for i, j in tasks)
            n_folds = len(folds)
            shape = (len(l1_ratios), n_folds)
            self.scores_ = np.empty(shape + (grids.shape[1],))
            self.coefs_paths_ = np.empty(shape + paths[0][1].shape)
            self.intercepts_paths_ = np.empty(shape + paths[0][2].shape)
            self.n_iter_ = np.empty(shape + (grids.shape[1],), dtype=np.int64)
            for (i, j), (scores, coefs, intercepts, n_iter) in zip(tasks, paths):
                self.scores_[i, j] = scores
                self.coefs_paths_[i, j] = coefs
                self.intercepts_paths_[i, j] = intercepts
                self.n_iter_[i, j] = n_iter
            # (n_folds, n_l1_ratios, n_alphas), scikit-learn's LogisticRegressionCV
            self.scores_ = np.moveaxis(self.scores_, 1, 0)
            self.coefs_paths_ = np.moveaxis(self.coefs_paths_, 1, 0)
            self.intercepts_paths_ = np.moveaxis(self.intercepts_paths_, 1, 0)
            self.n_iter_ = np.moveaxis(self.n_iter_, 1, 0)
            mean = self.scores_.mean(axis=0)
            # the first best: the largest alpha (and first l1_ratio) among ties
            best_ratio, best_alpha = np.unravel_index(np.argmax(mean), mean.shape)
            self.alphas_ = grids if len(l1_ratios) > 1 else grids[0]
            self.alpha_ = float(grids[best_ratio, best_alpha])
            self.l1_ratio_ = float(l1_ratios[best_ratio])
            coef = self.coefs_paths_[:, best_ratio, best_alpha].mean(axis=0)
            intercept = self.intercepts_paths_[:, best_ratio, best_alpha].mean(axis=0)
            if self.refit:
                final = fit_path(data, self.penalty, self.l1_ratio_, [self.alpha_],
                                 n_threads, start=(coef, intercept),
                                 quadratic=None if parts is None else parts[1])
                coef, intercept = final.coefs[0], final.intercepts[0]
        self._set_final(data, template, coef.astype(data.X.dtype), intercept)
        return self

    def _set_final(self, data, template, coef, intercept):
        """The fitted attributes of the final model (rows of ``coef``: the model
        rows of the plan)."""
        for name in ("n_features_in_", "feature_names_in_", "classes_"):
            if hasattr(template, name):
                setattr(self, name, getattr(template, name))
            elif name in self.__dict__:
                delattr(self, name)
        self._set_coef(*_model_rows(data.plan, coef, intercept))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _model_rows(plan, coef, intercept):
    """(coef, intercept) as the estimators give them: a two-class softmax as its
    difference of rows, the logistic model it is (as ``BaseSGD._set_fitted``)."""
    if plan.multinomial and coef.shape[0] == 2:
        return coef[1:] - coef[:1], intercept[1:] - intercept[:1]
    return coef, intercept


def _fold_path(data, template, scorer, penalty, l1_ratio, alphas, fold, n_threads,
               quadratic=None):
    """The path of one fold on its training rows (with their ``QuadraticPart``
    where one was made), scored on its held-out rows.

    Returns
    -------
    (scores, coefs, intercepts, n_iter)
        Of shapes (n_alphas,), (n_alphas, n_models, n_features), (n_alphas,
        n_models), (n_alphas,).
    """
    train_rows, test_rows = fold
    result = fit_path(data, penalty, l1_ratio, alphas, n_threads,
                      train_rows=train_rows, quadratic=quadratic)
    X_test = _safe_indexing(data.X, test_rows)
    y_test = data.y[test_rows]
    sample_weight = data.problem.sample_weight
    score_params = ({} if sample_weight is None
                    else {"sample_weight": sample_weight[test_rows]})
    model = clone(template).set_params(n_jobs=n_threads)
    model.n_features_in_ = data.n_features
    if data.classes is not None:
        model.classes_ = data.classes
    scores = np.empty(len(alphas))
    # X was checked for NaN and infinity once (prepare_path): each alpha's
    # predictions need not check its held-out rows again
    with config_context(assume_finite=True):
        for k in range(len(alphas)):
            coef, intercept = _model_rows(data.plan, result.coefs[k],
                                          result.intercepts[k])
            model._set_coef(coef, intercept)
            scores[k] = scorer(model, X_test, y_test, **score_params)
    return scores, result.coefs, result.intercepts, result.n_iter


_CV_DOC = """
    Parameters
    ----------
    alphas : int or array-like of float, default=20
        The alphas to try (sorted into decreasing order), or how many of them the
        default grid holds (``fastgd.sgd_path``'s, from the whole data: with an L1
        part from the smallest alpha that zeroes every weight down to ``eps`` times
        it; with an L2 penalty only from the largest curvature of the mean loss).
    eps : float in (0, 1), default=None
        The smallest alpha of the default grid over its largest (None: 1e-3 with an
        L1 part, 1e-6 without).
    penalty : {{'l2', 'l1', 'elasticnet'}}, default={penalty!r}
    l1_ratio : float or list of float in [0, 1], default={l1_ratio}
        The L1 share of the elastic net; a list is searched too
        (``penalty='elasticnet'``).
    loss : str, default={loss!r}
        As ``{estimator}``'s ``loss``.
    cv : int, cross-validation generator or iterable, default=None
        The folds (scikit-learn's ``check_cv``: None is 5 folds, {folds}).
    scoring : str or callable, default=None
        How a held-out fold scores a model (higher is better); None: {scoring}.
    refit : bool, default=True
        Fit the final model on every row at the best alpha (started from the folds'
        mean model there); else the final model is that mean model.
    fit_intercept : bool, default=True
    tol : float or None, default=1e-4
        Every fit (each alpha of each fold, and the refit) stops once the largest
        entry of its objective's gradient is at most ``tol``.
    max_iter : int, default=1000
        Solver iterations at most per alpha.
    optimizer : {{'auto', 'lbfgs', 'newton', 'sgd', 'nesterov'}}, default='auto'
        The solver of the whole objective (``batch_size='full'``).
    epsilon : float, default=0.1
        The parameter of huber and the epsilon-insensitive losses.
{extra}    n_jobs : int, default=None
        Threads: the paths of the folds (and l1_ratios) in parallel, each with its
        share of the threads; the scores and the choice are the same at every
        ``n_jobs``.
    verbose : int, default=0
        Not used; kept for scikit-learn's signature.

    Attributes
    ----------
    alpha_ : float
        The alpha of the best mean score over the folds (the largest among ties).
    l1_ratio_ : float
        The l1_ratio of the best mean score.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        The alphas tried, decreasing (per l1_ratio when a list is searched).
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
        Held-out score of every fold's model (scikit-learn's LogisticRegressionCV,
        ``use_legacy_attributes=False``).
{extra_attributes}    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas, n_models, n_features)
        The model rows of every fold's path.
    intercepts_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas, n_models)
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
        Solver iterations of every fold's fits (0: the previous alpha's model
        already met the tolerance).
    coef_ : ndarray
        The final model's weights, shaped as ``{estimator}``'s.
    intercept_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has feature names that are all strings.
"""


class SGDClassifierCV(ClassifierMixin, BaseSGDCV):
    __doc__ = """Linear classification with alpha picked by cross-validation on
    warm-started regularization paths (scikit-learn's ``LogisticRegressionCV``
    conventions).

    Each fold fits a path of decreasing alphas with a solver of the whole objective
    (``SGDClassifier(batch_size='full')``), each alpha from the previous one's
    model; the alpha (and l1_ratio) of the best mean held-out score wins.  With
    ``loss='log_loss'`` and an L2 penalty, ``alpha`` is ``LogisticRegression``'s
    ``1 / (C * n_train)``.
""" + _CV_DOC.format(
        penalty="l2", l1_ratio=0.15, loss="log_loss", estimator="SGDClassifier",
        folds="stratified", scoring="``'neg_log_loss'`` for ``loss='log_loss'``, else "
        "accuracy",
        extra="""    class_weight : dict, 'balanced' or None, default=None
        As ``SGDClassifier``'s (``'balanced'``: from every row's label).
    multi_class : {'ovr', 'multinomial'}, default='ovr'
        As ``SGDClassifier``'s.
""", extra_attributes="""    classes_ : ndarray of shape (n_classes,)
""")

    _estimator_class = SGDClassifier
    _is_classifier = True
    _parameter_constraints = {
        **CV_CONSTRAINTS,
        "loss": [StrOptions({name for name in CLASSIFICATION_LOSSES
                             if name not in REGRESSION_LOSSES})],
        "class_weight": CLASSIFIER_CONSTRAINTS["class_weight"],
        "multi_class": CLASSIFIER_CONSTRAINTS["multi_class"],
    }

    def __init__(self, alphas=20, *, eps=None, penalty="l2", l1_ratio=0.15,
                 loss="log_loss", cv=None, scoring=None, refit=True,
                 fit_intercept=True, tol=1e-4, max_iter=1000, optimizer="auto",
                 epsilon=0.1, class_weight=None, multi_class="ovr", n_jobs=None,
                 verbose=0):
        self.alphas = alphas
        self.eps = eps
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.loss = loss
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.optimizer = optimizer
        self.epsilon = epsilon
        self.class_weight = class_weight
        self.multi_class = multi_class
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _extra_template_params(self):
        return dict(class_weight=self.class_weight, multi_class=self.multi_class)

    def _default_scorer(self, template):
        """``'neg_log_loss'`` (over every class, even one a fold's held-out rows
        lack) for ``loss='log_loss'``; accuracy otherwise."""
        if self.loss != "log_loss":
            return check_scoring(template, scoring="accuracy")
        return make_scorer(log_loss, greater_is_better=False,
                           response_method="predict_proba", labels=template.classes_)

    _set_coef = SGDClassifier._set_coef
    decision_function = SGDClassifier.decision_function
    predict = SGDClassifier.predict
    _has_proba = SGDClassifier._has_proba
    predict_proba = SGDClassifier.__dict__["predict_proba"]
    predict_log_proba = SGDClassifier.__dict__["predict_log_proba"]


class SGDRegressorCV(RegressorMixin, BaseSGDCV):
    __doc__ = """Linear regression with alpha (and l1_ratio) picked by
    cross-validation on warm-started regularization paths (scikit-learn's
    ``ElasticNetCV`` conventions).

    Each fold fits a path of decreasing alphas with a solver of the whole objective
    (``SGDRegressor(batch_size='full')``), each alpha from the previous one's
    model; the alpha (and l1_ratio) of the best mean held-out score wins.  With
    ``loss='squared_error'`` (``(p - y)^2 / 2``) the objective is ``ElasticNet``'s
    at the same ``alpha`` and ``l1_ratio``.
""" + _CV_DOC.format(
        penalty="elasticnet", l1_ratio=0.5, loss="squared_error",
        estimator="SGDRegressor", folds="not shuffled",
        scoring="the mean squared error (``mse_path_``), as ``ElasticNetCV``",
        extra="", extra_attributes="""    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratios, n_alphas, n_folds)
        With ``scoring=None``: the held-out mean squared error (``ElasticNetCV``'s
        layout).
""")

    _estimator_class = SGDRegressor
    _is_classifier = False
    _parameter_constraints = {
        **CV_CONSTRAINTS,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
    }

    def __init__(self, alphas=20, *, eps=None, penalty="elasticnet", l1_ratio=0.5,
                 loss="squared_error", cv=None, scoring=None, refit=True,
                 fit_intercept=True, tol=1e-4, max_iter=1000, optimizer="auto",
                 epsilon=0.1, n_jobs=None, verbose=0):
        self.alphas = alphas
        self.eps = eps
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.loss = loss
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.optimizer = optimizer
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _default_scorer(self, template):
        return check_scoring(template, scoring="neg_mean_squared_error")

    def _fit(self, X, y, sample_weight):
        super()._fit(X, y, sample_weight)
        if self.scoring is None:
            mse = -np.moveaxis(self.scores_, 0, -1)  # (n_l1_ratios, n_alphas, n_folds)
            self.mse_path_ = mse if mse.shape[0] > 1 else mse[0]
        elif "mse_path_" in self.__dict__:
            del self.mse_path_
        return self

    def _set_coef(self, coef, intercept):
        self.coef_ = coef.ravel()
        self.intercept_ = intercept

    predict = SGDRegressor.predict
