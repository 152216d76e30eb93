"""Replica schemes for one model's per-sample SGD, measured for model quality: k
replicas are simulated one after another with the one-thread kernel on slices of each
round (the same arithmetic as threads would do, so any machine runs it), then mixed.
The figures in the design notes of ``fastgd/_kernels/_sgd.pyx`` come from here.

    python benchmarks/replicas.py sparse|dense [--k 16] [--seeds 3]

Schemes (``--scheme``): ``mean`` (average the replicas, each step counter advancing
``--rate`` per local step: 1 is the replica's own count, k the whole round's),
``add`` (add the replicas' updates), ``touched`` (sparse rows: per feature, the mean
over the replicas whose rows hold it, weighted by how often).  ``--rows`` is the rows
per replica between two mixes.

The epochs run here, on the kernels' runner (``PerSampleRunner``) and training state,
not through the estimator: ``fit_logistic`` builds the step rule, the targets and the
visiting order that ``fastgd.SGDClassifier(loss="log_loss", shuffle_window=32)``
builds, so that with one replica it trains the estimator's model, bit for bit
(``tests/test_bench_replicas.py`` checks it).  Its settings are those of the
estimator's defaults on these problems: the ``'optimal'`` schedule, the intercept's
steps 100 times smaller on sparse X, windows of 32 rows (``shuffle_window='auto'`` on
an X of over 32 MiB).
"""
import argparse
import pathlib
import sys

import numpy as np
from sklearn.utils import check_random_state

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from fastgd._kernels._enums import Schedule  # noqa: E402
from fastgd._kernels._losses import LogLoss  # noqa: E402
from fastgd._kernels._shuffle import VisitingOrder  # noqa: E402
from fastgd._kernels._structs import Rows, StepRule, Targets  # noqa: E402
from fastgd._training.runners import PerSampleRunner  # noqa: E402
from fastgd._training.state import TrainingState  # noqa: E402
from fastgd.bench.synthetic import sparse_classification  # noqa: E402
from fastgd.bench.time_to_gap import GapProblem  # noqa: E402

# the estimator's settings these fits copy (see the module's docstring)
SPARSE_INTERCEPT_DECAY = 0.01
WINDOW_ROWS = 32
ETA0, POWER_T = 0.01, 0.5  # SGDClassifier's defaults: 'optimal' does not read them


class ReplicaRunner:
    """A stand-in for ``PerSampleRunner``: k replicas per round, mixed by a scheme.

    Parameters
    ----------
    loss, X, targets, rule
        As for ``PerSampleRunner`` (``X``: the kernels' ``Rows``).
    k : int
        Replicas per round.
    scheme : {"mean", "add", "touched"}
        How the replicas are mixed at the end of a round.
    rows : int
        Rows per replica in a round.
    X_csr : scipy.sparse.csr_matrix or None
        The rows as a matrix: the ``touched`` scheme counts the features they hold.
    """

    def __init__(self, loss, X, targets, rule, k, scheme, rows, X_csr=None):
        if scheme == "touched" and X_csr is None:
            raise ValueError("the 'touched' scheme counts the features of sparse rows: "
                             "run it on the sparse case")
        self.one = PerSampleRunner(loss, X, targets, rule, 1)
        self.n_rows = X.n_rows
        self.k, self.scheme, self.rows, self.X_csr = k, scheme, rows, X_csr

    def run(self, state, order, eta):
        """One epoch over ``order`` in rounds of ``k`` replicas; trains ``state`` in
        place and returns the summed loss met before each step."""
        rows, k, total, start = np.asarray(order.order), self.k, 0.0, 0
        while start < len(rows):
            end = min(start + self.rows * k, len(rows))
            # as the old kernel: a short last round (under 1024 rows, or a full round's
            # rows, per replica) runs on one replica
            short = end - start < k * min(1024, self.rows)
            parts = np.array_split(rows[start:end], 1 if short else k)
            reps = [self._replica(state, part, eta) for part in parts]
            self._mix(state, reps, parts)
            state.scalars["t"] = max(r.scalars["t"][0] for r in reps)
            state.avg_sum += sum(r.avg_sum for r in reps)
            for name in ("avg_count", "avg_intercept_sum"):
                state.scalars[name] += sum(r.scalars[name] for r in reps)
            total += sum(r.scalars["sum_loss"].sum() for r in reps)
            start = end
        state.scalars["sum_loss"] = total
        return total

    def _replica(self, state, part, eta):
        """A copy of ``state`` (its averages empty) trained over the rows ``part``."""
        r = TrainingState(coef=state.coef.copy(), scalars=state.scalars.copy(),
                          avg_sum=np.zeros_like(state.avg_sum),
                          l1_received=state.l1_received.copy(),
                          optimizer_state=state.optimizer_state.copy())
        r.scalars["avg_count"] = r.scalars["avg_intercept_sum"] = 0
        order = VisitingOrder(np.ascontiguousarray(part), self.n_rows, False, 1)
        self.one.run(r, order, eta)
        return r

    def _mix(self, state, reps, parts):
        """Set the model of ``state`` from its replicas ``reps`` by the scheme."""
        W = np.stack([r.coef for r in reps])
        B = np.array([r.scalars["intercept"] for r in reps])
        w0, b0 = state.coef.copy(), state.scalars["intercept"].copy()
        if self.scheme == "add":
            state.coef[:] = w0 + (W - w0).sum(0)
            state.scalars["intercept"] = b0 + (B - b0).sum(0)
            return
        if self.scheme == "touched":
            counts = np.stack([np.bincount(self.X_csr[p].indices,
                                           minlength=self.X_csr.shape[1])
                               for p in parts]).astype(float)
            seen = counts.sum(0)
            weight = np.where(seen > 0, counts / np.maximum(seen, 1), 1.0 / len(parts))
            state.coef[:] = (weight[:, None, :] * W).sum(0)
        else:
            state.coef[:] = W.mean(0)
        state.scalars["intercept"] = B.mean(0)


