"""Regularization paths: a decreasing sequence of ``alpha`` fitted with warm starts
by the solvers of the whole objective (``batch_size='full'``), and the default grid
of alphas.

The path of one data set reads top to bottom: the facade (``sgd_path``, or a CV
estimator for each of its folds) validates X, y and the weights once and encodes the
targets once (``prepare_path``: a template estimator's own validation and encoding),
which resolves one ``Plan``; each alpha is then that plan with the penalty's
strengths replaced (``dataclasses.replace``), trained by ``_training.loop.train``
from the ``TrainingState`` the previous alpha left (the warm start).  A fold of
cross-validation is the same data with its training rows given
(``PathSource``): X is neither copied nor validated again per fold or per alpha.
For squared error on Newton's method the folds read no row at all: their Hessians
and sums at zero are all the rows' minus their held-out rows' (``quadratic_parts``,
two passes over X for every fold).

Nothing here reads an estimator once the plan is resolved; the template estimator
is used only for what the estimators already define (validation, classes, class
weights, the plan).
"""
import dataclasses
import functools
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from fastgd._config import effective_n_threads
from fastgd._kernels._structs import Rows, Targets
from fastgd._solvers.quasi_newton import CurvatureMemory
from fastgd._params import (
    CLASSIFICATION_LOSSES, REGRESSION_LOSSES, penalty_strengths,
    validate_parameters,
)
from fastgd._solvers.newton import MAX_FEATURES as NEWTON_MAX_FEATURES, cheap_hessian
from fastgd._training.curvature import lipschitz_estimate, sample_rows
from fastgd._training.loop import _blas_controller, train
from fastgd._training.problem import Problem
from fastgd._training.runners import GradientRunner, HessianRunner
from fastgd._training.sources import InMemory
from fastgd._training.state import TrainingState
from fastgd._training.step_rule import make_step_rule

# the smallest alpha of the default grid as a fraction of the largest: with an L1
# part, scikit-learn's ``eps`` of ``enet_path`` (the largest alpha zeroes every
# weight); with an L2 penalty only, six decades below the data's curvature
DEFAULT_EPS_L1 = 1e-3
DEFAULT_EPS_L2 = 1e-6
# rows the curvature estimate of the L2 grid reads (a fixed sample of larger X)
GRID_SAMPLE_ROWS = 20_000
# the intercept-only model that sets the L1 grid is solved to this gradient
INTERCEPT_TOL = 1e-10


@dataclass
class PathData:
    """One data set as every path on it reads it, validated and encoded once.

    Attributes
    ----------
    X : ndarray or CSR matrix
        Validated (C-contiguous float32/float64, or CSR); the user's own array when
        it already was one.
    y : ndarray
        The validated targets (for scoring held-out rows).
    plan : Plan
        The plan of the template estimator; every alpha replaces its penalty.
    problem : Problem
        What the fits train on (all rows; a fold restricts them in its source).
    classes : ndarray or None
        The class labels of a classifier.
    """

    X: object
    y: np.ndarray
    plan: object
    problem: Problem
    classes: object = None

    @property
    def n_models(self):
        return self.problem.targets.n_models

    @property
    def n_features(self):
        return self.problem.rows.n_features


