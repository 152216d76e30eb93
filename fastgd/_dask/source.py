"""Training on a Dask cluster: fastgd's runners on the workers, on their own chunks.

``OnCluster`` is the source of the data that the epoch factory and the loop of
``fastgd._training`` read (as ``InMemory`` is in memory): the client keeps the model
and the epoch loop (stopping rules, ``'auto'``'s step and its restarts, divergence);
the workers run the kernels, with the fit's ``Plan`` and ``TargetEncoding`` in each
task.
Each epoch is one graph, so one round trip to the scheduler:

* Per-sample and mini-batch SGD: the chunks in a random order (drawn each epoch from
  ``random_state`` alone, never from where the chunks are: the model does not depend
  on the placement, on whether the input was persisted, or on a worker lost and its
  chunks computed again elsewhere), the training state (model, step counter,
  averages, optimizer state) handed from one chunk to the next, each chunk an epoch of
  the one-machine runner over its rows in their own random order.  Consecutive chunks
  held by the same worker are one task.  This is the scheme that keeps the model at
  any thread count (``_sgd``'s design comment: averaging replicas loses accuracy as they
  multiply), so one worker works at a time, with the threads it has; what moves
  between workers is the state, a few times the model's size per chunk.  With
  early stopping each chunk holds its validation rows out (``holdout``), and the
  validation loss of each epoch is a sum over the chunks like the gradient's.
* Solvers of the whole objective (proximal gradient, FISTA, L-BFGS): every loss and
  gradient is a sum over the chunks, computed on all workers at once and added up by a
  tree reduction, so the fit equals the one-machine fit to rounding.  One round trip
  per evaluation (L-BFGS's line search may evaluate more than once per epoch).

No task changes its inputs (the state is copied first), so the scheduler may run a
task again after a worker is lost and the epoch gives the same model.  Input that Dask
cannot compute again (data scattered to a worker that died) ends the fit with an error
naming the lost chunks (``chunks.input_kept``).  Only the chunks' delayed objects go
into the graphs: data persisted on the workers stays there, and a collection read from
files is read chunk by chunk.
"""
import functools
import pickle

import numpy as np

from fastgd._dask.chunks import chunk_matrix, input_kept
from fastgd._dask.placement import ChunkPlacement, consecutive_runs
from fastgd._dask.holdout import HoldOut
from fastgd._kernels import _evaluate
from fastgd._kernels._structs import Rows, Targets
from fastgd._solvers.newton import cheap_hessian
from fastgd._training.loop import train
from fastgd._training.objective import regularisation
from fastgd._training.runners import (
    GradientRunner, HessianRunner, sgd_runner, softmax_moments, visiting_order,
)
from fastgd._training.step_rule import make_step_rule

# chunks' partial sums added per task of the tree reduction
REDUCTION_FAN_IN = 4


class Traffic:
    """What a fit on a cluster sent and got back, counted by the client: the
    scheduler round trips and the pickled size of the arguments that are not chunks
    (the model, the training state) and of the results, per epoch.

    Attributes
    ----------
    round_trips, bytes_sent, bytes_received : list of int
        Per epoch; entry 0 is the setup before the first epoch (the solvers of the
        whole objective evaluate their starting point).  The state a chunk's task
        hands to the next one is counted as received and sent again (it moves
        between workers when they differ).
    """

    def __init__(self):
        self.round_trips, self.bytes_sent, self.bytes_received = [0], [0], [0]

    def new_epoch(self):
        for counts in (self.round_trips, self.bytes_sent, self.bytes_received):
            counts.append(0)

    def add(self, sent=0, received=0, round_trips=0):
        self.round_trips[-1] += round_trips
        self.bytes_sent[-1] += sent
        self.bytes_received[-1] += received

    def report(self):
        """Per-epoch means over the epochs that ran, and the setup's round trips."""
        epochs = max(len(self.round_trips) - 1, 1)
        return dict(round_trips_per_epoch=sum(self.round_trips[1:]) / epochs,
                    bytes_sent_per_epoch=sum(self.bytes_sent[1:]) / epochs,
                    bytes_received_per_epoch=sum(self.bytes_received[1:]) / epochs,
                    setup_round_trips=self.round_trips[0])


