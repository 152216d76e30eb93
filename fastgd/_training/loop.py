"""The epoch loop of a fit: the stopping rules, early stopping, the step of
``learning_rate='auto'`` and its restarts, divergence, verbose output.

The path of one fit: the estimator resolves its parameters into a ``Plan``, validates
its input into a ``Problem`` and a ``TrainingState``, and calls ``train`` with a source
of the data (``sources.InMemory``, or ``fastgd._dask.source.OnCluster``).  ``train``
builds the epochs of the plan's algorithm (``epochs.make_epochs``), runs them until a
stopping rule fires, and hands back the ``Result``; the estimator sets its attributes
from it.  A NaN or infinity in X is found by the kernels as they read it, or checked
before the first epoch where NumPy reads X before them
(``Plan.reads_x_outside_the_kernels``), so that the only thing the user sees is
scikit-learn's error.  A run whose weights or objective blow up stops with an error
(``learning_rate='auto'`` first starts again with smaller steps); a trained model
worse than the constant one gets a warning (``diagnosis``).
"""
import functools
import time

import numpy as np
from sklearn.utils import check_random_state
from threadpoolctl import ThreadpoolController

from fastgd._kernels import _evaluate
from fastgd._kernels._enums import Schedule
from fastgd._training.diagnosis import (
    DIVERGED_GROWTH, WORSE_THAN_CONSTANT, divergence_error, warn_worse_than_constant,
)
from fastgd._training.epochs import make_epochs
from fastgd._training.objective import constant_objective, regularisation
from fastgd._training.problem import Result
from fastgd._training.step_rule import LEARNING_RATES, auto_decay, auto_eta, epoch_eta

# learning_rate='auto' starts again this many times, each time with its step times
# AUTO_BACKOFF, when its steps diverge, before the fit fails
AUTO_RETRIES = 3
AUTO_BACKOFF = 0.25


class StoppingRule:
    """scikit-learn's stopping rule: stop when the criterion (lower is better) has not
    improved by ``tol`` for ``n_iter_no_change`` epochs; with the adaptive learning
    rate, divide eta by 5 instead, until it falls below 1e-6."""

    def __init__(self, tol, n_iter_no_change, adaptive, eta):
        self.tol = -np.inf if tol is None else tol
        self.n_iter_no_change = n_iter_no_change
        self.adaptive = adaptive
        self.eta = eta
        self.best = np.inf
        self.no_improvement = 0

    def should_stop(self, criterion):
        self.no_improvement = (self.no_improvement + 1
                               if criterion > self.best - self.tol else 0)
        self.best = min(self.best, criterion)
        if self.no_improvement < self.n_iter_no_change:
            return False
        if self.adaptive and self.eta > 1e-6:
            self.eta /= 5.0
            self.no_improvement = 0
            return False
        return True


def train(plan, problem, state, source, max_iter, partial=False, loss_curve=(),
          curvature=None):
    """Run up to ``max_iter`` epochs of the plan's algorithm on ``problem`` from
    ``state`` (updated in place), the data read through ``source``.

    The BLAS (NumPy's small vector operations between the kernels, the power
    iterations of the curvature estimates) runs on one thread meanwhile: its idle
    threads would spin on the cores the kernels' threads need.

    Parameters
    ----------
    plan : Plan
    problem : Problem
    state : TrainingState
    source : InMemory or OnCluster
    max_iter : int
        Epochs at most.
    partial : bool, default=False
        A call of ``partial_fit``: ``'auto'``'s step does not decay.
    loss_curve : sequence of float, default=()
        The curve the new epochs are appended to (``partial_fit``'s earlier calls).
    curvature : CurvatureMemory or None, default=None
        What L-BFGS learnt of the loss in an earlier fit on the same rows, and keeps
        for the next (``make_epochs``): a regularization path's.

    Returns
    -------
    Result
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        if plan.reads_x_outside_the_kernels:
            source.check_finite()
        epochs, order = make_epochs(plan, problem, state, source, curvature)
        if plan.takes_auto_step and state.auto_eta is None:
            state.auto_eta = auto_eta(
                plan, problem.X, problem.sample_weight, problem.curvature,
                plan.batch_rows(source.n_rows), n_rows=source.population_rows,
                largest_row=source.largest_row)
        # a solver of the whole objective never increases its objective (line search);
        # the others are checked against the constant model
        constant = (None if plan.whole_objective else
                    constant_objective(problem, source.objective_rows, source.n_threads))
        loop = EpochLoop(plan, problem, state, source, source.watch(epochs), order,
                         constant)
        return loop.run(max_iter, partial, loss_curve)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the loaded libraries, found once (a scan of the
    process's libraries costs a few milliseconds, a tenth of an epoch on 500k x 100)."""
    return ThreadpoolController()


class _Diverged(Exception):
    """An epoch's weights or objective stopped being finite, or its objective grew
    far (``grew``: the objective and its yardstick)."""

    def __init__(self, epoch, grew=None):
        super().__init__(epoch)
        self.epoch, self.grew = epoch, grew