def prepare_path(estimator, X, y, sample_weight):
    """Validate (X, y, weights) once with ``estimator``'s own checks, encode the
    targets once and resolve one ``Plan``.

    Parameters
    ----------
    estimator : SGDClassifier or SGDRegressor
        A template with ``batch_size='full'``; its ``classes_`` (classifier) and
        ``n_features_in_`` / ``feature_names_in_`` are set as a fit sets them.
    X, y, sample_weight
        As ``fit`` takes them.

    Returns
    -------
    PathData
    """
    validate_parameters(estimator)
    X, y = estimator._validate_X_y(X, y, reset=True, y_numeric=estimator._y_numeric)
    estimator._set_classes(y, False, None)
    encoded, stratify = estimator._target_encoding(y, fitting=True).encode(y, X.dtype)
    sample_weight = estimator._sample_weight(sample_weight, X)
    targets = Targets(X.dtype, X.shape[0], sample_weight=sample_weight, **encoded)
    stored = X.nnz if sp.issparse(X) else X.size
    # every alpha after the first starts from the previous one's model: no SGD start
    plan = dataclasses.replace(estimator._plan(X.shape, stored), sgd_warm_start=False,
                               early_stopping=False, verbose=0)
    if estimator.optimizer == "auto":
        plan = dataclasses.replace(plan, solver=path_solver(plan, X, stored))
    problem = Problem(X=X, rows=Rows(X), targets=targets, loss=plan.loss_function(),
                      spec=plan.spec, sample_weight=sample_weight, stratify=stratify)
    return PathData(X=X, y=y, plan=plan, problem=problem,
                    classes=getattr(estimator, "classes_", None))


def path_solver(plan, X, stored):
    """The solver ``optimizer='auto'`` runs along a path: Newton's method where the
    estimators' rule (``_params.auto_solver``) takes it, and also on more rows
    than ``CURVATURE_SAMPLE_ROWS`` when X is dense and its Hessian cheap (read from
    every row: ``newton.cheap_hessian``); else the estimators' choice.

    Warm-started from the previous alpha's optimum, Newton's method starts where it
    converges quadratically: one or two iterations per alpha (measured on 100k x 50
    dense log-loss, L2: 15 passes over X for 20 alphas against 113 for L-BFGS,
    whose memory then started empty at every alpha; elastic net, proximal Newton:
    79 passes against 226 for OWL-QN with its memory carried).  For squared error
    the Hessian is exact and computed once per path (``InMemory.hessian``, kept by
    the source): 5-fold CV of 20 alphas of an elastic net on diamonds (54k x 26)
    took 0.37 s, against 4.95 s for OWL-QN.  On sparse X of many rows its
    Hessian sample misses rare features (see ``auto_solver``): L-BFGS stays.
    """
    n_rows, n_features = X.shape
    newton_allowed = (plan.spec.smooth and not plan.multinomial
                      and n_features <= NEWTON_MAX_FEATURES)
    if (plan.solver == "lbfgs" and newton_allowed
            and cheap_hessian(n_rows, n_features, stored) and not sp.issparse(X)):
        return "newton"
    return plan.solver


class PathSource(InMemory):
    """The rows of one path in memory: all of them, or a fold's training rows, read
    through their indices (no copy of X).  X's values were checked when it was
    validated (``prepare_path``), so no fit checks them again; every pass over X is
    counted (``passes``).  ``quadratic``, a ``QuadraticPart`` of these rows made
    elsewhere (a fold of squared-error CV), gives the Hessian and the sums at
    zero: the path then reads no row."""

    def __init__(self, plan, problem, n_threads, train_rows=None, quadratic=None):
        rule = make_step_rule(plan, problem.rows.sparse)
        super().__init__(plan, problem, rule, n_threads)
        if train_rows is not None:
            self.train_rows = np.ascontiguousarray(np.sort(train_rows), dtype=np.int32)
        self.passes = 0
        self._last_key = self._last_value = self._evaluate = None
        # a quadratic loss's sums over these rows, made elsewhere: no pass here
        self._quadratic = quadratic
        if quadratic is not None:
            self._constant_hessian = quadratic.hessian

    @functools.cached_property
    def curvature_sample(self):
        """(X, weights that are zero outside the training rows, their total): the
        curvature bounds of the training rows without a copy of them (made once
        for the whole path)."""
        p = self.problem
        if self.n_rows == p.rows.n_rows:
            return p.X, p.sample_weight, self.total_weight
        weights = np.zeros(p.rows.n_rows)
        weights[self.train_rows] = (1.0 if p.sample_weight is None
                                    else p.sample_weight[self.train_rows])
        return p.X, weights, self.total_weight

    def loss_and_gradient(self):
        """The sums over the training rows, counted, with the last evaluation kept
        across the fits of the path: the loss part does not depend on alpha, so the
        next alpha's solver starts at the model the previous one ended on without a
        pass over X."""
        if self._evaluate is None:  # one runner (and its buffers) per path
            self._evaluate = super().loss_and_gradient()
            if self._quadratic is not None:  # QuadraticSums, anchored at zero
                self._evaluate.anchor = self._quadratic.anchor(
                    self.problem.targets.n_models, self.problem.rows.n_features)
        evaluate = self._evaluate

        def kept(coef, intercept):
            key = (coef.tobytes(),
                   np.ascontiguousarray(intercept, np.float64).tobytes())
            kept.last_read_x = key != self._last_key
            if kept.last_read_x:
                self._last_value = evaluate(coef, intercept)
                # a quadratic loss's sums may come without a pass (QuadraticSums)
                kept.last_read_x = getattr(evaluate, "last_read_x", True)
                self.passes += kept.last_read_x
                self._last_key = key
            total, grad, grad_b = self._last_value
            return total, grad.copy(), grad_b.copy()
        kept.last_read_x = False
        return kept

    def loss_gradient_and_moments(self):
        return self._counted(super().loss_gradient_and_moments())

    def _counted(self, evaluate):
        def counted(coef, intercept):
            # the softmax's moments take a pass of their own, once
            self.passes += 1 + getattr(evaluate, "extra_passes", 0)
            return evaluate(coef, intercept)
        return counted

    def check_finite(self):
        """Nothing to do: ``prepare_path`` checked X."""