def _nbytes(obj):
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def chunk_problem(plan, X, targets, dtype):
    """(loss, Rows, Targets, X) of one chunk, on the worker that holds it."""
    X = chunk_matrix(X, dtype)
    return plan.loss_function(), Rows(X), Targets(dtype, X.shape[0], **targets), X


def chunk_gradient(plan, Xs, targets, dtype, coef, intercept):
    """Summed loss and gradient of a group of chunks at the model (runs on the worker
    that holds them)."""
    n_threads = plan.n_threads
    sums = []
    for X, encoded in zip(Xs, targets):
        loss, rows, chunk_y, _ = chunk_problem(plan, X, encoded, dtype)
        sums.append(GradientRunner(loss, rows, chunk_y, n_threads).run(coef, intercept))
    return add_sums(*sums)


def chunk_hessian(plan, Xs, targets, dtype, coef, intercept):
    """The summed Hessian of a group of chunks at the model, in a one-tuple as
    ``add_sums`` adds them (runs on the worker that holds them)."""
    total = None
    for X, encoded in zip(Xs, targets):
        loss, rows, chunk_y, X = chunk_problem(plan, X, encoded, dtype)
        part = HessianRunner(loss, X, rows, chunk_y, plan.n_threads).run(coef,
                                                                         intercept)
        total = part if total is None else total + part
    return (total,)


def chunk_gradient_and_moments(plan, Xs, targets, dtype, coef, intercept):
    """``chunk_gradient``'s sums and the weighted second moments of the columns of a
    group of chunks (``InMemory.loss_gradient_and_moments``), from one read of each
    chunk (runs on the worker that holds them)."""
    sums = []
    for X, encoded in zip(Xs, targets):
        loss, rows, chunk_y, _ = chunk_problem(plan, X, encoded, dtype)
        runner = GradientRunner(loss, rows, chunk_y, plan.n_threads)
        if plan.multinomial:  # the softmax's moments: a read of their own
            moments = softmax_moments(rows, chunk_y, plan.n_threads)
            sums.append((*runner.run(coef, intercept),
                         np.tile(moments, (coef.shape[0], 1))))
        else:
            sums.append(runner.run_with_diagonal(coef, intercept,
                                                 unit_curvature=True))
    return add_sums(*sums)


def chunk_validation_loss(plan, Xs, targets, dtype, coef, intercept, indices,
                          holdout):
    """The summed loss of the model on the validation rows of a group of chunks
    (``indices``: their indices in X), in a one-tuple as ``add_sums`` adds them."""
    total = 0.0
    for X, encoded, index in zip(Xs, targets, indices):
        loss, rows, chunk_y, _ = chunk_problem(plan, X, encoded, dtype)
        held = holdout.rows(rows.n_rows, index)[1]
        total += _evaluate.loss_sum(loss, rows, chunk_y, held, coef, intercept,
                                    plan.n_threads)
    return (total,)


def reduced(plan, placement, dtype, chunk_sum, task_args, traffic, plan_bytes):
    """``chunk_sum(plan, Xs, targets, dtype, *task_args(group))`` of each group of
    chunks of ``placement`` (a task on the worker that holds them), the groups' tuples
    of sums added by a tree reduction: one round trip (counted in ``traffic``, the
    plan's pickled size ``plan_bytes`` per task)."""
    import dask

    # the plan and the model go into each group's task (one per worker): as tasks of
    # their own they would cost round trips between the workers
    groups = placement.groups
    parts = [dask.delayed(chunk_sum, pure=False)(plan, *placement.of(group), dtype,
                                                 *task_args(group))
             for group in groups]
    while len(parts) > REDUCTION_FAN_IN:
        parts = [dask.delayed(add_sums, pure=True)(*parts[k:k + REDUCTION_FAN_IN])
                 for k in range(0, len(parts), REDUCTION_FAN_IN)]
    # the last addition on the client: a hop between workers less
    result = add_sums(*dask.compute(*parts))
    # what each task is sent besides its chunks: the plan and the arrays (the model)
    arrays = sum(arg.nbytes for arg in task_args(groups[0])
                 if isinstance(arg, np.ndarray)) if groups else 0
    traffic.add(round_trips=1, sent=(plan_bytes + arrays) * len(groups),
                received=_nbytes(result) * len(groups))
    return result


