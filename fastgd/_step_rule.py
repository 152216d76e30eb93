"""From the estimators' parameters to the kernels' step rule: the penalty's strengths,
the learning-rate schedule (each epoch's eta, the offset of ``'optimal'``) and the
intercept's step."""
import numpy as np

from fastgd._enums import Schedule
from fastgd._losses import LOSS_TYPES
from fastgd._params import LEARNING_RATES, SPARSE_INTERCEPT_DECAY
from fastgd._structs import StepRule


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


def epoch_eta(estimator, epoch, adaptive_eta):
    """eta of an epoch for the schedules that are fixed within an epoch."""
    e = estimator
    if e.learning_rate == "adaptive":
        return adaptive_eta
    if e.learning_rate == "exponential":
        return e.eta0 * e.decay_rate ** epoch
    if e.learning_rate == "linear":
        frac = min(1.0, epoch / e.max_iter)
        return e.eta0 + (e.eta_min - e.eta0) * frac
    return e.eta0


def make_step_rule(estimator, sparse):
    """The kernels' ``StepRule`` for the estimator's parameters.

    Parameters
    ----------
    estimator : SGDRegressor or SGDClassifier
    sparse : bool
        Whether X is sparse (the intercept then steps more slowly).

    Returns
    -------
    StepRule
    """
    e = estimator
    lam1, lam2 = penalty_strengths(e)
    schedule = LEARNING_RATES[e.learning_rate]
    return StepRule(
        schedule=schedule, eta0=e.eta0, power_t=e.power_t, alpha=e.alpha,
        # the offset of 'optimal' is the loss parameter's (log_loss for the softmax)
        t0=(optimal_t0(LOSS_TYPES[e.loss](e.epsilon), e.alpha)
            if schedule == Schedule.OPTIMAL else 0.0),
        lam1=lam1, lam2=lam2,
        average_start=float(e.average) if e.average else 0.0,
        fit_intercept=e.fit_intercept,
        intercept_decay=SPARSE_INTERCEPT_DECAY if sparse else 1.0,
        optimizer=e.optimizer, momentum=e.momentum, beta_1=e.beta_1,
        beta_2=e.beta_2, rho=e.rho, eps=e.eps)