def optimal_t0(alpha):
    """The offset of the ``'optimal'`` schedule for the log loss (Bottou's heuristic,
    as the estimator computes it): the first step is the one a typical weight
    ``1 / sqrt(alpha)`` calls for."""
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    _, d = LogLoss().value_and_derivative([-typw], [1.0])
    eta_init = typw / max(1.0, d[0])
    return 1.0 / (eta_init * alpha)


def fit_logistic(X, y, alpha, epochs, random_state, average=False, replicas=None,
                 rate=1.0):
    """Per-sample SGD of the L2-penalised log loss, on one model or on replicas.

    Without ``replicas`` and with ``rate=1`` the model is
    ``fastgd.SGDClassifier(loss="log_loss", alpha=alpha, max_iter=epochs, tol=None,
    random_state=random_state, average=average, shuffle_window=32)``'s.

    Parameters
    ----------
    X : ndarray or CSR matrix of float64, shape (n, d)
    y : ndarray of shape (n,)
        Two classes.
    alpha : float
    epochs : int
    random_state : int
    average : bool, default=False
        Averaged SGD (the model returned is the average of the iterates).
    replicas : dict or None, default=None
        ``k``, ``scheme`` and ``rows`` of a ``ReplicaRunner`` to train with; None:
        the one-model runner.
    rate : float, default=1.0
        How far a replica's step counter advances per local step.

    Returns
    -------
    coef : ndarray of shape (1, d)
    intercept : ndarray of shape (1,)
    """
    n, d = X.shape
    X_rows = Rows(X)
    y_class = np.unique(y, return_inverse=True)[1].astype(np.int32)
    targets = Targets(X.dtype, n, [1], [1.0], 1.0, y_class=y_class, n_classes=2)
    # a counter advancing ``rate`` per step: 1 / (alpha (t0 + t)) becomes
    # 1 / (alpha (t0 + rate t))
    rule = StepRule(schedule=Schedule.OPTIMAL, eta0=ETA0, power_t=POWER_T,
                    alpha=alpha * rate, t0=optimal_t0(alpha) / rate, lam1=0.0,
                    lam2=alpha, average_start=1.0 if average else 0.0,
                    fit_intercept=True,
                    intercept_decay=SPARSE_INTERCEPT_DECAY if X_rows.sparse else 1.0)
    state = TrainingState.start(1, d, X.dtype, rule)
    loss = LogLoss()
    runner = (PerSampleRunner(loss, X_rows, targets, rule, 1) if replicas is None else
              ReplicaRunner(loss, X_rows, targets, rule, **replicas,
                            X_csr=X if X_rows.sparse else None))
    order = VisitingOrder(np.arange(n, dtype=np.int32), n, True, WINDOW_ROWS)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    for epoch in range(epochs):
        order.reshuffle(seed + epoch)
        runner.run(state, order, ETA0)
    return state.model(average)


def accuracy(X, y, coef, intercept):
    """The share of rows whose class the model's sign gives (y: 0 / 1)."""
    margin = np.asarray(X @ np.ravel(coef)).ravel() + float(intercept[0])
    return float(np.mean((margin > 0) == (y == 1)))


def dense_problem(n=500_000, d=100):
    """The dense L2-logistic problem of the design notes' figures: X standard normal
    (seed 0), labels from the model that a second generator of seed 0 draws, plus unit
    noise."""
    data = np.random.default_rng(0)
    X = data.standard_normal((n, d))
    model = np.random.default_rng(0)
    y = (X @ model.standard_normal(d) + model.standard_normal(n) > 0).astype(int)
    return X, y


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", choices=["sparse", "dense"])
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--scheme", choices=["mean", "add", "touched"], default="mean")
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--rate", type=float, default=1.0)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--n-samples", type=int, default=None,
                   help="rows of the problem (default: 400,000 sparse, 500,000 dense)")
    args = p.parse_args(argv)
    # one replica is the model's own runner
    settings = dict(rate=args.rate, replicas=None if args.k == 1 else dict(
        k=args.k, scheme=args.scheme, rows=args.rows))
    what = f"k={args.k} {args.scheme} rows={args.rows} rate={args.rate}"
    if args.case == "sparse":
        # Zipf features, unit-norm rows, labels of a 10%-dense random model
        X, y = sparse_classification(args.n_samples or 400_000, 50_000, 75,
                                     np.random.default_rng(0))
        acc = [accuracy(X, y, *fit_logistic(X, y, 1e-6, 5, s, **settings))
               for s in range(args.seeds)]
        print(f"sparse {what}: accuracy {np.mean(acc):.4f} {np.round(acc, 4)}")
        return
    X, y = dense_problem(args.n_samples or 500_000)
    problem = GapProblem("dense", X, y, 1e-4, "logistic")
    for average in (False, True):
        coef, intercept = fit_logistic(X, y, 1e-4, 5, 0, average=average,
                                       **settings)
        print(f"dense {what} average={average}: gap "
              f"{problem.gap(coef, intercept):.3e}")


if __name__ == "__main__":
    main()
