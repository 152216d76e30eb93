"""The estimators' parameters: their constraints (scikit-learn's validation), the
string options read off the tables of ``_kernels/_tables.py`` and of the solvers
(``_training.epochs.SOLVERS``), the checks that involve several parameters, and their
resolution into the ``Plan`` of a fit (``resolve_plan``): the one place where
parameters become what the layers below act on."""
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from fastgd._config import MAX_N_JOBS
from fastgd._kernels._tables import LOSSES, OPTIMIZERS
from fastgd._training.curvature import CURVATURE_SAMPLE_ROWS
from fastgd._solvers.newton import cheap_hessian
from fastgd._training.epochs import SOLVERS
from fastgd._training.plan import (
    LOSS_SPECS, MINIBATCH, OPTIMIZER_SPECS, PER_SAMPLE, WHOLE_OBJECTIVE, Plan,
)
from fastgd._training.step_rule import LEARNING_RATES

REGRESSION_LOSSES = [spec.name for spec in LOSSES if spec.task == "regression"]
# a classifier takes the regression losses too, on targets -1 / +1 (as scikit-learn)
CLASSIFICATION_LOSSES = [spec.name for spec in LOSSES
                         if spec.task == "classification"] + REGRESSION_LOSSES
# solvers of the whole objective that are no update rule of the kernels' table: they
# take batch_size='full' only
FULL_BATCH_OPTIMIZERS = [name for name in SOLVERS if name not in OPTIMIZER_SPECS]
# optimizer='auto' picks a solver of the whole objective from the data (batch_size=
# 'full' only): ``auto_solver``
FULL_BATCH_OPTIMIZERS.append("auto")
OPTIMIZER_NAMES = [spec.name for spec in OPTIMIZERS] + FULL_BATCH_OPTIMIZERS

# rows are indexed by int32 in the kernels' visiting orders
MAX_ROWS = 2**31 - 1

COMMON_CONSTRAINTS = {
    "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
    "fit_intercept": ["boolean"],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "shuffle": ["boolean"],
    "verbose": ["verbose"],
    "epsilon": [Interval(Real, 0, None, closed="left")],
    "random_state": ["random_state"],
    "learning_rate": [StrOptions(set(LEARNING_RATES))],
    "eta0": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, None, None, closed="neither")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "warm_start": ["boolean"],
    "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
    "n_jobs": [Interval(Integral, None, -1, closed="right"),
               Interval(Integral, 1, MAX_N_JOBS, closed="both"), None],
    "decay_rate": [Interval(Real, 0, 1, closed="right")],
    "eta_min": [Interval(Real, 0, None, closed="left")],
    "shuffle_window": [Interval(Integral, 1, MAX_ROWS, closed="both"),
                       StrOptions({"auto"})],
    "batch_size": [Interval(Integral, 1, MAX_ROWS, closed="both"),
                   StrOptions({"full"})],
    "optimizer": [StrOptions(set(OPTIMIZER_NAMES))],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "rho": [Interval(Real, 0, 1, closed="left")],
    "eps": [Interval(Real, 0, None, closed="neither")],
}

REGRESSOR_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "loss": [StrOptions(set(REGRESSION_LOSSES))],
}

CLASSIFIER_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "multi_class": [StrOptions({"ovr", "multinomial"})],
}


# the schedules of scikit-learn's SGDOneClassSVM, the only ones it takes
ONE_CLASS_LEARNING_RATES = ["optimal", "constant", "invscaling", "adaptive"]

ONE_CLASS_CONSTRAINTS = {
    "nu": [Interval(Real, 0.0, 1.0, closed="right")],
    **{name: COMMON_CONSTRAINTS[name] for name in (
        "fit_intercept", "max_iter", "tol", "shuffle", "verbose", "random_state",
        "power_t", "warm_start", "average")},
    # scikit-learn's SGDOneClassSVM: its schedules, and eta0 0 unless one uses it
    "learning_rate": [StrOptions(set(ONE_CLASS_LEARNING_RATES))],
    "eta0": [Interval(Real, 0, None, closed="left")],
}