class EpochLoop:
    """The epochs of a fit, from its first epoch to a stopping rule, started again
    with a smaller step when ``'auto'``'s steps diverge.

    Parameters
    ----------
    plan, problem, state, source
        As in ``train``.
    epochs : callable
        ``eta -> objective``, with ``converged``.
    order
        The visiting order (``reshuffle(seed)``).
    constant : float or None
        The constant model's objective: the yardstick of the growth check.
    """

    def __init__(self, plan, problem, state, source, epochs, order, constant):
        self.plan, self.problem, self.state, self.source = plan, problem, state, source
        self.epochs, self.order, self.constant = epochs, order, constant

    def eta(self, epoch, first_epoch, max_iter, partial, stopping):
        """The step of ``epoch`` (0-based, of this call) for the schedules fixed
        within an epoch (the others are the kernels')."""
        plan = self.plan
        if plan.takes_auto_step:
            # partial_fit keeps the step: its calls have no horizon to decay over
            return self.state.auto_eta * (1.0 if partial
                                          else auto_decay(epoch, max_iter))
        if LEARNING_RATES[plan.learning_rate] == Schedule.FIXED:
            return epoch_eta(plan, first_epoch + epoch, stopping.eta)
        return plan.eta0

    def run(self, max_iter, partial, loss_curve):
        """Run up to ``max_iter`` epochs over the order (its ``reshuffle(seed)`` draws
        each epoch's), again with ``'auto'``'s step cut when they diverge; warn when
        the model is worse than the constant model.  Returns the ``Result``."""
        plan, problem, state = self.plan, self.problem, self.state
        seed = int(check_random_state(plan.random_state).randint(
            np.iinfo(np.int32).max))
        first_epoch = state.epochs_done
        start = state.copy() if plan.takes_auto_step else None
        for attempt in range(AUTO_RETRIES + 1):
            try:
                result, objective = self.epochs_from(seed, first_epoch, max_iter,
                                                     partial, loss_curve)
                break
            except _Diverged as diverged:
                if not plan.takes_auto_step or attempt == AUTO_RETRIES:
                    raise divergence_error(plan, diverged.epoch, problem,
                                           grew=diverged.grew,
                                           auto_eta=state.auto_eta) from None
                # 'auto' took too large a step for this data: start again, smaller
                state.restore(start)
                state.auto_eta = start.auto_eta * AUTO_BACKOFF ** (attempt + 1)
                if plan.verbose:
                    print(f"Diverged at epoch {diverged.epoch}: starting again with "
                          f"learning_rate='auto' at {state.auto_eta:.3g}")
        state.epochs_done = first_epoch + result.n_iter
        result.converged = bool(self.epochs.converged)
        result.passes = int(self.epochs.passes)
        self.check_against_constant(objective)
        return result

    def check_against_constant(self, objective):
        """Warn when the trained model's objective is over ``WORSE_THAN_CONSTANT``
        times the constant model's (the last epoch's objective first, then the
        model's own on the training rows)."""
        constant = self.constant
        if not constant or objective <= WORSE_THAN_CONSTANT * constant:
            return
        # the epoch's objective is met along the way; the model's own decides (the
        # perceptron's constant model has loss 0: nothing to compare with)
        p, rows = self.problem, self.source.objective_rows
        coef, intercept = self.state.model(self.plan.averaging)
        objective = (_evaluate.loss_sum(p.loss, p.rows, p.targets, rows, coef,
                                        intercept, self.source.n_threads)
                     / len(rows) + regularisation(self.plan, coef, intercept))
        if objective > WORSE_THAN_CONSTANT * constant:
            warn_worse_than_constant(self.plan, objective, constant)

    def epochs_from(self, seed, first_epoch, max_iter, partial, loss_curve):
        """One try of the epochs: (Result, last objective); raises ``_Diverged``."""
        plan, state = self.plan, self.state
        stopping = StoppingRule(plan.tol, plan.n_iter_no_change,
                                adaptive=plan.requested_learning_rate == "adaptive",
                                eta=plan.eta0)
        result = Result(state=state, n_iter=0, loss_curve=list(loss_curve))
        yardstick = objective = None
        started = time.perf_counter()
        for epoch in range(max_iter):
            self.order.reshuffle(seed + epoch)
            objective = self.epochs(self.eta(epoch, first_epoch, max_iter, partial,
                                             stopping))
            result.n_iter = epoch + 1
            if not (np.isfinite(objective) and state.finite()):
                self.source.check_finite()  # bad input, or else divergence
                raise _Diverged(result.n_iter)
            if self.constant:  # the perceptron's constant model has loss 0
                yardstick = (max(self.constant, objective) if yardstick is None
                             else yardstick)
                if objective > DIVERGED_GROWTH * yardstick:
                    raise _Diverged(result.n_iter, grew=(objective, yardstick))
            result.loss_curve.append(float(objective))
            criterion = objective
            if plan.early_stopping:
                criterion = self.validation_loss()
                result.validation_loss_curve.append(float(criterion))
            if plan.verbose:
                self.report(result, objective, criterion, started)
            if self.epochs.converged or (not self.epochs.own_stopping_rule
                                         and stopping.should_stop(criterion)):
                if plan.verbose:
                    print(f"Convergence after {result.n_iter} epochs")
                break
        return result, objective

    def validation_loss(self):
        """The mean loss of the current model on the validation rows (the
        source's)."""
        return self.source.validation_loss(*self.state.model(self.plan.averaging))

    def report(self, result, objective, criterion, started):
        """scikit-learn's verbose lines, with the objective (the mean loss plus the
        penalty) and the held-out loss beside its average loss."""
        state = self.state
        penalty = regularisation(self.plan, state.coef, state.intercept)
        print(f"-- Epoch {result.n_iter}\nNorm: {np.linalg.norm(state.coef):.2f}, "
              f"NNZs: {np.count_nonzero(state.coef)}, "
              f"Bias: {state.intercept[0]:.6f}, T: {int(state.t) - 1}, "
              f"Avg. loss: {objective - penalty:.6f}, Objective: {objective:.6f}"
              + (f", Validation loss: {criterion:.6f}" if self.plan.early_stopping
                 else "")
              + f"\nTotal training time: {time.perf_counter() - started:.2f} "
              f"seconds.")