@dataclass
class QuadraticPart:
    """A quadratic loss's (squared error's) sums over a set of rows: its Hessian
    and its loss and gradient at the zero model, from which ``QuadraticSums`` gives
    the sums at any model.  The parts of disjoint rows add, and subtract: a fold's
    training rows' part is all the rows' minus its held-out rows'.

    Attributes
    ----------
    hessian : ndarray of shape (n_models, n_features + 1, n_features + 1)
    loss : float
    grad : ndarray of shape (n_models, n_features)
    grad_intercept : ndarray of shape (n_models,)
    """

    hessian: np.ndarray
    loss: float
    grad: np.ndarray
    grad_intercept: np.ndarray

    def __sub__(self, other):
        return QuadraticPart(self.hessian - other.hessian, self.loss - other.loss,
                             self.grad - other.grad,
                             self.grad_intercept - other.grad_intercept)

    def anchor(self, n_models, n_features):
        """``QuadraticSums``' anchor: the zero model and its sums."""
        return (np.zeros((n_models, n_features)), np.zeros(n_models),
                (self.loss, self.grad.copy(), self.grad_intercept.copy()))


def quadratic_parts(data, folds, n_threads):
    """The ``QuadraticPart`` of every fold's training rows, for the K-fold paths of
    a quadratic loss on Newton's method (``data.plan.solver``), and of all the rows
    (the refit): where a fold's training and held-out rows split the rows, its part
    is all the rows' minus its held-out rows', so two passes over X serve every
    fold (each fold's own would read its training rows: K passes less).  None for
    another loss or solver.

    Parameters
    ----------
    data : PathData
    folds : list of (ndarray of int, ndarray of int)
        Each fold's training and held-out rows.
    n_threads : int

    Returns
    -------
    (list of QuadraticPart, QuadraticPart) or None
    """
    plan, p = data.plan, data.problem
    if not (plan.spec.quadratic and plan.solver == "newton"):
        return None
    coef = np.zeros((data.n_models, data.n_features), dtype=p.rows.dtype)
    intercept = np.zeros(data.n_models)
    gradients = GradientRunner(p.loss, p.rows, p.targets, n_threads)
    hessians = HessianRunner(p.loss, p.X, p.rows, p.targets, n_threads)

    def part(rows):
        rows = None if rows is None else np.ascontiguousarray(np.sort(rows),
                                                              dtype=np.int32)
        return QuadraticPart(hessians.run(coef, intercept, rows),
                             *gradients.run(coef, intercept, rows))

    def splits_the_rows(train, test):
        return (len(train) + len(test) == p.rows.n_rows
                and len(np.union1d(train, test)) == p.rows.n_rows)
    whole = part(None)
    return ([whole - part(test) if splits_the_rows(train, test) else part(train)
             for train, test in folds], whole)