def loss_spec(estimator):
    """The table row of the estimator's loss (the softmax for a multinomial model)."""
    if getattr(estimator, "multi_class", "ovr") == "multinomial":
        return LOSS_SPECS["multinomial"]
    return LOSS_SPECS[estimator.loss]


def penalty_strengths(estimator):
    """(lam1, lam2): the L1 and L2 strengths of the penalty."""
    penalty, alpha = estimator.penalty, estimator.alpha
    if penalty is None:
        return 0.0, 0.0
    if penalty == "l2":
        return 0.0, float(alpha)
    if penalty == "l1":
        return float(alpha), 0.0
    return (float(alpha * estimator.l1_ratio),
            float(alpha * (1.0 - estimator.l1_ratio)))


def is_per_sample(estimator):
    """Whether a setting trains by scikit-learn's algorithm, per-sample SGD: one row
    per step, plain SGD steps, binary or one-vs-rest models."""
    return (estimator.batch_size == 1 and estimator.optimizer == "sgd"
            and getattr(estimator, "multi_class", "ovr") != "multinomial")


def effective_learning_rate(estimator):
    """The schedule a fit runs: ``learning_rate``, with ``'auto'`` resolved.

    ``'auto'`` is scikit-learn's default of the estimator (``'optimal'`` for the
    classifier, ``'invscaling'`` for the regressor) on scikit-learn's algorithm,
    per-sample SGD (``is_per_sample``); for every other algorithm (mini-batch, an
    optimizer, the softmax) it stays ``'auto'``: a step from the data
    (``_training.step_rule.auto_eta``), decayed over ``max_iter`` epochs
    (``_training.step_rule.auto_decay``).
    """
    if estimator.learning_rate != "auto":
        return estimator.learning_rate
    return estimator._sklearn_learning_rate if is_per_sample(estimator) else "auto"


def auto_solver(estimator, shape, stored):
    """The solver ``optimizer='auto'`` picks under ``batch_size='full'``, by the
    loss, the penalty and X's ``shape`` and ``stored`` values.

    * a loss that is not differentiable: proximal subgradient steps (``'sgd'``), the
      one solver that takes them;
    * the softmax: L-BFGS;
    * a Hessian that costs at most ``CHEAP_HESSIAN_PASSES`` passes over X (about
      63 features at most; ``newton.cheap_hessian``: read from every row, never a
      sample) on up to ``CURVATURE_SAMPLE_ROWS`` rows: Newton's method, which
      reaches the optimum in a dozen iterations whatever the scales of the
      features (proximal Newton with an L1 part: exact zeros; L1-logistic,
      make_classification 8000 x 40: 26 iterations and 0.40 s to a subgradient of
      1e-10, where OWL-QN took 1795 and 2.2 s);
    * under the same bound, on more rows: Newton's method for a quadratic loss
      (squared error: its Hessian is read once, and the solver then needs no
      other pass over X, ``sources.QuadraticSums``), and proximal Newton with an
      L1 part on dense X (elastic-net log loss, make_classification 100k x 50:
      0.11 s where OWL-QN took 1.8 s and 122 iterations);
    * otherwise L-BFGS (OWL-QN with an L1 part: exact zeros), preconditioned by
      the columns' moments without one (started from one epoch of averaged SGD
      on more than ``CURVATURE_SAMPLE_ROWS`` rows, when the fit starts from zero
      and that epoch's model is better: ``takes_sgd_warm_start``).  Newton's
      Hessian beyond the bound would come from a sample of rows, which misses the
      curvature of rare features (one-hot categories; nycflights13, 327k rows and
      132 features, standardized: a gap of 1e-5 after 17 iterations, where L-BFGS
      reaches 5e-7 in 26), and on dense data it is no faster (500k x 100: a gap of
      9e-10 in 12 iterations and 0.94 s, L-BFGS 17 and 1.03 s).
    """
    if not loss_spec(estimator).smooth:
        return "sgd"
    if getattr(estimator, "multi_class", "ovr") == "multinomial":
        return "lbfgs"
    n_rows, n_features = shape
    if not cheap_hessian(n_rows, n_features, stored):
        return "lbfgs"
    dense = stored >= n_rows * n_features
    if (n_rows <= CURVATURE_SAMPLE_ROWS or loss_spec(estimator).quadratic
            or (penalty_strengths(estimator)[0] > 0 and dense)):
        return "newton"
    return "lbfgs"