def add_sums(*parts):
    """The entrywise sum of several tuples of sums (loss, gradient, intercept
    gradient, and the moments; or one validation loss)."""
    first, *rest = parts
    total = [np.copy(x) if isinstance(x, np.ndarray) else x for x in first]
    for part in rest:
        for k, x in enumerate(part):
            total[k] = total[k] + x
    return tuple(total)


def chunk_sgd_epoch(plan, Xs, targets, dtype, state, eta, seeds, indices, holdout):
    """One epoch of per-sample or mini-batch SGD over a run of chunks, one after the
    other, each in its own random order (``seeds``), from ``state`` (left unchanged);
    returns (the new state, each chunk's summed loss).  With early stopping
    (``holdout``), each chunk's training rows only (``indices``: the chunks' indices
    in X).  Runs on the worker that holds them."""
    state = state.copy()
    n_threads = plan.n_threads
    losses = []
    for X, encoded, seed, index in zip(Xs, targets, seeds, indices):
        loss, rows, chunk_y, X = chunk_problem(plan, X, encoded, dtype)
        rule = make_step_rule(plan, rows.sparse)
        train_rows = (np.arange(rows.n_rows, dtype=np.int32) if holdout is None
                      else holdout.rows(rows.n_rows, index)[0])
        runner = sgd_runner(plan, loss, rows, chunk_y, rule, n_threads, len(train_rows))
        order = visiting_order(plan, X, rows, train_rows, chunk_y.n_models, n_threads)
        order.reshuffle(seed)
        losses.append(float(runner.run(state, order, eta)))
    return state, losses


class ClusterEpochs:
    """SGD epochs over the chunks, one graph (one round trip) per epoch: the callable
    and the visiting order (``reshuffle``) of the loop (``_training.loop``).

    Each epoch visits the chunks in a random order drawn from the epoch's seed alone
    (``visiting_order``), so the model does not depend on which worker holds which
    chunk; consecutive chunks on the same worker are one task
    (``consecutive_runs``), and the state moves between workers between runs.

    Parameters
    ----------
    plan : Plan
    placement : ChunkPlacement
        Where the chunks' tasks run (not balanced: one worker trains at a time).
    data : ChunkedData
    state : TrainingState
        Replaced by the state the last chunk hands back, after every epoch.
    traffic : Traffic
    holdout : HoldOut or None
        The validation rows each chunk keeps out of training (early stopping).
    n_train : int
        The training rows of all the chunks.
    """

    converged = own_stopping_rule = False

    def __init__(self, plan, placement, data, state, traffic, holdout, n_train):
        self.plan, self.data, self.state, self.traffic = plan, data, state, traffic
        self.placement, self.holdout, self.n_train = placement, holdout, n_train
        self.seed = 0
        self.passes = 0  # epochs, each a pass over the training rows
        self.plan_bytes = _nbytes(plan)

    def reshuffle(self, seed):
        self.seed = seed

    def visiting_order(self):
        """(the chunks' indices in the order of this epoch, each chunk's seed of its
        rows' order), from the epoch's seed only."""
        n_chunks = len(self.placement.X)
        rng = np.random.default_rng(self.seed)
        order = (rng.permutation(n_chunks) if self.plan.shuffle
                 else np.arange(n_chunks))
        seeds = [int(s) for s in rng.integers(np.iinfo(np.int32).max, size=n_chunks)]
        return order, seeds

    def __call__(self, eta):
        import dask

        data, placement, plan = self.data, self.placement, self.plan
        self.passes += 1
        order, seeds = self.visiting_order()
        runs = consecutive_runs(order, placement.holders)
        state, losses = self.state.copy(), []
        tasks = [(*placement.of(run), [seeds[i] for i in run], run) for run in runs]
        on_workers = placement.holders is not None
        if on_workers:
            # the chunks are data on the workers: the epoch is one graph
            for Xs, targets, run_seeds, run in tasks:
                state, run_losses = dask.delayed(chunk_sgd_epoch, nout=2, pure=True)(
                    plan, Xs, targets, data.dtype, state, eta, run_seeds, run,
                    self.holdout)
                losses.append(run_losses)
            state, losses = dask.compute(state, losses)
        else:
            # chunks computed by tasks (read from files, say): one graph per chunk,
            # so that a chunk is read when the model reaches it and a worker holds
            # one chunk at a time, not its share of X (a single graph would let the
            # scheduler read every chunk ahead of the chain)
            for Xs, targets, run_seeds, run in tasks:
                state, run_losses = dask.compute(dask.delayed(
                    chunk_sgd_epoch, nout=2)(plan, Xs, targets, data.dtype, state,
                                             eta, run_seeds, run, self.holdout))[0]
                losses.append(run_losses)
        size = _nbytes(state)
        self.traffic.add(round_trips=1 if on_workers else len(tasks),
                         sent=(self.plan_bytes + size) * len(tasks),
                         received=size + 8 * len(order))
        self.state.restore(state)
        # added in the visiting order: the same sum whatever the runs
        total = float(sum(loss for run_losses in losses for loss in run_losses))
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported
            return (total / max(self.n_train, 1)
                    + regularisation(plan, self.state.coef, self.state.intercept))


