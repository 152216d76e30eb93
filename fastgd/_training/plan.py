"""The plan of a fit: every setting the layers below the estimators act on, resolved
once by the estimator (``fastgd._params.resolve_plan``) into one frozen, picklable
object.

Nothing below the estimators reads an estimator: the training loop, the epoch
factory, the solvers and the tasks on a Dask cluster take a ``Plan`` and the data.
"Which algorithm runs?" has one answer, ``Plan.algorithm`` (with ``Plan.solver`` for a
solver of the whole objective), and the questions that follow from it (does the fit
take a step from the data, does it read X outside the kernels) are answered here.
"""
from dataclasses import dataclass
from typing import Any, Optional

from fastgd._config import effective_n_threads
from fastgd._kernels._losses import LOSS_TYPES
from fastgd._kernels._tables import LOSSES, OPTIMIZERS

LOSS_SPECS = {spec.name: spec for spec in LOSSES}
OPTIMIZER_SPECS = {spec.name: spec for spec in OPTIMIZERS}

# the algorithms: scikit-learn's per-sample SGD, mini-batch SGD with an optimizer, and
# a solver of the whole objective (one iteration per epoch, ``Plan.solver``)
PER_SAMPLE, MINIBATCH, WHOLE_OBJECTIVE = "per_sample", "minibatch", "whole_objective"


@dataclass(frozen=True)
class Plan:
    """What a fit runs, resolved from an estimator's parameters.

    Attributes
    ----------
    estimator_name : str
        The estimator's class name, for scikit-learn's error messages.
    algorithm : {"per_sample", "minibatch", "whole_objective"}
    solver : str or None
        The solver of the whole objective (a key of ``epochs.SOLVERS``); None for
        the SGD algorithms.
    loss : str
        The ``loss`` parameter (its point function and ``'optimal'``'s offset).
    multinomial : bool
        The model rows are one softmax (the loss is the table's ``"multinomial"``).
    epsilon : float
        The loss's parameter (huber, epsilon-insensitive).
    batch_size : int or None
        Rows per step of mini-batch SGD; None for a full batch (every training row).
    optimizer : str
        The ``optimizer`` parameter (the kernels' update rule for SGD).
    momentum, beta_1, beta_2, rho, eps : float
        The optimizers' constants.
    learning_rate : str
        The schedule the fit runs: ``'auto'`` resolved to scikit-learn's default on
        per-sample SGD, else as given (``'auto'`` then takes its step from the data).
    requested_learning_rate : str
        The ``learning_rate`` parameter as given (for messages and ``'adaptive'``).
    eta0, power_t, decay_rate, eta_min, alpha : float
        The schedules' constants (``alpha`` also sets ``'optimal'``).
    lam1, lam2 : float
        The L1 and L2 strengths of the penalty.
    intercept_drift : float
        The gradient of the objective's linear term in the intercept (the One-Class
        SVM's ``nu``; 0 otherwise).
    fit_intercept : bool
    average : int or float
        The step from which SGD averages (0: no averaging).
    shuffle : bool
    shuffle_window : int or "auto"
    max_iter : int
        The ``max_iter`` parameter: the horizon of the ``'linear'`` schedule and of
        ``'auto'``'s decay.
    tol : float or None
    n_iter_no_change : int
    early_stopping : bool
    validation_fraction : float
    random_state : None, int or numpy.random.RandomState
    n_jobs : int or None
        Resolved to threads where the work runs (``n_threads``): a Dask worker has
        its own cores.
    verbose : int
    sgd_warm_start : bool
        A solver of the whole objective starts from the model of one epoch of
        averaged SGD when that model's objective is lower than its own start's
        (``epochs.sgd_warm_start``).
    """

    estimator_name: str
    algorithm: str
    solver: Optional[str]
    loss: str
    multinomial: bool
    epsilon: float
    batch_size: Optional[int]
    optimizer: str
    momentum: float
    beta_1: float
    beta_2: float
    rho: float
    eps: float
    learning_rate: str
    requested_learning_rate: str
    eta0: float
    power_t: float
    decay_rate: float
    eta_min: float
    alpha: float
    lam1: float
    lam2: float
    intercept_drift: float
    fit_intercept: bool
    average: Any
    shuffle: bool
    shuffle_window: Any
    max_iter: int
    tol: Optional[float]
    n_iter_no_change: int
    early_stopping: bool
    validation_fraction: float
    random_state: Any
    n_jobs: Optional[int]
    verbose: int
    sgd_warm_start: bool = False

    @property
    def spec(self):
        """The loss's row of ``_tables.LOSSES`` (the softmax's for a multinomial
        model)."""
        return LOSS_SPECS["multinomial" if self.multinomial else self.loss]

    def loss_function(self):
        """The loss object the kernels are specialised by."""
        return LOSS_TYPES[self.spec.name](self.epsilon)

    @property
    def n_threads(self):
        """``n_jobs`` as threads on the machine that asks."""
        return effective_n_threads(self.n_jobs)

    @property
    def whole_objective(self):
        """The fit runs a solver of the whole objective, one iteration per epoch."""
        return self.algorithm == WHOLE_OBJECTIVE

    @property
    def averaging(self):
        return bool(self.average)

    @property
    def takes_auto_step(self):
        """Whether the fit takes ``learning_rate='auto'``'s step from the data (the
        solvers of the whole objective take theirs from their line searches)."""
        return self.learning_rate == "auto" and not self.whole_objective

    @property
    def curvature_step(self):
        """Whether ``'auto'``'s step comes from a curvature bound of the data (plain
        SGD, momentum, Nesterov), not from the optimizer's table row."""
        return OPTIMIZER_SPECS[self.optimizer].auto_step is None

    @property
    def needs_largest_row(self):
        """Whether ``'auto'``'s step needs the largest row of X (a loss of unbounded
        slope), which costs a pass over X before training on a cluster."""
        return (self.takes_auto_step and self.curvature_step
                and not self.spec.bounded_slope)

    @property
    def reads_x_outside_the_kernels(self):
        """Whether the fit computes with X before (or beside) the training kernels,
        so that X's values must be checked first.

        The kernels check every margin they compute: a NaN or inf in X makes the
        epoch's loss NaN and the loop names the bad input, without a separate pass
        over X.  Three things read X in NumPy instead, where a NaN or inf would leak a
        RuntimeWarning (or a wrong step) before that error: the curvature bound that
        sizes the step of ``learning_rate='auto'`` for plain SGD, momentum and
        Nesterov (``step_rule.auto_eta``), the solvers of the whole objective (their
        curvature bounds and line searches), and the validation rows of early
        stopping (read by the objective alone).
        """
        if self.early_stopping or self.whole_objective:
            return True
        return self.takes_auto_step and self.curvature_step

    def batch_rows(self, n_rows):
        """The rows of one step: ``batch_size``, or all ``n_rows`` for a full
        batch."""
        return n_rows if self.batch_size is None else self.batch_size