def algorithm(estimator, shape=None, stored=None):
    """(algorithm, solver) of the estimator's parameters: a solver of the whole
    objective for ``batch_size='full'`` with an optimizer of ``SOLVERS`` (or
    ``'auto'``, picked for X's ``shape`` and ``stored`` values: ``auto_solver``),
    else per-sample SGD (``is_per_sample``) or mini-batch SGD."""
    if estimator.batch_size == "full" and estimator.optimizer == "auto":
        return WHOLE_OBJECTIVE, (None if shape is None
                                 else auto_solver(estimator, shape, stored))
    if estimator.batch_size == "full" and estimator.optimizer in SOLVERS:
        return WHOLE_OBJECTIVE, estimator.optimizer
    return (PER_SAMPLE if is_per_sample(estimator) else MINIBATCH), None


def resolve_plan(estimator, intercept_drift=0.0, shape=None, stored=None,
                 fresh_start=False):
    """The ``Plan`` of a fit of ``estimator``, whose parameters were validated.

    Parameters
    ----------
    estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
    intercept_drift : float, default=0.0
        The gradient of the objective's linear term in the intercept
        (SGDOneClassSVM's ``nu``).
    shape : (int, int), default=None
        X's shape: ``optimizer='auto'`` picks its solver for it (without it, the
        plan's solver is None).
    stored : int, default=None
        The values X stores (``n_rows * n_features`` when dense).
    fresh_start : bool, default=False
        The fit starts from zero (no ``partial_fit`` continuation, no warm start,
        no ``coef_init``): ``optimizer='auto'``'s L-BFGS on more than
        ``CURVATURE_SAMPLE_ROWS`` rows then starts from a pass of averaged SGD
        (``sgd_warm_start``).

    Returns
    -------
    Plan
    """
    e = estimator
    kind, solver = algorithm(e, shape, stored)
    lam1, lam2 = penalty_strengths(e)
    return Plan(
        estimator_name=type(e).__name__, algorithm=kind, solver=solver, loss=e.loss,
        multinomial=getattr(e, "multi_class", "ovr") == "multinomial",
        epsilon=e.epsilon,
        batch_size=None if e.batch_size == "full" else e.batch_size,
        optimizer=e.optimizer, momentum=e.momentum, beta_1=e.beta_1, beta_2=e.beta_2,
        rho=e.rho, eps=e.eps, learning_rate=effective_learning_rate(e),
        requested_learning_rate=e.learning_rate, eta0=e.eta0, power_t=e.power_t,
        decay_rate=e.decay_rate, eta_min=e.eta_min, alpha=e.alpha, lam1=lam1,
        lam2=lam2, intercept_drift=float(intercept_drift),
        fit_intercept=e.fit_intercept, average=e.average, shuffle=e.shuffle,
        shuffle_window=e.shuffle_window, max_iter=e.max_iter, tol=e.tol,
        n_iter_no_change=e.n_iter_no_change, early_stopping=e.early_stopping,
        validation_fraction=e.validation_fraction, random_state=e.random_state,
        n_jobs=e.n_jobs, verbose=e.verbose,
        sgd_warm_start=takes_sgd_warm_start(e, solver, shape, stored, fresh_start))