class ChunkSums:
    """Sums over the chunks on the workers, at a model: the loss and its gradient
    (``loss_and_gradient``), with the columns' weighted second moments
    (``loss_gradient_and_moments``), the Hessian (``hessian``).  The
    chunks are placed once (balanced over the workers); each call is one graph of a
    task per group of chunks (``chunk_groups``), the groups' sums added by a tree
    reduction (``reduced``): one round trip.
    """

    def __init__(self, plan, encoding, data, traffic):
        self.plan, self.data, self.traffic = plan, data, traffic
        self.placement = ChunkPlacement(encoding, data, balance=True)
        self.plan_bytes = _nbytes(plan)

    def loss_and_gradient(self, coef, intercept):
        """(loss, gradient, intercept gradient) summed over the chunks."""
        return self._reduced(chunk_gradient, coef, intercept)

    def loss_gradient_and_moments(self, coef, intercept):
        """``loss_and_gradient``'s sums and the weighted second moments of the
        columns summed over the chunks, one read of each chunk."""
        return self._reduced(chunk_gradient_and_moments, coef, intercept)

    def hessian(self, coef, intercept):
        """The Hessian summed over the chunks, one read of each chunk."""
        return self._reduced(chunk_hessian, coef, intercept)[0]

    def _reduced(self, chunk_sum, coef, intercept):
        intercept = np.ascontiguousarray(intercept, np.float64)
        return reduced(self.plan, self.placement, self.data.dtype, chunk_sum,
                       lambda group: (coef, intercept), self.traffic, self.plan_bytes)


