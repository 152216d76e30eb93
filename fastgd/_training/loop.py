"""The epochs of a fit: the algorithm a setting calls for, the visiting order, the
stopping rules, early stopping, divergence, verbose output.

The path of one fit: the estimator validates its input and builds a ``Problem`` and a
``TrainingState``; ``train`` picks the runner (per-sample, mini-batch, or a solver of
the whole objective: proximal gradient, L-BFGS), runs its epochs until a stopping rule
fires, and hands back the trained state with the curves; the estimator sets its
attributes from it.  A NaN or infinity in X is found by the kernels as they read it,
or checked before the first epoch where NumPy reads X before them
(``reads_x_outside_the_kernels``), so that the only thing the user sees is
scikit-learn's error.  A run whose weights or objective blow up stops with an error
(``learning_rate='auto'`` first starts again with smaller steps); a trained model
worse than the constant one gets a warning.
"""
import functools
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from threadpoolctl import ThreadpoolController

from fastgd._kernels import _evaluate
from fastgd._kernels._enums import Schedule
from fastgd._params import (
    LEARNING_RATES, OPTIMIZER_SPECS, effective_learning_rate, is_per_sample,
)
from fastgd._solvers.proximal import block_lipschitz, sample_rows
from fastgd._training.runners import (
    FullBatchEpochs, GradientRunner, MiniBatchRunner, PerSampleRunner, SgdEpochs,
)
from fastgd._kernels._shuffle import VisitingOrder
from fastgd._training.step_rule import (
    auto_decay, auto_eta, epoch_eta, penalty_strengths, regularisation,
)
from fastgd._kernels._structs import Rows

# sample or class weights from this size on are named as a likely cause of divergence
LARGE_WEIGHT = 1e3
# an epoch objective this many times above both the constant model's objective and the
# fit's first epoch means the steps diverge: the fit stops with an error
DIVERGED_GROWTH = 10.0
# learning_rate='auto' starts again this many times, each time with its step times
# AUTO_BACKOFF, when its steps diverge, before the fit fails
AUTO_RETRIES = 3
AUTO_BACKOFF = 0.25
# a trained model whose objective is this many times the constant model's gets a
# warning
WORSE_THAN_CONSTANT = 2.0


@dataclass
class Problem:
    """What a fit trains on, validated.

    Attributes
    ----------
    X : ndarray or CSR matrix
        The validated X (for the Lipschitz estimate of full batch).
    rows : Rows
        X as the kernels read it.
    targets : Targets
    loss : LossFunction
    spec : LossSpec
        The loss's row of ``_tables.LOSSES``.
    sample_weight : ndarray or None
    stratify : ndarray or None
        Class of every row, for a stratified early-stopping split.
    """

    X: Any
    rows: Any
    targets: Any
    loss: Any
    spec: Any
    sample_weight: Optional[np.ndarray]
    stratify: Optional[np.ndarray]

    @property
    def class_scale(self):
        """The largest class weight: it scales the curvature of its rows."""
        return max(float(np.max(self.targets.arrays["w_pos"])), self.targets.w_neg)


@dataclass
class Result:
    """A finished run of epochs."""

    state: Any
    n_iter: int
    loss_curve: list
    validation_loss_curve: list = field(default_factory=list)


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