@dataclass
class PathResult:
    """The fits of one path.

    Attributes
    ----------
    coefs : ndarray of shape (n_alphas, n_models, n_features)
    intercepts : ndarray of shape (n_alphas, n_models)
    n_iter : ndarray of int, shape (n_alphas,)
        Solver iterations of each alpha (a start that meets the tolerance already
        counts one, and takes no step).
    passes : int
        Passes over X (gradient and Hessian evaluations) of the whole path.
    """

    coefs: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    passes: int


def strengths(penalty, alpha, l1_ratio):
    """(lam1, lam2) of ``penalty`` at ``alpha`` (``_params.penalty_strengths``)."""
    return penalty_strengths(SimpleNamespace(penalty=penalty, alpha=alpha,
                                             l1_ratio=l1_ratio))


def fit_path(data, penalty, l1_ratio, alphas, n_threads, train_rows=None,
             warn=True, start=None, quadratic=None):
    """Fit ``alphas`` (decreasing) one after the other, each from the model of the
    one before (the first from zeros).

    Parameters
    ----------
    data : PathData
    penalty : {'l2', 'l1', 'elasticnet'}
    l1_ratio : float
    alphas : ndarray of float
    n_threads : int
        Threads of the kernels.
    train_rows : ndarray of int or None
        The rows to train on (a fold); all rows when None.
    start : (coef, intercept) or None
        The model the first alpha starts from (zeros when None).
    warn : bool, default=True
        Warn (``ConvergenceWarning``) when an alpha stops at ``max_iter`` before
        its tolerance.
    quadratic : QuadraticPart or None
        A quadratic loss's Hessian and sums at zero over the training rows, made
        elsewhere (``quadratic_parts``): the path then reads no row of X.

    Returns
    -------
    PathResult
    """
    base, problem = data.plan, data.problem
    plan = dataclasses.replace(base, n_jobs=n_threads)
    source = PathSource(plan, problem, n_threads, train_rows, quadratic)
    rule = make_step_rule(plan, problem.rows.sparse)
    state = TrainingState.start(data.n_models, data.n_features, problem.rows.dtype,
                                rule)
    if start is not None:
        state.initialise(*start)
    # L-BFGS's pairs and preconditioner, from one alpha to the next
    curvature = CurvatureMemory()
    coefs = np.empty((len(alphas), data.n_models, data.n_features),
                     dtype=problem.rows.dtype)
    intercepts = np.empty((len(alphas), data.n_models))
    n_iter = np.zeros(len(alphas), dtype=np.int64)
    not_converged = []
    for k, alpha in enumerate(alphas):
        lam1, lam2 = strengths(penalty, alpha, l1_ratio)
        step = dataclasses.replace(plan, alpha=float(alpha), lam1=lam1, lam2=lam2)
        # a start that meets this alpha's tolerance takes no step (FullBatchEpochs)
        result = train(step, problem, state, source, plan.max_iter,
                       curvature=curvature)
        if step.tol is not None and not result.converged:
            not_converged.append(alpha)
        coefs[k] = state.coef
        intercepts[k] = state.intercept
        n_iter[k] = result.n_iter
    if warn and not_converged:
        warnings.warn(f"The fits of {len(not_converged)} of {len(alphas)} alphas "
                      f"(the first: {not_converged[0]:.4g}) reached max_iter="
                      f"{plan.max_iter} before the tolerance tol={plan.tol}. "
                      "Consider increasing max_iter.", ConvergenceWarning)
    return PathResult(coefs, intercepts, n_iter,
                      source.passes + source.hessian_evaluations)


