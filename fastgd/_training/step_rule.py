"""From the plan to the kernels' step rule: the learning-rate schedule (each epoch's
eta, the offset of ``'optimal'``, the step of ``'auto'``) and the intercept's step."""
import numpy as np

from fastgd._kernels._enums import Schedule
from fastgd._kernels._losses import LOSS_TYPES
from fastgd._kernels._structs import StepRule
from fastgd._training.curvature import batch_lipschitz
from fastgd._training.plan import OPTIMIZER_SPECS

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


def auto_eta(plan, X, sample_weight, curvature, batch_size, n_rows=None,
             largest_row=None):
    """The first epoch's step of ``learning_rate='auto'``.

    Plain SGD steps ``1 / L`` with ``L`` the smoothness of the mean loss of a batch
    (``curvature.batch_lipschitz``, from typical rows for losses of bounded slope;
    non-smooth losses count as curvature 1); momentum
    and Nesterov take ``(1 - momentum) / L``, the step their velocity adds up to.  The
    per-coordinate methods (AdaGrad, RMSProp, Adam) are scale-free: ``base *
    min(batch_size, 256) ** power`` from the optimizer's row of ``_tables.OPTIMIZERS``,
    measured on standardized real regression data (ggplot2's txhousing and diamonds,
    10 epochs, batch sizes 1, 32 and 256).

    Parameters
    ----------
    plan : Plan
        The optimizer, its momentum, the penalty; a loss of bounded derivative (its
        table row) sizes the step for typical rows.
    X : ndarray or sparse matrix
    sample_weight : ndarray or None
    curvature : float
        Bound on the loss's second derivative, times the largest class weight.
    batch_size : int
    n_rows, largest_row : default=None
        When ``X`` is a sample of the data (a fit on a Dask cluster): the data's rows
        and its largest row (``curvature.batch_lipschitz``).

    Returns
    -------
    float
    """
    spec = OPTIMIZER_SPECS[plan.optimizer]
    if spec.auto_step is not None:
        base, power = spec.auto_step
        # measured up to batches of 256 rows; a full batch of many rows would take
        # steps of a size never tried
        return base * min(batch_size, AUTO_STEP_MAX_BATCH) ** power
    L = batch_lipschitz(X, sample_weight, curvature, batch_size, plan.fit_intercept,
                        typical_rows=plan.spec.bounded_slope, n_rows=n_rows,
                        largest_row=largest_row)
    L += plan.lam2
    damping = (1.0 - plan.momentum if plan.optimizer in ("momentum", "nesterov")
               else 1.0)
    return damping / L


def epoch_eta(plan, epoch, adaptive_eta):
    """eta of an epoch for the schedules that are fixed within an epoch (but
    ``'auto'``, see ``auto_decay``)."""
    p = plan
    if p.learning_rate == "adaptive":
        return adaptive_eta
    if p.learning_rate == "exponential":
        return p.eta0 * p.decay_rate ** epoch
    if p.learning_rate == "linear":
        frac = min(1.0, epoch / p.max_iter)
        return p.eta0 + (p.eta_min - p.eta0) * frac
    return p.eta0


def make_step_rule(plan, sparse):
    """The kernels' ``StepRule`` of the plan.

    Parameters
    ----------
    plan : Plan
    sparse : bool
        Whether X is sparse (the intercept then steps more slowly).

    Returns
    -------
    StepRule
    """
    p = plan
    schedule = LEARNING_RATES[p.learning_rate]
    return StepRule(
        schedule=schedule, eta0=p.eta0, power_t=p.power_t, alpha=p.alpha,
        # the offset of 'optimal' is the loss parameter's (log_loss for the softmax)
        t0=(optimal_t0(LOSS_TYPES[p.loss](p.epsilon), p.alpha)
            if schedule == Schedule.OPTIMAL else 0.0),
        lam1=p.lam1, lam2=p.lam2,
        average_start=float(p.average) if p.average else 0.0,
        fit_intercept=p.fit_intercept,
        intercept_decay=SPARSE_INTERCEPT_DECAY if sparse else 1.0,
        intercept_drift=p.intercept_drift,
        # a solver of the whole objective takes no kernel steps
        optimizer=p.optimizer if p.optimizer in OPTIMIZER_SPECS else "sgd",
        momentum=p.momentum, beta_1=p.beta_1, beta_2=p.beta_2, rho=p.rho, eps=p.eps)
