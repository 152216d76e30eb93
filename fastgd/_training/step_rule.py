"""From the estimators' parameters to the kernels' step rule: the penalty's strengths,
the learning-rate schedule (each epoch's eta, the offset of ``'optimal'``, the step of
``'auto'``) and the intercept's step."""
import numpy as np

from fastgd._kernels._enums import Schedule
from fastgd._kernels._losses import LOSS_TYPES
from fastgd._params import LEARNING_RATES, OPTIMIZER_SPECS, SPARSE_INTERCEPT_DECAY
from fastgd._solvers.proximal import batch_lipschitz, penalty_value
from fastgd._kernels._structs import StepRule


def penalty_strengths(estimator):
    """(lam1, lam2): the L1 and L2 strengths of the proximal step."""
    penalty, alpha = estimator.penalty, estimator.alpha
    if penalty is None:
        return 0.0, 0.0
    if penalty == "l2":
        return 0.0, float(alpha)
    if penalty == "l1":
        return float(alpha), 0.0
    return (float(alpha * estimator.l1_ratio),
            float(alpha * (1.0 - estimator.l1_ratio)))


def optimal_t0(loss_function, alpha):
    """Offset of the ``'optimal'`` schedule (Bottou's heuristic, as scikit-learn): the
    first step is the one a typical weight ``1 / sqrt(alpha)`` calls for."""
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    _, d = loss_function.value_and_derivative([-typw], [1.0])
    eta_init = typw / max(1.0, d[0])
    return 1.0 / (eta_init * alpha)


# the largest batch size the per-coordinate methods' 'auto' step grows with
AUTO_STEP_MAX_BATCH = 256


def auto_decay(epoch, max_iter):
    """Factor of ``'auto'``'s first step at ``epoch`` (0-based): 1 for the first half
    of ``max_iter`` epochs, then down linearly, to ``2 / max_iter`` at the last.

    Measured against a constant step and a linear decay from the first epoch
    (ggplot2's txhousing and diamonds, 10 epochs): the constant step leaves the noise
    of the last steps in the model (Adam at batch size 1: R^2 0.859 against 0.874),
    the linear decay halves the distance a large batch travels (batch size 256:
    0.789 against 0.830); least squares reaches 0.878.
    """
    return min(1.0, 2.0 * (1.0 - epoch / max_iter))


def auto_eta(estimator, X, sample_weight, curvature, batch_size, bounded_slope,
             n_rows=None, largest_row=None):
    """The first epoch's step of ``learning_rate='auto'``.

    Plain SGD steps ``1 / L`` with ``L`` the smoothness of the mean loss of a batch
    (``_proximal.batch_lipschitz``, from typical rows for losses of bounded slope;
    non-smooth losses count as curvature 1); momentum
    and Nesterov take ``(1 - momentum) / L``, the step their velocity adds up to.  The
    per-coordinate methods (AdaGrad, RMSProp, Adam) are scale-free: ``base *
    min(batch_size, 256) ** power`` from the optimizer's row of ``_tables.OPTIMIZERS``,
    measured on standardized real regression data (ggplot2's txhousing and diamonds,
    10 epochs, batch sizes 1, 32 and 256).

    Parameters
    ----------
    estimator : SGDRegressor or SGDClassifier
    X : ndarray or sparse matrix
    sample_weight : ndarray or None
    curvature : float
        Bound on the loss's second derivative, times the largest class weight.
    batch_size : int
    bounded_slope : bool
        The loss's derivative is bounded (its table row): typical rows size the step.
    n_rows, largest_row : default=None
        When ``X`` is a sample of the data (a fit on a Dask cluster): the data's rows
        and its largest row (``_proximal.batch_lipschitz``).

    Returns
    -------
    float
    """
    spec = OPTIMIZER_SPECS[estimator.optimizer]
    if spec.auto_step is not None:
        base, power = spec.auto_step
        # measured up to batches of 256 rows; a full batch of many rows would take
        # steps of a size never tried
        return base * min(batch_size, AUTO_STEP_MAX_BATCH) ** power
    L = batch_lipschitz(X, sample_weight, curvature, batch_size,
                        estimator.fit_intercept, typical_rows=bounded_slope,
                        n_rows=n_rows, largest_row=largest_row)
    L += penalty_strengths(estimator)[1]
    damping = (1.0 - estimator.momentum
               if estimator.optimizer in ("momentum", "nesterov") else 1.0)
    return damping / L


def epoch_eta(estimator, epoch, adaptive_eta):
    """eta of an epoch for the schedules that are fixed within an epoch (but
    ``'auto'``, see ``auto_decay``)."""
    e = estimator
    if e.learning_rate == "adaptive":
        return adaptive_eta
    if e.learning_rate == "exponential":
        return e.eta0 * e.decay_rate ** epoch
    if e.learning_rate == "linear":
        frac = min(1.0, epoch / e.max_iter)
        return e.eta0 + (e.eta_min - e.eta0) * frac
    return e.eta0


def intercept_drift(estimator):
    """The gradient of the objective's linear term in the intercept: ``nu`` for
    SGDOneClassSVM (its ``nu * b``), else 0."""
    return float(getattr(estimator, "_intercept_drift", 0.0))


def regularisation(estimator, coef, intercept):
    """What the objective adds to the mean loss at ``(coef, intercept)``: the
    penalty of the weights (``penalty_value``) and the linear term of the intercept
    (``intercept_drift``: SGDOneClassSVM's ``nu * b``)."""
    value = penalty_value(coef, *penalty_strengths(estimator))
    drift = intercept_drift(estimator)
    # no term at all without a drift: 0 * an infinite intercept would be NaN
    return value + drift * float(np.sum(intercept)) if drift else value


def make_step_rule(estimator, sparse, learning_rate):
    """The kernels' ``StepRule`` for the estimator's parameters.

    Parameters
    ----------
    estimator : SGDRegressor or SGDClassifier
    sparse : bool
        Whether X is sparse (the intercept then steps more slowly).
    learning_rate : str
        The schedule (``effective_learning_rate``).

    Returns
    -------
    StepRule
    """
    e = estimator
    lam1, lam2 = penalty_strengths(e)
    schedule = LEARNING_RATES[learning_rate]
    return StepRule(
        schedule=schedule, eta0=e.eta0, power_t=e.power_t, alpha=e.alpha,
        # the offset of 'optimal' is the loss parameter's (log_loss for the softmax)
        t0=(optimal_t0(LOSS_TYPES[e.loss](e.epsilon), e.alpha)
            if schedule == Schedule.OPTIMAL else 0.0),
        lam1=lam1, lam2=lam2,
        average_start=float(e.average) if e.average else 0.0,
        fit_intercept=e.fit_intercept,
        intercept_decay=SPARSE_INTERCEPT_DECAY if sparse else 1.0,
        intercept_drift=intercept_drift(e),
        # a solver of the whole objective takes no kernel steps
        optimizer=e.optimizer if e.optimizer in OPTIMIZER_SPECS else "sgd",
        momentum=e.momentum, beta_1=e.beta_1,
        beta_2=e.beta_2, rho=e.rho, eps=e.eps)