# ----------------------------------------------------------------- the alpha grid


def largest_alpha(data, penalty, l1_ratio, n_threads, train_rows=None):
    """The top of the default grid.

    * With an L1 part (``penalty='l1'``, or ``'elasticnet'`` with ``l1_ratio > 0``):
      the smallest alpha at which every weight is zero, as scikit-learn's
      ``enet_path`` takes it: ``max_j |g_j| / l1_ratio`` with ``g`` the gradient of
      the mean loss at zero weights and the best intercept (for squared error,
      ``X' (y - mean(y)) / n``).
    * With an L2 penalty only, no alpha zeroes the weights: the largest curvature of
      the mean loss, ``curvature * lambda_max(X' S X) / sum(S)`` (power iterations
      on a fixed sample of at most ``GRID_SAMPLE_ROWS`` rows), at which the penalty
      halves the model along its stiffest direction and more along every other.

    Parameters
    ----------
    data : PathData
    penalty : {'l2', 'l1', 'elasticnet'}
    l1_ratio : float
    n_threads : int
    train_rows : ndarray of int or None

    Returns
    -------
    float
    """
    problem = data.problem
    rows = (np.arange(problem.rows.n_rows, dtype=np.int32) if train_rows is None
            else np.ascontiguousarray(np.sort(train_rows), dtype=np.int32))
    lam1, _ = strengths(penalty, 1.0, l1_ratio)
    sw = problem.sample_weight
    total = float(len(rows)) if sw is None else float(np.sum(sw[rows]))
    if lam1 == 0:
        sample = sample_rows(len(rows), GRID_SAMPLE_ROWS)
        picked = rows[sample]
        every_row = len(picked) == problem.rows.n_rows
        weights = None if sw is None else sw[picked]
        sample_total = float(len(picked)) if sw is None else float(np.sum(weights))
        # lipschitz_estimate divides by the rows it reads, not by their weights
        lam = lipschitz_estimate(data.X if every_row else data.X[picked], weights,
                                 problem.curvature, False, margin=1.0)
        return max(float(lam) * len(picked) / sample_total, np.finfo(float).tiny)
    intercept = best_intercept(data, rows, n_threads)
    runner = GradientRunner(problem.loss, problem.rows, problem.targets, n_threads)
    zeros = np.zeros((data.n_models, data.n_features), dtype=problem.rows.dtype)
    _, grad, _ = runner.run(zeros, intercept,
                            None if len(rows) == problem.rows.n_rows else rows)
    top = float(np.max(np.abs(grad), initial=0.0)) / total / lam1
    return max(top, np.finfo(np.float64).tiny)


