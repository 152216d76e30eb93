"""The estimators' parameters: their constraints (scikit-learn's validation), the
string options read off the tables of ``_tables.py``, and the checks that involve
several parameters."""
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from fastgd._config import MAX_N_JOBS
from fastgd._kernels._enums import Schedule
from fastgd._kernels._tables import LOSSES, OPTIMIZERS

LOSS_SPECS = {spec.name: spec for spec in LOSSES}
REGRESSION_LOSSES = [spec.name for spec in LOSSES if spec.task == "regression"]
# a classifier takes the regression losses too, on targets -1 / +1 (as scikit-learn)
CLASSIFICATION_LOSSES = [spec.name for spec in LOSSES
                         if spec.task == "classification"] + REGRESSION_LOSSES
OPTIMIZER_SPECS = {spec.name: spec for spec in OPTIMIZERS}
# solvers of the whole objective (batch_size='full' only), beside the update rules of
# the kernels' table
FULL_BATCH_OPTIMIZERS = ["lbfgs"]
OPTIMIZER_NAMES = [spec.name for spec in OPTIMIZERS] + FULL_BATCH_OPTIMIZERS

# Learning rates whose eta is fixed within an epoch are computed in Python per epoch
# and passed to the kernel as Schedule.FIXED.
LEARNING_RATES = {
    "auto": Schedule.FIXED,
    "constant": Schedule.FIXED,
    "adaptive": Schedule.FIXED,
    "exponential": Schedule.FIXED,
    "linear": Schedule.FIXED,
    "optimal": Schedule.OPTIMAL,
    "invscaling": Schedule.INVSCALING,
    "pa1": Schedule.PA1,
    "pa2": Schedule.PA2,
}

# Factor of the intercept updates on sparse input (as scikit-learn: the intercept sees
# every sample while a sparse feature sees few, so it moves more slowly).
SPARSE_INTERCEPT_DECAY = 0.01

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
    (``_step_rule.auto_eta``), decayed over ``max_iter`` epochs
    (``_step_rule.auto_decay``).
    """
    if estimator.learning_rate != "auto":
        return estimator.learning_rate
    return estimator._sklearn_learning_rate if is_per_sample(estimator) else "auto"


def check_params(estimator, for_partial_fit, pa_loss):
    """Raise scikit-learn-style errors for combinations of parameters that do not go
    together (each parameter alone is checked by the constraints above).

    Parameters
    ----------
    estimator : SGDRegressor or SGDClassifier
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
        if not loss_spec(e).smooth:
            smooth = [spec.name for spec in LOSSES if spec.smooth
                      and spec.task != "multiclass"]
            raise ValueError(f"optimizer={e.optimizer!r} needs a differentiable "
                             f"loss, one of {smooth}; got loss={e.loss!r}.")
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


def check_cluster_params(estimator):
    """Raise for the settings a fit on Dask collections does not train.

    * ``early_stopping``: its validation rows are drawn from X in memory; on a cluster,
      hold out a validation set and stop with ``partial_fit``.
    * ``batch_size='full'`` with an optimizer that keeps a state per step (momentum,
      AdaGrad, RMSProp, Adam): their full batch is one step per epoch over every
      row, which the chunks' tasks do not take together; plain SGD, Nesterov (FISTA)
      and L-BFGS sum the gradients over the workers.
    """
    e = estimator
    if e.early_stopping:
        raise ValueError("early_stopping=True is not available on Dask collections: "
                         "hold out a validation set and stop on its score with "
                         "partial_fit, or pass early_stopping=False.")
    if e.batch_size == "full" and e.optimizer not in ("sgd", "nesterov", "lbfgs"):
        raise ValueError(f"batch_size='full' with optimizer={e.optimizer!r} is not "
                         f"available on Dask collections: use optimizer='sgd', "
                         f"'nesterov' or 'lbfgs' (their gradients are summed over the "
                         f"workers), or an integer batch_size.")


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
    estimator : SGDRegressor or SGDClassifier

    Returns
    -------
    dict
        ``{check name: reason}``; empty for ``batch_size='full'``, which minimises the
        weighted mean loss exactly.
    """
    if estimator.batch_size == "full":
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_REASON,
            "check_sample_weight_equivalence_on_sparse_data": SAMPLE_WEIGHT_REASON}


def validate_parameters(estimator, for_partial_fit=False):
    """Check every parameter of ``estimator`` and their combinations."""
    estimator._validate_params()
    check_params(estimator, for_partial_fit, estimator._pa_loss)