def takes_sgd_warm_start(estimator, solver, shape, stored, fresh_start):
    """Whether ``optimizer='auto'``'s L-BFGS starts from one epoch of averaged SGD
    (``_training.epochs.sgd_warm_start``): on a fit from zero of more than
    ``CURVATURE_SAMPLE_ROWS`` rows, one model row per class, a penalty without an
    L1 part.

    Measured with L-BFGS preconditioned by the columns' moments (passes over X,
    the epoch and the evaluations; L2-logistic):

    * sparse 400k x 50k (the epoch on scikit-learn's "optimal" schedule there,
      see ``epochs.WARM_START_ETA0``): 9.6e-6 after 8 iterations (14 passes),
      where L-BFGS from zero was at 2.2e-4 after 10, and to 1e-6 about 22
      iterations against 40;
    * dense Gaussian 500k x 100: 1e-8 in 13 passes, from zero 7e-10 in 18 and
      2.5e-2 after 9; a gap of 1.2e-2 after one iteration (6 passes);
    * nycflights13, 327k x 132 standardized with one-hot categories: 3.3e-5 in 22
      passes, from zero 2.3e-4 in 17 and 5.6e-7 in 26; 1.7e-6 in 30.

    Not with an L1 part: OWL-QN from the epoch's model, which has no zeros, was
    3.5x slower to 1e-2 than from zero (L1-logistic, Gaussian 200k x 500: 1.25 s
    against 0.36 s).
    """
    e = estimator
    return bool(fresh_start and e.optimizer == "auto" and solver == "lbfgs"
                and shape is not None and shape[0] > CURVATURE_SAMPLE_ROWS
                and getattr(e, "multi_class", "ovr") != "multinomial"
                and penalty_strengths(e)[0] == 0)


def validate_parameters(estimator, for_partial_fit=False):
    """Check every parameter of ``estimator`` (scikit-learn's constraints) and their
    combinations (``check_params``); raises scikit-learn-style errors.

    Parameters
    ----------
    estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
    for_partial_fit : bool, default=False
    """
    estimator._validate_params()
    check_params(estimator, for_partial_fit, estimator._pa_loss)


def check_params(estimator, for_partial_fit, pa_loss):
    """Raise scikit-learn-style errors for combinations of parameters that do not go
    together (each parameter alone is checked by the constraints above).

    Parameters
    ----------
    estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
    for_partial_fit : bool
    pa_loss : str
        The loss the passive-aggressive rules need (hinge or epsilon_insensitive).
    """
    e = estimator
    if e.early_stopping and for_partial_fit:
        raise ValueError("early_stopping should be False with partial_fit")
    if effective_learning_rate(e) == "optimal" and e.alpha == 0:
        raise ValueError("alpha must be > 0 since learning_rate is 'optimal'. "
                         "alpha is used to compute the optimal learning rate.")
    if e.learning_rate in ("pa1", "pa2") and e.loss != pa_loss:
        raise ValueError(f"Learning rate {e.learning_rate!r} only works with "
                         f"loss {pa_loss!r}; got loss={e.loss!r}.")
    if e.penalty == "elasticnet" and e.l1_ratio is None:
        raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
    if e.batch_size != 1 and e.learning_rate in ("pa1", "pa2"):
        raise ValueError(f"learning_rate={e.learning_rate!r} is a per-sample rule;"
                         f" it needs batch_size=1, got batch_size={e.batch_size!r}.")
    if e.batch_size != 1 and e.average:
        raise ValueError("average (averaged SGD) needs batch_size=1; got "
                         f"batch_size={e.batch_size!r}.")
    if e.optimizer in FULL_BATCH_OPTIMIZERS:
        if e.batch_size != "full":
            raise ValueError(f"optimizer={e.optimizer!r} solves the whole objective: "
                             f"it needs batch_size='full', got "
                             f"batch_size={e.batch_size!r}.")
        if e.optimizer != "auto":  # auto_solver picks one that takes the setting
            _check_solver(e, SOLVERS[e.optimizer])
    if e.optimizer != "sgd":
        if e.average:
            raise ValueError("average (averaged SGD) needs optimizer='sgd'; got "
                             f"optimizer={e.optimizer!r}.")
        if e.learning_rate in ("pa1", "pa2"):
            raise ValueError(f"learning_rate={e.learning_rate!r} needs "
                             f"optimizer='sgd'; got optimizer={e.optimizer!r}.")
    if getattr(e, "multi_class", "ovr") == "multinomial":
        if e.loss != "log_loss":
            raise ValueError("multi_class='multinomial' needs loss='log_loss'; got "
                             f"loss={e.loss!r}.")
        if e.average:
            raise ValueError("average (averaged SGD) is not available with "
                             "multi_class='multinomial'.")
        if e.learning_rate in ("pa1", "pa2"):
            raise ValueError(f"learning_rate={e.learning_rate!r} is not "
                             "available with multi_class='multinomial'.")