def split_rows(estimator, n_rows, stratify, sample_weight):
    """Training rows and validation rows (int32): all rows and none without early
    stopping.  Raises when the training rows (or the validation rows) weigh nothing."""
    all_rows = np.arange(n_rows, dtype=np.int32)
    if not estimator.early_stopping:
        train, val = all_rows, np.empty(0, dtype=np.int32)
    else:
        splitter = StratifiedShuffleSplit if stratify is not None else ShuffleSplit
        cv = splitter(test_size=estimator.validation_fraction,
                      random_state=estimator.random_state)
        strat = stratify if stratify is not None else np.zeros(n_rows)
        train, val = next(cv.split(np.zeros((n_rows, 1)), strat))
        if len(train) == 0 or len(val) == 0:
            raise ValueError(
                f"Splitting {n_rows} samples into a train set and a validation set "
                f"with validation_fraction={estimator.validation_fraction} led to an "
                f"empty set ({len(train)} and {len(val)} samples). Please either "
                f"change validation_fraction, increase number of samples, or disable "
                f"early_stopping.")
        if sample_weight is not None and not np.any(sample_weight[val] > 0):
            raise ValueError("The sample weights for validation set are all zero, "
                             "consider using a different random state.")
        train, val = np.sort(train).astype(np.int32), np.sort(val).astype(np.int32)
    if sample_weight is not None and not np.any(sample_weight[train] != 0):
        raise ValueError("The sample weights of the training rows are all zero: there "
                         "is nothing to train on"
                         + (" (every row of non-zero weight fell in the validation "
                            "set; consider a different random_state or "
                            "validation_fraction)." if estimator.early_stopping
                            else "."))
    return train, val


def algorithm(estimator):
    """``"per_sample"``, ``"minibatch"``, ``"full_batch"`` (proximal gradient) or
    ``"quasi_newton"`` (L-BFGS / OWL-QN): which runner a setting trains with."""
    full = estimator.batch_size == "full"
    if full and estimator.optimizer == "lbfgs":
        return "quasi_newton"
    if full and estimator.optimizer in ("sgd", "nesterov"):
        return "full_batch"
    return "per_sample" if is_per_sample(estimator) else "minibatch"


# shuffle_window='auto' draws a uniform permutation for X up to this size, windows
# of WINDOW_ROWS rows beyond
UNIFORM_SHUFFLE_MAX_BYTES = 32 * 2**20
WINDOW_ROWS = 32


def shuffle_window(estimator, X):
    """The window of the visiting order: ``shuffle_window``, with ``'auto'`` resolved.

    The windowed shuffle reads X nearly in sequence, which pays once X is larger
    than the caches; on rows that come ordered (by the target, by time) it leaves
    more of the order in the model.  Measured on ggplot2's diamonds (54k rows ordered
    by price, 11 MB), averaged SGD, ridge, 50 epochs, relative gap to the exact
    optimum over three seeds: windows of 32 rows 0.95-1.11e-3, a uniform permutation
    0.44-0.49e-3, scikit-learn 0.43-0.47e-3.  Costs of the uniform permutation, per-
    sample SGD on dense rows (100 features): +1% at 16 MB, +7% at 40 MB, +9% at 80
    MB, +29% at 160 MB, +33% at 400 MB.  So ``'auto'`` is uniform up to
    ``UNIFORM_SHUFFLE_MAX_BYTES`` (a size fixed here, not read off the machine, so
    that the model does not depend on the machine), windowed beyond.
    """
    if estimator.shuffle_window != "auto":
        return estimator.shuffle_window
    size = (X.data.nbytes + X.indices.nbytes if hasattr(X, "indptr")
            else X.nbytes)
    return 1 if size <= UNIFORM_SHUFFLE_MAX_BYTES else WINDOW_ROWS


# the algorithms that take one iteration of a solver of the whole objective per epoch
WHOLE_OBJECTIVE = ("full_batch", "quasi_newton")


def takes_auto_step(estimator):
    """Whether the fit takes ``learning_rate='auto'``'s step from the data (the
    solvers of the whole objective take theirs from their line searches)."""
    return (effective_learning_rate(estimator) == "auto"
            and algorithm(estimator) not in WHOLE_OBJECTIVE)


