"""Training on a Dask cluster: fastgd's runners on the workers, on their own chunks.

The client keeps the model and the epoch loop (``_training.run_epochs``: stopping
rules, ``'auto'``'s step and its restarts, divergence); the workers run the kernels.
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
  between workers is the state, a few times the model's size per chunk.
* Solvers of the whole objective (proximal gradient, FISTA, L-BFGS): every loss and
  gradient is a sum over the chunks, computed on all workers at once and added up by a
  tree reduction, so the fit equals the one-machine fit to rounding.  One round trip
  per evaluation (L-BFGS's line search may evaluate more than once per epoch).

No task changes its inputs (the state is copied first), so the scheduler may run a
task again after a worker is lost and the epoch gives the same model.  Input that Dask
cannot compute again (data scattered to a worker that died) ends the fit with an error
naming the lost chunks (``_chunks.input_kept``).  Only the chunks' delayed objects go
into the graphs: data persisted on the workers stays there, and a collection read from
files is read chunk by chunk.
"""
import pickle

import numpy as np

from fastgd._dask.chunks import chunk_matrix, input_kept
from fastgd._config import effective_n_threads
from fastgd._params import OPTIMIZER_SPECS, effective_learning_rate, loss_spec
from fastgd._solvers.proximal import block_lipschitz
from fastgd._training.runners import (
    FullBatchEpochs, GradientRunner, MiniBatchRunner, PerSampleRunner,
)
from fastgd._kernels._shuffle import VisitingOrder
from fastgd._training.step_rule import (
    auto_eta, make_step_rule, penalty_strengths, regularisation,
)
from fastgd._kernels._structs import Rows, Targets
from fastgd._training.loop import (
    WHOLE_OBJECTIVE, algorithm, constant_objective, full_batch_method, run_epochs,
    reads_x_outside_the_kernels, shuffle_window, takes_auto_step,
)

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


def lean_copy(estimator):
    """The estimator as the chunks' tasks need it: its parameters and its classes,
    not the model of an earlier fit (which would travel with every task)."""
    from sklearn.base import clone

    copy = clone(estimator)
    for name in ("classes_", "_class_weight"):
        if hasattr(estimator, name):
            setattr(copy, name, getattr(estimator, name))
    return copy


def chunk_targets(estimator, y, w, dtype):
    """The keyword arguments of one chunk's ``Targets``: y encoded (classes or
    values) and the weights; runs on a worker."""
    encoded, _ = estimator._encode_targets(y, dtype, fitting=False)
    encoded["sample_weight"] = (None if w is None
                                else np.ascontiguousarray(w, dtype=dtype))
    return encoded


def chunk_problem(estimator, X, targets, dtype):
    """(loss, Rows, Targets, X) of one chunk, on the worker that holds it."""
    X = chunk_matrix(X, dtype)
    return (estimator._loss()[1], Rows(X), Targets(dtype, X.shape[0], **targets), X)


def chunk_gradient(estimator, Xs, targets, dtype, coef, intercept):
    """Summed loss and gradient of a group of chunks at the model (runs on the worker
    that holds them)."""
    n_threads = effective_n_threads(estimator.n_jobs)
    sums = []
    for X, encoded in zip(Xs, targets):
        loss, rows, chunk_y, _ = chunk_problem(estimator, X, encoded, dtype)
        sums.append(GradientRunner(loss, rows, chunk_y, n_threads).run(coef, intercept))
    return add_sums(*sums)


def add_sums(*parts):
    """The sum of several (loss, gradient, intercept gradient) triples."""
    total, grad, grad_b = parts[0]
    grad, grad_b = grad.copy(), grad_b.copy()
    for t, g, gb in parts[1:]:
        total += t
        grad += g
        grad_b += gb
    return total, grad, grad_b


