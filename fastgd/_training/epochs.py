"""The epoch factory: the epochs of every algorithm, on one machine and on a Dask
cluster, built in one place (``make_epochs``).

An epoch is a callable ``eta -> objective`` with a ``converged`` flag, which the loop
(``loop.run_epochs``) calls once per epoch.  What the factory needs from the data comes
from a *source* (``sources.InMemory``, or ``fastgd._dask.source.OnCluster``): where the
sums of loss and gradient come from, and the SGD epochs over its rows (a runner over a
visiting order in memory, the chunks one after the other on a cluster).  Everything
else (the solver of the whole objective, its objective and penalty, the curvature
bounds that start its steps) is decided here, from the plan, the same way for both.

Adding a solver of the whole objective: its module under ``fastgd._solvers`` (a class
with ``of(objective, w0, b0)``, ``step()``, ``optimality()`` and ``w``, ``b``, ``f``,
``F``), and its line in ``SOLVERS``: the estimators then take its name as ``optimizer`` with
``batch_size='full'``, on one machine and on Dask collections.
"""
import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
from sklearn.utils import check_random_state

from fastgd._solvers.newton import Newton
from fastgd._solvers.proximal_newton import ProximalNewton
from fastgd._solvers.objective import Objective
from fastgd._solvers.proximal import ProximalGradient
from fastgd._solvers.quasi_newton import QuasiNewton
from fastgd._training.curvature import block_lipschitz
from fastgd._training.objective import regularisation
from fastgd._training.plan import PER_SAMPLE
from fastgd._training.state import TrainingState
from fastgd._training.step_rule import make_step_rule

# the step of the averaged-SGD epoch that warm-starts a solver on dense X
# (invscaling, power 0.5): the setting that reaches a gap of 1e-2 in one or two
# epochs on features of unit scale (the README's "Which settings").  On sparse X
# the epoch takes scikit-learn's "optimal" schedule instead, whose larger late
# steps reach the rare columns: L2-logistic on perf.py's sparse 400k x 50k, one
# L-BFGS iteration after the epoch left a gap of 6.3e-3 (invscaling: 6.8e-2) and
# eight 9.6e-6 (7.2e-5); on the dense problems of tta_peers.py "optimal" left a
# model worse than zero (gaps of 0.87 and 0.41 after one iteration: not kept)
WARM_START_ETA0 = 1.0


@dataclass(frozen=True)
class Solver:
    """A solver of the whole objective as the factory builds it.

    Attributes
    ----------
    build : callable
        ``(Objective, w0, b0) -> solver``.
    smooth_loss_only : bool
        The solver needs a differentiable loss.
    scalar_loss_only : bool
        The solver takes no softmax (its Hessian is per model row).
    keeps_curvature : bool
        ``build`` takes a ``curvature=`` memory that carries what it learnt of the
        loss from one solve to the next (``quasi_newton.CurvatureMemory``).
    """

    build: Callable
    smooth_loss_only: bool = False
    scalar_loss_only: bool = False
    keeps_curvature: bool = False


def newton_of(objective, w0, b0, curvature=None):
    """Newton's method of an ``Objective``: proximal Newton (coordinate descent on
    the quadratic model) with an L1 part in the penalty, else the Newton system;
    the last Hessian carried in ``curvature`` from one solve to the next."""
    if objective.lam1:
        return ProximalNewton.of(objective, w0, b0, curvature)
    return Newton.of(objective, w0, b0, curvature)


# the solvers of the whole objective, by the ``optimizer`` that picks them under
# batch_size='full': proximal gradient (ISTA), its accelerated form (FISTA), L-BFGS /
# OWL-QN, Newton's method (proximal Newton with an L1 part)
SOLVERS = {
    "sgd": Solver(partial(ProximalGradient.of, accelerated=False)),
    "nesterov": Solver(partial(ProximalGradient.of, accelerated=True)),
    "lbfgs": Solver(QuasiNewton.of, smooth_loss_only=True, keeps_curvature=True),
    "newton": Solver(newton_of, smooth_loss_only=True, scalar_loss_only=True,
                     keeps_curvature=True),
}