def reads_x_outside_the_kernels(estimator, kind):
    """Whether a fit of the algorithm ``kind`` computes with X before (or beside) the
    training kernels, so that X's values must be checked first.

    The kernels check every margin they compute: a NaN or inf in X makes the epoch's
    loss NaN and ``run_epochs`` names the bad input, without a separate pass over X.
    Three things read X in NumPy instead, where a NaN or inf would leak a
    RuntimeWarning (or a wrong step) before that error: the curvature bound that
    sizes the step of ``learning_rate='auto'`` for plain SGD, momentum and Nesterov
    (``_step_rule.auto_eta``), the solvers of the whole objective (their curvature
    bounds and line searches), and the validation rows of early stopping (read by the
    objective alone).
    """
    if estimator.early_stopping or kind in WHOLE_OBJECTIVE:
        return True
    curvature_step = OPTIMIZER_SPECS[estimator.optimizer].auto_step is None
    return takes_auto_step(estimator) and curvature_step


def full_batch_method(estimator):
    """``FullBatchEpochs``'s method for a solver of the whole objective."""
    if estimator.optimizer == "lbfgs":
        return "lbfgs"
    return "fista" if estimator.optimizer == "nesterov" else "ista"


def make_epochs(kind, estimator, problem, state, rule, train_rows, n_threads):
    """The epoch callable (``eta -> objective``) of the algorithm ``kind``, and the
    visiting order it reshuffles each epoch."""
    full = estimator.batch_size == "full"
    # a full-batch step sums over every row: the order does not matter
    order = VisitingOrder(train_rows, problem.rows.n_rows,
                          estimator.shuffle and not full,
                          shuffle_window(estimator, problem.X),
                          problem.targets.n_models, n_threads)
    if kind in WHOLE_OBJECTIVE:
        lam1, lam2 = penalty_strengths(estimator)
        runner = GradientRunner(problem.loss, problem.rows, problem.targets, n_threads)
        every_row = len(train_rows) == problem.rows.n_rows
        sw = problem.sample_weight
        total_weight = (float(np.sum(sw[train_rows])) if sw is not None
                        else float(len(train_rows)))
        method = full_batch_method(estimator)
        curvature = problem.spec.curvature * problem.class_scale
        lipschitz = (None if method == "lbfgs" else
                     lambda: block_lipschitz(problem.X, sw, curvature, total_weight))
        epochs = FullBatchEpochs(
            lambda coef, b: runner.run(coef, b, None if every_row else train_rows),
            total_weight, state, lipschitz, problem.spec, lam1, lam2,
            estimator.fit_intercept, method)
    elif kind == "minibatch":
        batch = len(train_rows) if full else estimator.batch_size
        runner = MiniBatchRunner(problem.loss, problem.rows, problem.targets, rule,
                                 n_threads, batch)
        epochs = SgdEpochs(runner, state, order,
                           lambda coef, b: regularisation(estimator, coef, b))
    else:
        runner = PerSampleRunner(problem.loss, problem.rows, problem.targets, rule,
                                 n_threads)
        epochs = SgdEpochs(runner, state, order,
                           lambda coef, b: regularisation(estimator, coef, b))
    return epochs, order


def constant_objective(problem, rows, n_threads, max_rows=10_000):
    """Mean loss of the constant model: zero weights, the weighted mean of y as
    intercept (regression) or zero (classification); at least a thousandth of the zero
    model's (where the constant model fits y exactly, a model no better is no
    failure).  The yardstick of the divergence checks: it reads the targets only, not
    X, of at most ``max_rows`` of the rows (a fixed random sample), so that it costs
    next to nothing beside an epoch."""
    sample = sample_rows(len(rows), max_rows)
    rows = rows if isinstance(sample, slice) else rows[sample]
    targets = problem.targets
    y = targets.arrays["y"]
    level = 0.0
    if problem.spec.task == "regression" and y is not None and len(rows):
        sw = problem.sample_weight
        weights = None if sw is None else sw[rows]
        total = len(rows) if weights is None else float(np.sum(weights))
        level = (float(np.average(y[rows], weights=weights)) if total > 0 else 0.0)
    # X of one column and no stored values: every margin is the intercept (its row
    # pointers are zeros, which the kernel reads for the sampled rows only)
    dtype, n = problem.rows.dtype, problem.rows.n_rows
    no_values = Rows(sp.csr_matrix((np.zeros(0, dtype), np.zeros(0, np.int32),
                                    np.zeros(n + 1, np.int32)), shape=(n, 1)))
    totals = [_evaluate.loss_sum(problem.loss, no_values, targets, rows,
                               np.zeros((targets.n_models, 1), dtype=dtype),
                               np.full(targets.n_models, intercept), n_threads)
              for intercept in (level, 0.0)]
    return max(totals[0], 1e-3 * totals[1]) / max(len(rows), 1)