def best_intercept(data, rows, n_threads):
    """The intercepts of the best constant model on ``rows`` (zeros without an
    intercept): the solver of the whole objective on X of no values, so that every
    pass costs the rows' targets, not X."""
    plan, problem = data.plan, data.problem
    if not plan.fit_intercept:
        return np.zeros(data.n_models)
    n, dtype = problem.rows.n_rows, problem.rows.dtype
    no_values = sp.csr_matrix((np.zeros(0, dtype), np.zeros(0, np.int32),
                               np.zeros(n + 1, np.int32)), shape=(n, 1))
    constant = dataclasses.replace(problem, X=no_values, rows=Rows(no_values))
    solver = "lbfgs" if problem.spec.smooth else "sgd"
    intercept_plan = dataclasses.replace(plan, solver=solver, lam1=0.0, lam2=0.0,
                                         alpha=0.0, tol=INTERCEPT_TOL, n_jobs=n_threads)
    source = PathSource(intercept_plan, constant, n_threads, rows)
    state = TrainingState.start(data.n_models, 1, dtype,
                                make_step_rule(intercept_plan, True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        train(intercept_plan, constant, state, source, 200)
    return state.intercept.copy()


def alpha_grid(data, penalty, l1_ratio, n_alphas, eps, n_threads, train_rows=None):
    """The default grid: ``n_alphas`` alphas spaced evenly on a log scale from
    ``largest_alpha`` down to ``eps`` times it (``eps`` None: ``DEFAULT_EPS_L1``
    with an L1 part, ``DEFAULT_EPS_L2`` without)."""
    top = largest_alpha(data, penalty, l1_ratio, n_threads, train_rows)
    if eps is None:
        eps = DEFAULT_EPS_L1 if strengths(penalty, 1.0, l1_ratio)[0] else DEFAULT_EPS_L2
    return np.geomspace(top, top * eps, num=n_alphas)


def check_alphas(alphas):
    """Given alphas as a 1-D float array sorted in decreasing order; raises
    scikit-learn-style errors for an empty, non-finite or non-positive one."""
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1:
        alphas = np.ravel(alphas)
    if alphas.size == 0:
        raise ValueError("alphas must hold at least one value; got an empty array.")
    if not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
        raise ValueError(f"alphas must be positive finite numbers; got "
                         f"{alphas[~(np.isfinite(alphas) & (alphas > 0))][:3]!r}.")
    return np.sort(alphas)[::-1].copy()


def path_estimator(loss, **params):
    """The template estimator of a path of ``loss``: an ``SGDClassifier`` for a
    classification loss, else an ``SGDRegressor``, solving the whole objective."""
    if loss in CLASSIFICATION_LOSSES and loss not in REGRESSION_LOSSES:
        from fastgd._classifier import SGDClassifier as cls
    else:
        from fastgd._regressor import SGDRegressor as cls
        params.pop("class_weight", None)
        params.pop("multi_class", None)
    return cls(loss=loss, batch_size="full", **params)


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES) | set(REGRESSION_LOSSES))],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "alphas": ["array-like", Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, 1, closed="neither"), None],
        "fit_intercept": ["boolean"],
        "sample_weight": ["array-like", None],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions({"auto", "lbfgs", "newton", "sgd", "nesterov"})],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "multi_class": [StrOptions({"ovr", "multinomial"})],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "return_n_iter": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def sgd_path(X, y, *, loss="squared_error", penalty="l2", l1_ratio=0.15, alphas=100,
             eps=None, fit_intercept=True, sample_weight=None, tol=1e-4,
             max_iter=1000, optimizer="auto", class_weight=None, multi_class="ovr",
             epsilon=0.1, n_jobs=None, return_n_iter=False):
    """The regularization path of a linear model: the optimum at each of a
    decreasing sequence of ``alpha``, each fit warm-started from the one before.

    Each alpha minimises fastgd's objective (``batch_size='full'``)::

        mean_i(s_i * loss(x_i . w + b, y_i)) / mean_i(s_i)
            + alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|^2)

    (``penalty='l1'``: ``l1_ratio=1``; ``'l2'``: ``l1_ratio=0``), to the solver's
    tolerance (the largest entry of the objective's gradient at most ``tol``).  With
    ``loss='squared_error'`` (``(p - y)^2 / 2``) this is scikit-learn's
    ``ElasticNet`` at the same ``alpha`` and ``l1_ratio``; with ``loss='log_loss'``
    and an L2 penalty it is ``LogisticRegression`` at ``C = 1 / (n * alpha)``
    (``n`` the training rows, or the sum of the sample weights).  X is validated and
    the targets encoded once for the whole path.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Targets; class labels for a classification loss (``hinge``, ``log_loss``,
        ``modified_huber``, ``squared_hinge``, ``perceptron``), which fits an
        ``SGDClassifier``'s model rows (the model of ``classes[1]`` for two
        classes, one row per class beyond, sorted labels), else an
        ``SGDRegressor``'s.
    loss : str, default='squared_error'
        The loss, as the estimators take it.
    penalty : {'l2', 'l1', 'elasticnet'}, default='l2'
    l1_ratio : float in [0, 1], default=0.15
        The L1 share of the elastic net (``penalty='elasticnet'`` only).
    alphas : int or array-like of float, default=100
        The alphas (sorted into decreasing order), or how many of them the default
        grid holds: from the smallest alpha that zeroes every weight (an L1 part:
        ``max_j |gradient_j at zero weights and the best intercept| / l1_ratio``,
        scikit-learn's ``enet_path`` rule) or, with an L2 penalty only, from the
        largest curvature of the mean loss, down to ``eps`` times it, evenly spaced
        on a log scale.
    eps : float in (0, 1), default=None
        The smallest alpha of the default grid over its largest; None: ``1e-3``
        with an L1 part (scikit-learn's), ``1e-6`` with an L2 penalty only.
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    tol : float or None, default=1e-4
        Each alpha's fit stops once the largest entry of the objective's gradient
        is at most ``tol`` (None: at the optimum to rounding, or ``max_iter``).
    max_iter : int, default=1000
        Solver iterations at most per alpha.
    optimizer : {'auto', 'lbfgs', 'newton', 'sgd', 'nesterov'}, default='auto'
        The solver of the whole objective (``SGDRegressor``'s ``optimizer`` with
        ``batch_size='full'``); ``'auto'`` picks by the loss, the penalty and X's
        shape.
    class_weight : dict, 'balanced' or None, default=None
        Classification losses only (as ``SGDClassifier``).
    multi_class : {'ovr', 'multinomial'}, default='ovr'
        Classification losses only (as ``SGDClassifier``).
    epsilon : float, default=0.1
        The parameter of ``huber`` and the epsilon-insensitive losses.
    n_jobs : int, default=None
        Threads of the kernels (as the estimators' ``n_jobs``); the path is the
        same at every ``n_jobs``.
    return_n_iter : bool, default=False
        Also return the solver iterations of each alpha.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    coefs : ndarray of shape (n_features, n_alphas) or (n_models, n_features, n_alphas)
        The weights at each alpha, scikit-learn's ``enet_path`` convention: one model
        (regression, two classes) drops the first axis; ``n_models`` is the number
        of classes beyond two.
    intercepts : ndarray of shape (n_alphas,) or (n_models, n_alphas)
    n_iter : ndarray of shape (n_alphas,)
        With ``return_n_iter``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastgd import sgd_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5))
    >>> y = X @ np.array([1.0, 0.5, 0.0, 0.0, -2.0]) + 0.1 * rng.standard_normal(200)
    >>> alphas, coefs, intercepts = sgd_path(X, y, penalty="l1", alphas=5)
    >>> coefs.shape
    (5, 5)
    """
    template = path_estimator(loss, penalty=penalty, l1_ratio=l1_ratio,
                              fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                              optimizer=optimizer, class_weight=class_weight,
                              multi_class=multi_class, epsilon=epsilon, n_jobs=n_jobs)
    n_threads = effective_n_threads(n_jobs)
    if not isinstance(alphas, Integral):
        alphas = check_alphas(alphas)
        template.set_params(alpha=float(alphas[0]))
    with _blas_controller().limit(limits=1, user_api="blas"):
        data = prepare_path(template, X, y, sample_weight)
        if isinstance(alphas, Integral):
            alphas = alpha_grid(data, penalty, l1_ratio, alphas, eps, n_threads)
            data.plan = resolve_for_alpha(data.plan, penalty, l1_ratio, alphas[0])
        result = fit_path(data, penalty, l1_ratio, alphas, n_threads)
    coefs = np.moveaxis(result.coefs, 0, -1)  # (n_models, n_features, n_alphas)
    intercepts = result.intercepts.T
    if data.n_models == 1:
        coefs, intercepts = coefs[0], intercepts[0]
    if return_n_iter:
        return alphas, coefs, intercepts, result.n_iter
    return alphas, coefs, intercepts


def resolve_for_alpha(plan, penalty, l1_ratio, alpha):
    """``plan`` with the penalty at ``alpha``."""
    lam1, lam2 = strengths(penalty, alpha, l1_ratio)
    return dataclasses.replace(plan, alpha=float(alpha), lam1=lam1, lam2=lam2)