def chunk_sgd_epoch(estimator, Xs, targets, dtype, state, eta, seeds, kind):
    """One epoch of per-sample or mini-batch SGD over a run of chunks, one after the
    other, each in its own random order (``seeds``), from ``state`` (left unchanged);
    returns (the new state, each chunk's summed loss).  Runs on the worker that holds
    them."""
    state = state.copy()
    n_threads = effective_n_threads(estimator.n_jobs)
    losses = []
    for X, encoded, seed in zip(Xs, targets, seeds):
        loss, rows, chunk_y, X = chunk_problem(estimator, X, encoded, dtype)
        rule = make_step_rule(estimator, rows.sparse,
                              effective_learning_rate(estimator))
        if kind == "minibatch":
            runner = MiniBatchRunner(loss, rows, chunk_y, rule, n_threads,
                                     estimator.batch_size)
        else:
            runner = PerSampleRunner(loss, rows, chunk_y, rule, n_threads)
        order = VisitingOrder(np.arange(rows.n_rows, dtype=np.int32), rows.n_rows,
                              estimator.shuffle, shuffle_window(estimator, X),
                              chunk_y.n_models, n_threads)
        order.reshuffle(seed)
        losses.append(float(runner.run(state, order, eta)))
    return state, losses


def consecutive_runs(order, holders):
    """The chunks of the visiting ``order`` (indices) cut into runs that one task each
    trains on: consecutive chunks held by the same worker (``holders``, from
    ``chunk_holders``), or every chunk alone (``holders`` None: chunks computed from
    files or other tasks, or Dask's local schedulers).  The runs only group the work:
    the chunks are visited in ``order`` whatever the runs."""
    runs = []
    for i in order:
        i = int(i)
        if runs and holders is not None and holders[runs[-1][-1]] == holders[i]:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def chunk_groups(holders, n_chunks):
    """The chunks as groups whose gradients one task each sums: the chunks held by
    each worker (``holders``, from ``chunk_holders``; persisted data: one task per
    worker, no chunk moves), or every chunk alone (chunks computed from files or other
    tasks, or Dask's local schedulers: a task then holds one chunk at a time)."""
    if holders is None:
        return [[i] for i in range(n_chunks)]
    groups = {}
    for i, holder in enumerate(holders):
        groups.setdefault(holder, []).append(i)
    return [groups[h] for h in sorted(groups)]


def balanced_holders(holders, rows, workers):
    """Which worker each chunk's task runs on so that the workers' rows are about
    even: chunks move, one at a time, from the worker with the most rows to the one
    with the fewest while that narrows the gap (a chunk goes where it was when the
    placement is even already).

    Parameters
    ----------
    holders : list of str
        The worker that holds each chunk (``chunk_holders``).
    rows : list of int
        Each chunk's rows.
    workers : iterable of str
        Every worker of the cluster (one that holds nothing may take chunks).

    Returns
    -------
    list of str
    """
    assigned = list(holders)
    load = {w: 0 for w in set(workers) | set(holders)}
    for holder, n in zip(holders, rows):
        load[holder] += n
    for _ in range(len(holders)):
        most = max(load, key=lambda w: (load[w], w))
        least = min(load, key=lambda w: (load[w], w))
        gap = load[most] - load[least]
        # the chunk of the busiest worker that brings the two closest together
        candidates = [i for i, w in enumerate(assigned) if w == most and rows[i] < gap]
        if not candidates:
            break
        i = min(candidates, key=lambda i: (abs(gap - 2 * rows[i]), i))
        assigned[i] = least
        load[most] -= rows[i]
        load[least] += rows[i]
    return assigned


def held_copy(chunk):
    """A chunk, as a task whose result stays on the worker that ran it."""
    return chunk