class NoOrder:
    """The visiting order of the solvers of the whole objective: none."""

    def reshuffle(self, seed):
        pass


def make_epochs(plan, problem, state, source, curvature=None):
    """The epoch callable of ``plan.algorithm`` (``eta -> objective``) and the visiting
    order it reshuffles each epoch (``reshuffle(seed)``).

    Parameters
    ----------
    plan : Plan
    problem : Problem
        The data in memory: all of it, or the sample of rows a cluster fit keeps
        (the curvature bounds are computed on it).
    state : TrainingState
        Trained in place.
    source : InMemory or OnCluster
        Where the sums and the SGD epochs come from.
    curvature : CurvatureMemory or None
        What a solver of the whole objective that keeps it (L-BFGS) learnt of the
        loss in an earlier solve on the same rows, and keeps for the next (a
        regularization path); None: nothing carried.

    Returns
    -------
    (epochs, order)
    """
    if not plan.whole_objective:
        return source.sgd_epochs(plan, state)
    loss_and_gradient = LastEvaluation(source.loss_and_gradient(),
                                       source.loss_gradient_and_moments())
    warm_start_passes = 0
    if plan.sgd_warm_start:
        sgd_warm_start(plan, problem, state, source, loss_and_gradient)
        warm_start_passes = 1  # its epoch (its evaluations are counted below)
    X, sample_weight, sample_total = source.curvature_sample
    epochs = FullBatchEpochs(
        SOLVERS[plan.solver], plan,
        lambda: block_lipschitz(X, sample_weight, problem.curvature, sample_total),
        source, loss_and_gradient, state, curvature)
    epochs.extra_passes = warm_start_passes
    return epochs, NoOrder()


class LastEvaluation:
    """``loss_and_gradient`` that keeps its last result: asked again at the same
    model (the warm start's comparison, then the solver's first evaluation at the
    model it kept), it answers without another pass over X.  ``moments`` gives the
    weighted second moments of X's columns, computed once, in the pass of an
    evaluation.

    Parameters
    ----------
    loss_and_gradient : callable
        ``(coef, intercept) -> (loss sum, gradient, intercept gradient)``.
    with_moments : callable
        ``(coef, intercept) -> (loss sum, gradient, intercept gradient, moments)``
        from one pass (``InMemory.loss_gradient_and_moments``; the softmax's
        moments take a pass of their own, its ``extra_passes``).
    """

    def __init__(self, loss_and_gradient, with_moments):
        self.loss_and_gradient, self.with_moments = loss_and_gradient, with_moments
        self.key = self.value = self.known_moments = None
        self.passes = 0  # the evaluations that read X

    def __call__(self, coef, intercept):
        key = self._key(coef, intercept)
        if key != self.key:
            self.key, self.value = key, self.loss_and_gradient(coef, intercept)
            # a quadratic loss's sums may come without a pass (QuadraticSums)
            self.passes += getattr(self.loss_and_gradient, "last_read_x", True)
        return self.value

    def moments(self, coef, intercept):
        """The weighted second moments of X's columns (one row per model row, the
        weights' sum last), from the pass that evaluates ``(coef, intercept)`` when
        they are not known yet (its sums are kept)."""
        if self.known_moments is None:
            *sums, self.known_moments = self.with_moments(coef, intercept)
            self.key, self.value = self._key(coef, intercept), tuple(sums)
            # the softmax's moments take a pass of their own
            self.passes += 1 + getattr(self.with_moments, "extra_passes", 0)
        return self.known_moments

    @staticmethod
    def _key(coef, intercept):
        return (np.ascontiguousarray(coef).tobytes(),
                np.ascontiguousarray(intercept, np.float64).tobytes())


