"""Replica schemes for one model's per-sample SGD, measured for model quality: k
replicas are simulated one after another with the one-thread kernel on slices of each
round (the same arithmetic as threads would do, so any machine runs it), then mixed.
The figures in the design notes of ``fastgd/_kernels/_sgd.pyx`` come from here.

    python benchmarks/replicas.py sparse|dense [--k 16] [--seeds 3]

Schemes (``--scheme``): ``mean`` (average the replicas, each step counter advancing
``--rate`` per local step: 1 is the replica's own count, k the whole round's),
``add`` (add the replicas' updates), ``touched`` (per feature, the mean over the
replicas whose rows hold it, weighted by how often).  ``--rows`` is the rows per
replica between two mixes.
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import fastgd  # noqa: E402
from fastgd._training import loop, runners, step_rule  # noqa: E402
from fastgd._kernels._shuffle import VisitingOrder  # noqa: E402
from fastgd._training.state import TrainingState  # noqa: E402


class ReplicaRunner:
    """A stand-in for ``PerSampleRunner``: k replicas per round, mixed by a scheme."""

    k, scheme, rows, X = 16, "mean", 8192, None

    def __init__(self, loss, X, targets, rule, n_threads):
        self.one = runners.PerSampleRunner(loss, X, targets, rule, 1)
        self.n_rows = X.n_rows

    def run(self, state, order, eta):
        rows, k, total, start = np.asarray(order.order), self.k, 0.0, 0
        while start < len(rows):
            end = min(start + self.rows * k, len(rows))
            # as the old kernel: a short last round (under 1024 rows, or a full round's
            # rows, per replica) runs on one replica
            short = end - start < k * min(1024, self.rows)
            parts = np.array_split(rows[start:end], 1 if short else k)
            reps = []
            for part in parts:
                r = TrainingState(coef=state.coef.copy(), scalars=state.scalars.copy(),
                                  avg_sum=np.zeros_like(state.avg_sum),
                                  l1_received=state.l1_received.copy(),
                                  optimizer_state=state.optimizer_state.copy())
                r.scalars["avg_count"] = r.scalars["avg_intercept_sum"] = 0
                self.one.run(r, VisitingOrder(np.ascontiguousarray(part), self.n_rows,
                                              False, 1), eta)
                reps.append(r)
            W = np.stack([r.coef for r in reps])
            B = np.array([r.scalars["intercept"] for r in reps])
            w0, b0 = state.coef.copy(), state.scalars["intercept"].copy()
            if self.scheme == "add":
                state.coef[:] = w0 + (W - w0).sum(0)
                state.scalars["intercept"] = b0 + (B - b0).sum(0)
            elif self.scheme == "touched":
                counts = np.stack([np.bincount(self.X[p].indices,
                                               minlength=self.X.shape[1])
                                   for p in parts]).astype(float)
                seen = counts.sum(0)
                weight = np.where(seen > 0, counts / np.maximum(seen, 1),
                                  1.0 / len(parts))
                state.coef[:] = (weight[:, None, :] * W).sum(0)
                state.scalars["intercept"] = B.mean(0)
            else:
                state.coef[:] = W.mean(0)
                state.scalars["intercept"] = B.mean(0)
            state.scalars["t"] = max(r.scalars["t"][0] for r in reps)
            state.avg_sum += sum(r.avg_sum for r in reps)
            for name in ("avg_count", "avg_intercept_sum"):
                state.scalars[name] += sum(r.scalars[name] for r in reps)
            total += sum(r.scalars["sum_loss"].sum() for r in reps)
            start = end
        state.scalars["sum_loss"] = total
        return total


def yardstick_sparse(n=400_000, d=50_000, draws=75):
    """The sparse problem of ``shared/tools/perf.py`` (Zipf features, unit-norm rows,
    a 10%-dense random model), drawn the same way."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, d + 1) ** 1.1
    idx = rng.choice(d, size=n * draws, p=p / p.sum())
    X = sp.csr_matrix((rng.random(n * draws), idx, np.arange(0, n * draws + 1, draws)),
                      shape=(n, d))
    X.sum_duplicates()
    X = (sp.diags(1 / np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())) @ X).tocsr()
    w = rng.standard_normal(d) * (rng.random(d) < 0.1)
    return X, (X @ w + 0.01 * rng.standard_normal(n) > 0).astype(int)


def counter_rate(rate):
    """A StepRule maker whose step counter advances ``rate`` per step ('optimal')."""
    make = step_rule.StepRule

    def rule(**kw):
        kw["alpha"], kw["t0"] = kw["alpha"] * rate, kw["t0"] / rate
        return make(**kw)
    return rule


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", choices=["sparse", "dense"])
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--scheme", choices=["mean", "add", "touched"], default="mean")
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--rate", type=float, default=1.0)
    p.add_argument("--seeds", type=int, default=3)
    args = p.parse_args(argv)
    ReplicaRunner.k, ReplicaRunner.scheme, ReplicaRunner.rows = (
        args.k, args.scheme, args.rows)
    step_rule.StepRule = counter_rate(args.rate)
    if args.k > 1:
        loop.PerSampleRunner = ReplicaRunner
    rng = np.random.default_rng(0)
    if args.case == "sparse":
        X, y = yardstick_sparse()
        ReplicaRunner.X = X
        acc = [fastgd.SGDClassifier(loss="log_loss", alpha=1e-6, max_iter=5, tol=None,
                                    random_state=s).fit(X, y).score(X, y)
               for s in range(args.seeds)]
        print(f"sparse k={args.k} {args.scheme} rows={args.rows} rate={args.rate}: "
              f"accuracy {np.mean(acc):.4f} {np.round(acc, 4)}")
        return
    from sklearn.linear_model import LogisticRegression
    # perf.py's tta data: its dense problem, labels from a second random model
    data = np.random.default_rng(0)
    X = data.standard_normal((500_000, 100))
    data.standard_normal(100)
    y = (X @ rng.standard_normal(100) + rng.standard_normal(len(X)) > 0).astype(int)
    alpha, s = 1e-4, 2 * y - 1

    def objective(coef, b):
        c = np.ravel(coef)
        return np.mean(np.logaddexp(0, -s * (X @ c + b))) + alpha / 2 * c @ c

    exact = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-10, max_iter=1000)
    exact.fit(X, y)
    best = objective(exact.coef_, exact.intercept_[0])
    for average in (False, True):
        m = fastgd.SGDClassifier(loss="log_loss", alpha=alpha, max_iter=5, tol=None,
                                 random_state=0, average=average).fit(X, y)
        gap = (objective(m.coef_, m.intercept_[0]) - best) / best
        print(f"dense k={args.k} {args.scheme} rows={args.rows} rate={args.rate} "
              f"average={average}: gap {gap:.3e}")


if __name__ == "__main__":
    main()