class ChunkPlacement:
    """Where the chunks' tasks run, and what they take: the estimator
    (``lean_copy``), each chunk's X (a delayed object, or a future of a copy on
    another worker) and its encoded targets (``chunk_targets``).

    With X's chunks held by the workers of a ``distributed`` client
    (``chunk_holders``):

    * the targets are encoded once per fit, each on the worker that runs its chunk's
      task (where y's chunk may not be), and kept there as futures: the epochs
      neither move y between workers nor encode it again;
    * with ``balance``, chunks are assigned so that every worker has about the same
      rows (``balanced_holders``): a solver of the whole objective waits at every
      evaluation for the busiest worker, and Dask's placement of persisted chunks
      may be uneven (2 and 6 chunks of 8 were seen on 2 workers).  A moved chunk is
      copied once per fit to its new worker (released with the fit): memory for the
      fit grows by the imbalance, at most a worker's share of X.

    Otherwise each graph encodes the targets as it goes (a chunk read from files is
    read when the model reaches it).

    Parameters
    ----------
    estimator : SGDRegressor or SGDClassifier
    data : ChunkedData
    balance : bool, default=False

    Attributes
    ----------
    estimator : SGDRegressor or SGDClassifier
        As the tasks take it; ``estimator_bytes``: its pickled size.
    holders : list of str or None
        The worker each chunk's task runs on (None: the chunks are not data on
        workers).
    X : list
        Each chunk's X as the tasks take it.
    moved : int
        How many chunks were copied to another worker.
    """

    def __init__(self, estimator, data, balance=False):
        import dask

        self.estimator = estimator = lean_copy(estimator)
        self.estimator_bytes = _nbytes(estimator)
        holders = chunk_holders(data)
        ys = data.y if data.y is not None else [None] * len(data.X)
        ws = (data.sample_weight if data.sample_weight is not None
              else [None] * len(data.X))
        self.targets = [dask.delayed(chunk_targets, pure=True)(estimator, y, w,
                                                               data.dtype)
                        for y, w in zip(ys, ws)]
        self.X, self.holders, self.moved = list(data.X), holders, 0
        if holders is None:
            return
        from distributed import default_client

        client = default_client()
        if balance:
            workers = client.scheduler_info()["workers"]
            self.holders = balanced_holders(holders, data.chunk_rows, workers)
            for i, (was, now) in enumerate(zip(holders, self.holders)):
                if was != now:
                    self.X[i] = client.compute(
                        dask.delayed(held_copy, pure=False)(data.X[i]),
                        workers=[now], allow_other_workers=True)
                    self.moved += 1
        self.targets = [client.compute(t, workers=[h], allow_other_workers=True)
                        for t, h in zip(self.targets, self.holders)]

    @property
    def groups(self):
        """The chunks whose gradients one task each sums (``chunk_groups``)."""
        return chunk_groups(self.holders, len(self.X))

    def of(self, group):
        """(X, targets) of the chunks ``group`` (indices), as lists."""
        return [self.X[i] for i in group], [self.targets[i] for i in group]