def sgd_warm_start(plan, problem, state, source, loss_and_gradient):
    """Move ``state``'s model to that of one epoch of averaged per-sample SGD from
    it, when that model's objective is lower (else leave it): a pass of SGD takes a
    solver of the whole objective most of the way to the optimum, where the solver
    then converges in a few iterations.  Costs one pass over X, the epoch, from a
    zero start (whose loss reads only the targets: ``source.zero_model_loss``; the
    solver reuses the evaluation of the warm model, ``loss_and_gradient`` being a
    ``LastEvaluation``, with the columns' moments from the same pass), and one more
    from any other start (its objective) or when the warm model is not kept."""
    schedule = "optimal" if problem.rows.sparse and plan.alpha > 0 else "invscaling"
    warm = dataclasses.replace(
        plan, algorithm=PER_SAMPLE, solver=None, batch_size=1, optimizer="sgd",
        learning_rate=schedule, requested_learning_rate=schedule,
        eta0=WARM_START_ETA0, power_t=0.5, average=1, shuffle=True,
        sgd_warm_start=False)
    rule = make_step_rule(warm, problem.rows.sparse)
    n_models, n_features = state.coef.shape
    sgd_state = TrainingState.start(n_models, n_features, state.coef.dtype, rule,
                                    averaging=True)
    sgd_state.coef[:] = state.coef
    sgd_state.scalars["intercept"] = state.intercept
    epochs, order = source.sgd_epochs(warm, sgd_state, rule)
    order.reshuffle(int(check_random_state(plan.random_state).randint(
        np.iinfo(np.int32).max)))
    with np.errstate(all="ignore"):  # a step too large for the data: not taken
        epochs(warm.eta0)
    coef, intercept = sgd_state.model(True)
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        return

    def objective(w, b):
        return (loss_and_gradient(np.ascontiguousarray(w), b)[0]
                / source.total_weight + regularisation(plan, w, b))

    zero_start = not (np.any(state.coef) or np.any(state.intercept))
    if zero_start and hasattr(source, "zero_model_loss"):
        # the start is zero (a fit from scratch): its loss reads no column of X,
        # and the pass that evaluates the warm model gives the columns' moments
        # (L-BFGS's preconditioner) and is the solver's first evaluation
        start = (source.zero_model_loss() / source.total_weight
                 + regularisation(plan, state.coef, state.intercept))
        loss_and_gradient.moments(np.ascontiguousarray(coef), intercept)
    else:
        # the start's first (with the columns' moments, from the same pass), the
        # warm model's last: the one the solver most likely keeps
        loss_and_gradient.moments(np.ascontiguousarray(state.coef), state.intercept)
        start = objective(state.coef, state.intercept)
    if objective(coef, intercept) < start:
        state.coef[:] = coef
        state.scalars["intercept"] = intercept