class OnCluster:
    """The chunks of a Dask fit as the epoch factory and the loop read them (the
    counterpart of ``fastgd._training.sources.InMemory``).

    Parameters
    ----------
    plan : Plan
    encoding : TargetEncoding
    data : ChunkedData
        Summarised (``summarise``).
    problem : Problem
        The sample of rows the client keeps: the curvature bounds, the constant
        model's objective and the checks of the loop read it.
    traffic : Traffic
    """

    def __init__(self, plan, encoding, data, problem, traffic):
        self.plan, self.encoding, self.data = plan, encoding, data
        self.problem, self.traffic = problem, traffic
        summary = data.summary
        self.population_rows = summary.rows
        # early stopping: each chunk holds its validation rows out (SGD only:
        # check_cluster_params)
        self.holdout = HoldOut.of(plan)
        self.n_rows, self.n_validation = (
            (summary.rows, 0) if self.holdout is None
            else self.holdout.counts(data.chunk_rows))
        self.largest_row = summary.largest_row
        self.total_weight = summary.total_weight
        self.n_threads = plan.n_threads
        self.objective_rows = np.arange(problem.rows.n_rows, dtype=np.int32)
        self.hessian_evaluations = 0  # Newton's, on the client's sample
        sw = problem.sample_weight
        self.curvature_sample = (problem.X, sw, float(np.sum(sw)) if sw is not None
                                 else float(problem.rows.n_rows))

    @functools.cached_property
    def sums(self):
        """The sums over the chunks (``ChunkSums``), placed on the first call."""
        return ChunkSums(self.plan, self.encoding, self.data, self.traffic)

    def loss_and_gradient(self):
        """The loss and gradient summed over the chunks, on the workers."""
        return self.sums.loss_and_gradient

    def hessian(self):
        """The Hessian summed over the chunks on the workers where it is cheap
        (``newton.cheap_hessian``: a fit in memory reads it from every row too),
        one round trip; else from the sample of rows the client keeps, scaled to
        the chunks' total weight: the rows a fit in memory samples for its Hessian
        (``curvature.sampled_rows``), so the same Newton steps, with no round
        trip."""
        p = self.problem
        if cheap_hessian(self.n_rows, p.rows.n_features,
                         self.n_rows * p.rows.n_features):
            def summed(coef, b):
                self.hessian_evaluations += 1
                return self.sums.hessian(coef, b)
            return summed
        runner = HessianRunner(p.loss, p.X, p.rows, p.targets, self.n_threads)
        sample_total = self.curvature_sample[2]
        scale = self.total_weight / sample_total if sample_total > 0 else 1.0

        def sampled(coef, b):
            self.hessian_evaluations += 1
            return runner.run(coef, b) * scale
        return sampled

    def loss_gradient_and_moments(self):
        """The loss, its gradient and the weighted second moments of the columns
        summed over the chunks, on the workers (exact: the sample would miss the
        rare features); the softmax's moments take a read of their own."""
        sums = self.sums

        def with_moments(coef, intercept):
            return sums.loss_gradient_and_moments(coef, intercept)
        with_moments.extra_passes = int(self.plan.multinomial)  # callers count
        return with_moments

    @functools.cached_property
    def sgd_placement(self):
        """Where the SGD epochs' and the validation loss's tasks run (not
        balanced: one worker trains at a time)."""
        return ChunkPlacement(self.encoding, self.data)

    def sgd_epochs(self, plan, state, rule=None):
        """(epochs, visiting order) of SGD over the chunks: one object (each chunk's
        task makes its step rule from the plan: ``rule`` is not used)."""
        epochs = ClusterEpochs(plan, self.sgd_placement, self.data, state,
                               self.traffic, self.holdout, self.n_rows)
        return epochs, epochs

    def validation_loss(self, coef, intercept):
        """The mean loss of the model on the chunks' validation rows, on the
        workers (one round trip)."""
        intercept = np.ascontiguousarray(intercept, np.float64)
        total, = reduced(self.plan, self.sgd_placement, self.data.dtype,
                         chunk_validation_loss,
                         lambda group: (coef, intercept, group, self.holdout),
                         self.traffic, _nbytes(self.plan))
        return total / self.n_validation

    def check_finite(self):
        """scikit-learn's error for NaN or infinity in X, naming the chunk."""
        self.data.check_finite(self.plan.estimator_name)

    def watch(self, epochs):
        """The epochs, each starting a new epoch of the traffic count."""
        return _CountEpochs(epochs, self.traffic)


def train_on_cluster(plan, encoding, data, problem, state, max_iter, partial=False,
                     loss_curve=()):
    """``fastgd._training.loop.train`` on the chunks of ``data`` (a ``ChunkedData``
    whose ``summarise`` ran); ``problem`` is the sample of rows it kept.

    Returns
    -------
    Result, Traffic
    """
    traffic = Traffic()
    with input_kept(data.inputs):
        source = OnCluster(plan, encoding, data, problem, traffic)
        result = train(plan, problem, state, source, max_iter, partial, loss_curve)
    return result, traffic


class _CountEpochs:
    """An epoch callable that starts a new epoch of the traffic count first."""

    def __init__(self, epochs, traffic):
        self.epochs, self.traffic = epochs, traffic

    @property
    def converged(self):
        return self.epochs.converged

    @property
    def own_stopping_rule(self):
        return self.epochs.own_stopping_rule

    @property
    def passes(self):
        return self.epochs.passes

    def __call__(self, eta):
        self.traffic.new_epoch()
        return self.epochs(eta)
