"""Where the tasks of a fit on a Dask cluster run: which worker holds each chunk
(``chunk_holders``), the chunks moved so that the workers' rows are even
(``balanced_holders``), the runs of consecutive chunks one SGD task trains on
(``consecutive_runs``) and the groups one gradient task sums (``chunk_groups``), and
each chunk's targets encoded once per fit where its task runs (``ChunkPlacement``).
"""
import numpy as np


def chunk_targets(encoding, y, w, dtype):
    """The keyword arguments of one chunk's ``Targets``: y encoded (classes or
    values) and the weights; runs on a worker."""
    encoded, _ = encoding.encode(y, dtype)
    encoded["sample_weight"] = (None if w is None
                                else np.ascontiguousarray(w, dtype=dtype))
    return encoded


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
    """Where the chunks' tasks run, and what they take: each chunk's X (a delayed
    object, or a future of a copy on another worker) and its encoded targets
    (``chunk_targets``).

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
    encoding : TargetEncoding
        How each chunk's y becomes its targets.
    data : ChunkedData
    balance : bool, default=False

    Attributes
    ----------
    holders : list of str or None
        The worker each chunk's task runs on (None: the chunks are not data on
        workers).
    X : list
        Each chunk's X as the tasks take it.
    moved : int
        How many chunks were copied to another worker.
    """

    def __init__(self, encoding, data, balance=False):
        import dask

        holders = chunk_holders(data)
        ys = data.y if data.y is not None else [None] * len(data.X)
        ws = (data.sample_weight if data.sample_weight is not None
              else [None] * len(data.X))
        self.targets = [dask.delayed(chunk_targets, pure=True)(encoding, y, w,
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