def _check_solver(estimator, solver):
    """Raise for a loss or a penalty the solver of the whole objective does not
    take."""
    e = estimator
    if solver.smooth_loss_only and not loss_spec(e).smooth:
        smooth = [spec.name for spec in LOSSES if spec.smooth
                  and spec.task != "multiclass"]
        raise ValueError(f"optimizer={e.optimizer!r} needs a differentiable "
                         f"loss, one of {smooth}; got loss={e.loss!r}.")
    if solver.scalar_loss_only and getattr(e, "multi_class", "ovr") == "multinomial":
        raise ValueError(f"optimizer={e.optimizer!r} is not available with "
                         f"multi_class='multinomial': use optimizer='lbfgs'.")


def check_cluster_params(estimator):
    """Raise for the settings a fit on Dask collections does not train.

    * ``early_stopping`` with ``batch_size='full'``: the solvers of the whole
      objective stop on the gradient's tolerance (``tol``); early stopping on a
      cluster holds validation rows out of each chunk for SGD
      (``_dask.holdout``).
    * ``batch_size='full'`` with an optimizer that keeps a state per step (momentum,
      AdaGrad, RMSProp, Adam): their full batch is one step per epoch over every
      row, which the chunks' tasks do not take together; the solvers of the whole
      objective (``SOLVERS``: proximal gradient, FISTA, L-BFGS) sum the gradients
      over the workers.
    """
    e = estimator
    if e.early_stopping and e.batch_size == "full":
        raise ValueError("early_stopping=True with batch_size='full' is not "
                         "available on Dask collections: the solvers of the whole "
                         "objective stop once the gradient is within tol; pass "
                         "early_stopping=False, or an integer batch_size.")
    if e.batch_size == "full" and e.optimizer not in SOLVERS and e.optimizer != "auto":
        names = [repr(name) for name in SOLVERS]
        raise ValueError(f"batch_size='full' with optimizer={e.optimizer!r} is not "
                         f"available on Dask collections: use optimizer="
                         f"{', '.join(names[:-1])} or {names[-1]} (their gradients "
                         f"are summed over the workers), or an integer batch_size.")


SAMPLE_WEIGHT_REASON = ("SGD takes one step per row (or per batch of rows): a row of "
                        "weight 2 is not two steps, so weights are not equivalent to "
                        "repetitions (scikit-learn's SGD estimators fail this check "
                        "too); batch_size='full' passes it")


def expected_failed_checks(estimator):
    """The scikit-learn estimator checks ``estimator`` is known to fail, with why: pass
    them to ``sklearn.utils.estimator_checks.check_estimator(estimator,
    expected_failed_checks=...)`` or ``parametrize_with_checks``, as scikit-learn
    declares the same two for its own SGD estimators.

    Parameters
    ----------
    estimator : SGDRegressor, SGDClassifier, SGDOneClassSVM, SGDClassifierCV or
        SGDRegressorCV

    Returns
    -------
    dict
        ``{check name: reason}``; empty for ``batch_size='full'``, which minimises the
        weighted mean loss exactly.  The CV estimators say their own
        (``_expected_failed_checks``).
    """
    own = getattr(estimator, "_expected_failed_checks", None)
    if own is not None:
        return own()
    if estimator.batch_size == "full":
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_REASON,
            "check_sample_weight_equivalence_on_sparse_data": SAMPLE_WEIGHT_REASON}