class ClusterEpochs:
    """SGD epochs over the chunks, one graph (one round trip) per epoch: the callable
    and the visiting order (``reshuffle``) of ``run_epochs``.

    Each epoch visits the chunks in a random order drawn from the epoch's seed alone
    (``visiting_order``), so the model does not depend on which worker holds which
    chunk; consecutive chunks on the same worker are one task
    (``consecutive_runs``), and the state moves between workers between runs.

    Parameters
    ----------
    estimator : SGDRegressor or SGDClassifier
    data : ChunkedData
    state : TrainingState
        Replaced by the state the last chunk hands back, after every epoch.
    kind : {"per_sample", "minibatch"}
    traffic : Traffic
    """

    converged = False

    def __init__(self, estimator, data, state, kind, traffic):
        self.estimator, self.data, self.state = estimator, data, state
        self.kind, self.traffic = kind, traffic
        self.seed = 0
        # one worker trains at a time: no balance to keep
        self.placement = ChunkPlacement(estimator, data)

    def reshuffle(self, seed):
        self.seed = seed

    def visiting_order(self):
        """(the chunks' indices in the order of this epoch, each chunk's seed of its
        rows' order), from the epoch's seed only."""
        n_chunks = len(self.placement.X)
        rng = np.random.default_rng(self.seed)
        order = (rng.permutation(n_chunks) if self.estimator.shuffle
                 else np.arange(n_chunks))
        seeds = [int(s) for s in rng.integers(np.iinfo(np.int32).max, size=n_chunks)]
        return order, seeds

    def __call__(self, eta):
        import dask

        data, placement = self.data, self.placement
        order, seeds = self.visiting_order()
        runs = consecutive_runs(order, placement.holders)
        estimator = placement.estimator  # into each task: none of its own to fetch
        state, losses = self.state.copy(), []
        tasks = [(*placement.of(run), [seeds[i] for i in run]) for run in runs]
        on_workers = placement.holders is not None
        if on_workers:
            # the chunks are data on the workers: the epoch is one graph
            for Xs, targets, run_seeds in tasks:
                state, run_losses = dask.delayed(chunk_sgd_epoch, nout=2, pure=True)(
                    estimator, Xs, targets, data.dtype, state, eta, run_seeds,
                    self.kind)
                losses.append(run_losses)
            state, losses = dask.compute(state, losses)
        else:
            # chunks computed by tasks (read from files, say): one graph per chunk,
            # so that a chunk is read when the model reaches it and a worker holds
            # one chunk at a time, not its share of X (a single graph would let the
            # scheduler read every chunk ahead of the chain)
            for Xs, targets, run_seeds in tasks:
                state, run_losses = dask.compute(dask.delayed(
                    chunk_sgd_epoch, nout=2)(estimator, Xs, targets, data.dtype,
                                             state, eta, run_seeds, self.kind))[0]
                losses.append(run_losses)
        size = _nbytes(state)
        self.traffic.add(round_trips=1 if on_workers else len(tasks),
                         sent=(placement.estimator_bytes + size) * len(tasks),
                         received=size + 8 * len(order))
        self.state.restore(state)
        # added in the visiting order: the same sum whatever the runs
        total = float(sum(loss for run_losses in losses for loss in run_losses))
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported
            return (total / max(data.n_rows, 1)
                    + regularisation(self.estimator, self.state.coef,
                                     self.state.intercept))


def chunk_holders(data):
    """The worker that holds each chunk of X (the first, where several do), or None
    when a chunk is not held by a worker of a ``distributed`` client (a collection
    not persisted, Dask's local schedulers)."""
    try:
        from distributed import default_client, futures_of

        client = default_client()
    except (ImportError, ValueError):
        return None
    futures = {future.key: future for future in futures_of(data.array)}
    if not all(chunk.key in futures for chunk in data.X):
        return None  # a chunk that is still a task, not data on a worker
    try:
        held = client.who_has([futures[chunk.key] for chunk in data.X])
    except Exception:  # a client that lost its scheduler: place nothing
        return None
    holders = [sorted(held.get(chunk.key) or ()) for chunk in data.X]
    if not all(holders):
        return None
    return [h[0] for h in holders]


class NoOrder:
    """The visiting order of the solvers of the whole objective: none."""

    def reshuffle(self, seed):
        pass