class FullBatchEpochs:
    """A solver of the whole objective on the weighted mean loss, one iteration per
    call: proximal gradient descent (ISTA or FISTA, ``_solvers.proximal``), L-BFGS /
    OWL-QN (``_solvers.quasi_newton``) or Newton's method (``_solvers.newton``).

    The objective is ``sum_i s_i loss_i / sum_i s_i`` plus the penalty, so a row of
    weight 2 is the same as two copies of it.

    Parameters
    ----------
    solver : Solver
    plan : Plan
        The penalty's strengths, the intercept, the loss's smoothness.
    lipschitz : callable
        ``() -> (L_w, L_b)``: curvature bounds, for the solvers that ask.
    source : InMemory or OnCluster
        Where the sums over the training rows come from: ``hessian()`` and
        ``loss_gradient_and_moments()`` (each ``(coef, intercept) -> sums``,
        ``coef`` in X's dtype) and ``total_weight``, the rows' summed sample weights
        (their number without weights).
    loss_and_gradient : LastEvaluation
        ``(coef, intercept) -> (loss sum, gradient sum of the weights, of the
        intercepts)`` over the training rows (the source's); the pass that gives the
        columns' moments leaves its sums there.
    state : TrainingState
        Its model is replaced by the solver's iterate after every call.
    curvature : CurvatureMemory or None, default=None
        Handed to the solvers that keep one (``Solver.keeps_curvature``).

    Attributes
    ----------
    converged : bool
        Whether the last iteration found no decrease left (the optimum to rounding),
        or left the largest entry of the objective's gradient (the solver's
        ``optimality()``) at most ``plan.tol``; a start that meets ``plan.tol``
        already (a warm start at the optimum) takes no step.
    own_stopping_rule : bool
        The gradient decides when to stop (``converged``): the loop's rule on the
        objective's progress does not apply.  False for the non-smooth losses, whose
        subgradients do not vanish at the optimum.
    """

    def __init__(self, solver, plan, lipschitz, source, loss_and_gradient, state,
                 curvature=None):
        self.state = state
        self.converged = False
        self.tol = plan.tol
        self.evaluations, self.source, self.extra_passes = loss_and_gradient, source, 0
        self.hessians_before = source.hessian_evaluations
        self.total_weight = float(source.total_weight)
        if not self.total_weight > 0:
            raise ValueError(
                "batch_size='full' minimises the weighted mean loss, which needs "
                "training rows whose sample weights sum to a positive number; they sum "
                f"to {self.total_weight:g}.")
        dtype = state.coef.dtype

        def smooth(w, b):
            coef = np.ascontiguousarray(w, dtype=dtype)
            total, grad, grad_b = loss_and_gradient(coef, b)
            return (total / self.total_weight, grad / self.total_weight,
                    grad_b / self.total_weight)

        summed_hessian = []  # made on the first call: only Newton asks

        def hessian(w, b):
            if not summed_hessian:
                summed_hessian.append(source.hessian())
            coef = np.ascontiguousarray(w, dtype=dtype)
            return summed_hessian[0](coef, b) / self.total_weight

        def hessian_diagonal(w, b):
            # the columns' moments at the loss's largest curvature, from a pass
            # that evaluates the loss and its gradient too
            coef = np.ascontiguousarray(w, dtype=dtype)
            return (loss_and_gradient.moments(coef, b) * plan.spec.curvature
                    / self.total_weight)

        objective = Objective(
            smooth, plan.lam1, plan.lam2, plan.fit_intercept, plan.spec.smooth,
            lipschitz, hessian, hessian_diagonal)
        carried = ({"curvature": curvature}
                   if solver.keeps_curvature and curvature is not None else {})
        self.solver = solver.build(objective, state.coef, state.intercept, **carried)
        self.own_stopping_rule = bool(np.isfinite(self.solver.optimality()))
        self.started = False

    def __call__(self, eta):
        """One iteration; returns the exact objective, which never increases (NaN
        when X holds NaN or infinity: the first pass over X found it)."""
        solver, scalars = self.solver, self.state.scalars
        if not np.isfinite(solver.F):
            return float("nan")
        if self.started or not self._meets_tolerance():
            self.converged = not solver.step() or self._meets_tolerance()
        else:
            self.converged = True  # the start is the optimum to the tolerance
        self.started = True
        self.state.coef[:] = solver.w
        scalars["intercept"] = solver.b
        scalars["t"] += 1.0
        scalars["sum_loss"] = solver.f * self.total_weight
        return solver.F


    def _meets_tolerance(self):
        return self.tol is not None and self.solver.optimality() <= self.tol

    @property
    def passes(self):
        """Passes over X so far: evaluations of the loss and gradient, Hessians
        computed (Newton's, of all the rows or of their sample; squared error's
        once) and the warm start's SGD epoch."""
        return (self.evaluations.passes + self.extra_passes
                + self.source.hessian_evaluations - self.hessians_before)


class SgdEpochs:
    """Epochs of a per-sample or mini-batch runner over a visiting order, one per
    call; returns the epoch's mean loss met before each step plus the regularisation
    at its end (``objective.regularisation``: the penalty, and the One-Class SVM's
    ``nu * b``)."""

    # SGD has no point at which it knows it is done (see FullBatchEpochs.converged):
    # the loop's rule on the objective's progress decides
    converged = own_stopping_rule = False

    def __init__(self, plan, runner, state, order):
        self.plan, self.runner, self.state, self.order = plan, runner, state, order
        self.passes = 0  # epochs, each a pass over the training rows

    def __call__(self, eta):
        self.passes += 1
        total = self.runner.run(self.state, self.order, eta)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported
            return (total / max(len(self.order), 1)
                    + regularisation(self.plan, self.state.coef, self.state.intercept))