def divergence_error(estimator, epoch, problem, kind, grew=None, auto_eta=None):
    """The error of a run whose weights or objective stopped being finite (or, with
    ``grew`` = (objective, yardstick), grew far beyond the yardstick), naming the
    likely causes for this setting (``auto_eta``: the step ``'auto'`` took)."""
    causes = []
    sw = problem.sample_weight
    if sw is not None and sw.size and np.max(np.abs(sw)) >= LARGE_WEIGHT:
        causes.append(f"sample weights up to {np.max(np.abs(sw)):g} make a row's step "
                      "that many times larger: rescale sample_weight (e.g. to a mean "
                      "of 1)")
    w_pos = problem.targets.arrays["w_pos"]
    if problem.spec.task != "regression" and np.max(np.abs(w_pos)) >= LARGE_WEIGHT:
        causes.append(f"class weights up to {np.max(np.abs(w_pos)):g} scale the steps "
                      "of their rows alike: rescale class_weight")
    lr = effective_learning_rate(estimator)
    eta0 = estimator.eta0
    if (estimator.optimizer in ("momentum", "nesterov") and kind not in WHOLE_OBJECTIVE
            and lr != "auto"):
        causes.append(f"optimizer={estimator.optimizer!r} with momentum="
                      f"{estimator.momentum:g} moves up to "
                      f"{1 / max(1 - estimator.momentum, 1e-12):.3g} times the step: "
                      f"lower eta0 or the momentum, or use learning_rate='auto'")
    if kind in WHOLE_OBJECTIVE:
        pass  # step sizes come from the line search
    elif lr == "auto":
        causes.append("learning_rate='auto' took its step from the data"
                      + (f" ({auto_eta:.3g})" if auto_eta else "")
                      + ": pass learning_rate='constant' with a smaller eta0")
    elif lr == "optimal":
        causes.append(f"learning_rate='optimal' steps 1 / (alpha * (t0 + t)): a larger "
                      f"alpha (now {estimator.alpha:g}), or learning_rate='constant' "
                      f"or 'invscaling' with a small eta0, takes smaller steps")
    else:
        hint = "lower eta0" + ("" if lr in ("pa1", "pa2")
                               else ", use learning_rate='optimal' or 'invscaling'")
        causes.append(f"the learning rate is likely too large for this data "
                      f"(learning_rate={lr!r}, eta0={eta0}): {hint}")
    causes.append("scale the features (e.g. with StandardScaler)")
    what = ("the weights or the objective became non-finite (inf or NaN)"
            if grew is None else
            f"the objective grew to {grew[0]:.4g}, over {DIVERGED_GROWTH:g} times "
            f"{grew[1]:.4g} (the larger of the first epoch's and the constant model's)")
    return ValueError(f"Training diverged at epoch {epoch}: {what}. Possible causes "
                      f"and fixes: " + "; or ".join(causes) + ".")


def train(estimator, problem, state, max_iter, partial, rule, n_threads):
    """Run up to ``max_iter`` epochs of the estimator's algorithm on ``problem`` from
    ``state`` (updated in place) with the step rule ``rule``; return the ``Result``.

    The BLAS (NumPy's small vector operations between the kernels, the power
    iterations of the curvature estimates) runs on one thread meanwhile: its idle
    threads would spin on the cores the kernels' threads need.
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _train(estimator, problem, state, max_iter, partial, rule, n_threads)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the loaded libraries, found once (a scan of the
    process's libraries costs a few milliseconds, a tenth of an epoch on 500k x 100)."""
    return ThreadpoolController()