def summed_gradient(estimator, data, traffic):
    """``(coef, intercept) -> (loss, gradient, intercept gradient)`` summed over the
    groups of chunks (``chunk_groups``) on the workers, the groups' sums added by a
    tree reduction; one round trip per call."""
    import dask

    placement = ChunkPlacement(estimator, data, balance=True)
    estimator, groups = placement.estimator, placement.groups

    def loss_and_gradient(coef, intercept):
        # the estimator and the model go into each group's task (one per worker):
        # as tasks of their own they would cost round trips between the workers
        intercept = np.ascontiguousarray(intercept, np.float64)
        parts = [dask.delayed(chunk_gradient, pure=False)(
                     estimator, *placement.of(group), data.dtype, coef, intercept)
                 for group in groups]
        while len(parts) > REDUCTION_FAN_IN:
            parts = [dask.delayed(add_sums, pure=True)(*parts[k:k + REDUCTION_FAN_IN])
                     for k in range(0, len(parts), REDUCTION_FAN_IN)]
        # the last addition on the client: a hop between workers less
        result = add_sums(*dask.compute(*parts))
        traffic.add(round_trips=1,
                    sent=(placement.estimator_bytes + coef.nbytes + intercept.nbytes)
                    * len(groups), received=_nbytes(result) * len(groups))
        return result

    return loss_and_gradient


def needs_largest_row(estimator):
    """Whether the fit's step needs the largest row of X (``auto_eta`` for a loss of
    unbounded slope), which costs a pass over X before training."""
    return (takes_auto_step(estimator)
            and OPTIMIZER_SPECS[estimator.optimizer].auto_step is None
            and not loss_spec(estimator).bounded_slope)


def train_on_cluster(estimator, data, problem, state, max_iter, partial):
    """``_training.train`` on the chunks of ``data`` (a ``ChunkedData`` whose
    ``summarise`` ran): ``problem`` is the sample of rows it kept (each chunk's task
    makes its own step rule).

    Returns
    -------
    Result, Traffic
    """
    with input_kept(data.inputs):
        return _train_on_cluster(estimator, data, problem, state, max_iter, partial)


def _train_on_cluster(estimator, data, problem, state, max_iter, partial):
    """``train_on_cluster``, without the error for lost input."""
    e, summary = estimator, data.summary
    kind = algorithm(e)
    if reads_x_outside_the_kernels(e, kind):  # before NumPy reads the sample of X
        data.check_finite(e)
    n_threads = effective_n_threads(e.n_jobs)
    traffic = Traffic()
    curvature = problem.spec.curvature * problem.class_scale
    if kind in WHOLE_OBJECTIVE:
        lam1, lam2 = penalty_strengths(e)
        method = full_batch_method(e)
        sample_weight = problem.sample_weight
        sample_total = (float(np.sum(sample_weight)) if sample_weight is not None
                        else float(problem.rows.n_rows))
        lipschitz = (None if method == "lbfgs" else
                     lambda: block_lipschitz(problem.X, sample_weight, curvature,
                                             sample_total))
        epochs = FullBatchEpochs(summed_gradient(e, data, traffic),
                                 summary.total_weight, state, lipschitz, problem.spec,
                                 lam1, lam2, e.fit_intercept, method)
        order = NoOrder()
    else:
        epochs = order = ClusterEpochs(e, data, state, kind, traffic)
        if takes_auto_step(e) and state.auto_eta is None:
            batch = e.batch_size if kind == "minibatch" else 1
            state.auto_eta = auto_eta(e, problem.X, problem.sample_weight, curvature,
                                      batch, problem.spec.bounded_slope,
                                      n_rows=summary.rows,
                                      largest_row=summary.largest_row)
    sample_rows = np.arange(problem.rows.n_rows, dtype=np.int32)
    constant = (constant_objective(problem, sample_rows, n_threads)
                if kind not in WHOLE_OBJECTIVE else None)
    counting = _CountEpochs(epochs, traffic)
    result = run_epochs(e, problem, state, counting, order, kind, constant,
                        sample_rows, np.empty(0, np.int32), max_iter, partial,
                        n_threads, check_input=lambda: data.check_finite(e))
    return result, traffic


class _CountEpochs:
    """An epoch callable that starts a new epoch of the traffic count first."""

    def __init__(self, epochs, traffic):
        self.epochs, self.traffic = epochs, traffic

    @property
    def converged(self):
        return self.epochs.converged

    def __call__(self, eta):
        self.traffic.new_epoch()
        return self.epochs(eta)