def _train(estimator, problem, state, max_iter, partial, rule, n_threads):
    """``train`` under the BLAS limit: split the rows, set up the epochs, the step of
    ``'auto'`` and the constant model's objective, and run them (``run_epochs``)."""
    e = estimator
    train_rows, val_rows = split_rows(e, problem.rows.n_rows, problem.stratify,
                                      problem.sample_weight)
    kind = algorithm(e)
    if reads_x_outside_the_kernels(e, kind):
        e._check_finite(problem.X)
    epochs, order = make_epochs(kind, e, problem, state, rule, train_rows, n_threads)
    if takes_auto_step(e) and state.auto_eta is None:
        batch = len(train_rows) if e.batch_size == "full" else e.batch_size
        state.auto_eta = auto_eta(e, problem.X, problem.sample_weight,
                                  problem.spec.curvature * problem.class_scale, batch,
                                  problem.spec.bounded_slope)
    # full batch never increases its objective (line search); the others are checked
    constant = (constant_objective(problem, train_rows, n_threads)
                if kind not in WHOLE_OBJECTIVE else None)
    return run_epochs(e, problem, state, epochs, order, kind, constant, train_rows,
                      val_rows, max_iter, partial, n_threads)


def run_epochs(e, problem, state, epochs, order, kind, constant, train_rows, val_rows,
               max_iter, partial, n_threads, check_input=None):
    """Run the epochs of ``epochs`` (an ``eta -> objective`` callable with
    ``converged``) over ``order`` (its ``reshuffle(seed)`` draws each epoch's order),
    again with ``'auto'``'s step cut when they diverge; warn when the model is worse
    than the constant model (objective ``constant``, None for no check).

    ``problem`` (with ``train_rows`` and ``val_rows``) is where the validation loss
    and the check of the final model read: the data of the fit on one machine, a
    sample of the rows on a Dask cluster.  ``check_input`` raises for NaN or
    infinity in X when an epoch's objective is not finite (default: scikit-learn's
    check of ``problem.X``).  Returns the ``Result``.
    """
    if check_input is None:
        check_input = functools.partial(e._check_finite, problem.X)
    learning_rate = effective_learning_rate(e)
    seed = int(check_random_state(e.random_state).randint(np.iinfo(np.int32).max))
    first_epoch = state.epochs_done
    fixed = LEARNING_RATES[learning_rate] == Schedule.FIXED
    auto = takes_auto_step(e)
    averaging = bool(e.average)
    start = state.copy() if auto else None
    for attempt in range(AUTO_RETRIES + 1):
        try:
            result, objective = _epochs(e, problem, state, epochs, order, auto,
                                        fixed, seed, first_epoch, max_iter, partial,
                                        averaging, constant, val_rows, n_threads,
                                        check_input)
            break
        except _Diverged as diverged:
            if not auto or attempt == AUTO_RETRIES:
                raise divergence_error(e, diverged.epoch, problem, kind,
                                       grew=diverged.grew,
                                       auto_eta=state.auto_eta) from None
            # 'auto' took too large a step for this data: start again, smaller
            state.restore(start)
            state.auto_eta = start.auto_eta * AUTO_BACKOFF ** (attempt + 1)
            if e.verbose:
                print(f"Diverged at epoch {diverged.epoch}: starting again with "
                      f"learning_rate='auto' at {state.auto_eta:.3g}")
    state.epochs_done = first_epoch + result.n_iter
    if constant and objective > WORSE_THAN_CONSTANT * constant:
        # the epoch's objective is met along the way; the model's own decides (the
        # perceptron's constant model has loss 0: nothing to compare with)
        coef, intercept = state.model(averaging)
        objective = (_evaluate.loss_sum(problem.loss, problem.rows, problem.targets,
                                      train_rows, coef, intercept, n_threads)
                     / len(train_rows) + regularisation(e, coef, intercept))
    if constant and objective > WORSE_THAN_CONSTANT * constant:
        shown = (repr(e.learning_rate) if learning_rate == e.learning_rate
                 else f"'auto', here scikit-learn's {learning_rate!r}")
        warnings.warn(
            f"The trained model's objective ({objective:.4g}) is over "
            f"{WORSE_THAN_CONSTANT:g} times that of the constant model "
            f"({constant:.4g}): "
            f"the steps are likely too large (learning_rate={shown}, eta0={e.eta0:g}, "
            f"optimizer={e.optimizer!r}); scale the features (e.g. with "
            f"StandardScaler), or take smaller steps.", ConvergenceWarning)
    return result


class _Diverged(Exception):
    """An epoch's weights or objective stopped being finite, or its objective grew
    far (``grew``: the objective and its yardstick)."""

    def __init__(self, epoch, grew=None):
        super().__init__(epoch)
        self.epoch, self.grew = epoch, grew


def _epochs(e, problem, state, epochs, order, auto, fixed, seed, first_epoch,
            max_iter, partial, averaging, constant, val_rows, n_threads, check_input):
    """The epoch loop of ``_train``: (Result, last objective); raises ``_Diverged``.
    ``auto``: the steps are ``learning_rate='auto'``'s (``state.auto_eta``)."""
    stopping = StoppingRule(e.tol, e.n_iter_no_change,
                            adaptive=e.learning_rate == "adaptive", eta=e.eta0)
    result = Result(state=state, n_iter=0,
                    loss_curve=list(getattr(e, "loss_curve_", [])) if partial else [])
    yardstick = objective = None
    started = time.perf_counter()
    for epoch in range(max_iter):
        order.reshuffle(seed + epoch)
        if auto:
            # partial_fit keeps the step: its calls have no horizon to decay over
            eta = state.auto_eta * (1.0 if partial else auto_decay(epoch, max_iter))
        elif fixed:
            eta = epoch_eta(e, first_epoch + epoch, stopping.eta)
        else:
            eta = e.eta0
        objective = epochs(eta)
        result.n_iter = epoch + 1
        if not (np.isfinite(objective) and state.finite()):
            check_input()  # bad input, or else divergence
            raise _Diverged(result.n_iter)
        if constant:  # the perceptron's constant model has loss 0: no yardstick
            yardstick = max(constant, objective) if yardstick is None else yardstick
            if objective > DIVERGED_GROWTH * yardstick:
                raise _Diverged(result.n_iter, grew=(objective, yardstick))
        result.loss_curve.append(float(objective))
        criterion = objective
        if e.early_stopping:
            coef, intercept = state.model(averaging)
            criterion = _evaluate.loss_sum(problem.loss, problem.rows, problem.targets,
                                         val_rows, coef, intercept,
                                         n_threads) / len(val_rows)
            result.validation_loss_curve.append(float(criterion))
        if e.verbose:
            # scikit-learn's lines, with the objective (the mean loss plus the
            # penalty) and the held-out loss beside its average loss
            penalty = regularisation(e, state.coef, state.intercept)
            print(f"-- Epoch {result.n_iter}\nNorm: {np.linalg.norm(state.coef):.2f}, "
                  f"NNZs: {np.count_nonzero(state.coef)}, "
                  f"Bias: {state.intercept[0]:.6f}, T: {int(state.t) - 1}, "
                  f"Avg. loss: {objective - penalty:.6f}, Objective: {objective:.6f}"
                  + (f", Validation loss: {criterion:.6f}" if e.early_stopping else "")
                  + f"\nTotal training time: {time.perf_counter() - started:.2f} "
                  f"seconds.")
        if epochs.converged or stopping.should_stop(criterion):
            if e.verbose:
                print(f"Convergence after {result.n_iter} epochs")
            break
    return result, objective
