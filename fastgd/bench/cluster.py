"""``python -m fastgd bench --dask``: time to a relative objective gap on a Dask
cluster, fastgd next to dask-ml on the same persisted chunks.

A ``distributed.LocalCluster`` (``--workers`` processes of 1 thread each) holds X and y
in chunks of ``--chunk-rows`` rows.  Problems: L2-logistic (alpha 1e-4) on dense data
(the data of ``time_to_gap``) and on sparse data (Zipf features, unit rows).  Each
contender is fitted from scratch with growing budgets, as in ``time_to_gap``; the
table gives the time of the first budget that reached each relative gap ``(F - F*) /
F*`` (``F*`` from scikit-learn's lbfgs on the NumPy arrays), the gap and training
accuracy of the last fit, and for fastgd on the cluster the scheduler round trips and
the bytes the client counted per epoch.  The workers' peak memory (VmHWM) is read
before and after fastgd's fits.

Contenders:

* fastgd on the cluster: ``batch_size="full", optimizer="lbfgs"``, averaged SGD
  (``learning_rate="invscaling", eta0=1.0, power_t=0.5``) and the per-sample defaults;
* fastgd on the client with ``n_jobs`` = the workers' threads, on the NumPy arrays:
  the cost of going through Dask;
* dask-ml's ``LogisticRegression``, every solver of dask-glm (``C = 1 / (alpha n)``;
  dask-glm also penalises the intercept, which these data barely use);
* dask-ml's ``Incremental(sklearn SGDClassifier(loss="log_loss"))``, budgets in passes.
"""
import time
import warnings

import numpy as np

from fastgd.bench.synthetic import dense_logistic, sparse_classification
from fastgd.bench.tables import markdown_row, markdown_table, show, time_to_goal, times
from fastgd.bench.time_to_gap import EPOCHS, GAPS, ITERATIONS, GapProblem

DASK_ML_SOLVERS = ("lbfgs", "newton", "admm", "proximal_grad", "gradient_descent")
DASK_ML_ITERATIONS = (3, 5, 10, 20, 40, 80)
PASSES = (1, 2, 3, 5, 8)


def _peak_mib():
    """This process's peak resident memory in MiB (Linux's VmHWM; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def persist_chunks(client, X, y, rows):
    """X and y persisted on the cluster in chunks of ``rows`` rows."""
    import dask.array as da
    from distributed import wait

    if hasattr(X, "indptr"):
        Xd = da.concatenate([da.from_array(X[a:a + rows], chunks=X[a:a + rows].shape,
                                           asarray=False)
                             for a in range(0, X.shape[0], rows)], axis=0)
    else:
        Xd = da.from_array(X, chunks=(rows, X.shape[1]))
    Xd, yd = client.persist([Xd, da.from_array(y, chunks=rows)])
    wait([Xd, yd])
    return Xd, yd


def _fastgd(problem, X, y, n_jobs=None, **settings):
    """fit(budget) of fastgd's SGDClassifier on X, y (Dask or NumPy arrays)."""
    import fastgd

    def fit(budget):
        m = fastgd.SGDClassifier(loss="log_loss", alpha=problem.alpha, max_iter=budget,
                                 tol=None, random_state=0, n_jobs=n_jobs,
                                 **settings).fit(X, y)
        return m.coef_, m.intercept_, m
    return fit


def _dask_ml(problem, X, y, solver):
    """fit(budget) of dask-ml's LogisticRegression with a dask-glm ``solver``."""
    from dask_ml.linear_model import LogisticRegression

    def fit(budget):
        m = LogisticRegression(penalty="l2", C=1.0 / (problem.alpha * problem.n),
                               solver=solver, max_iter=budget, tol=1e-12).fit(X, y)
        return m.coef_, np.atleast_1d(m.intercept_), m
    return fit


def _incremental(problem, X, y):
    """fit(budget) of dask-ml's Incremental scikit-learn SGDClassifier: ``budget``
    passes of ``partial_fit``."""
    import itertools

    from dask_ml.wrappers import Incremental
    from sklearn.linear_model import SGDClassifier

    # a new seed for every fit: dask-ml names its tasks after their inputs, and a fit
    # like the one before it would be served results the cluster still holds
    seeds = itertools.count()

    def fit(budget):
        seed = next(seeds)
        m = Incremental(SGDClassifier(loss="log_loss", alpha=problem.alpha,
                                      random_state=seed), random_state=seed)
        for _ in range(budget):
            m.partial_fit(X, y, classes=[0, 1])
        return m.estimator_.coef_, m.estimator_.intercept_, m
    return fit


def contenders(problem, Xd, yd, n_threads):
    """{name: (fit(budget) -> (coef, intercept, model), budgets, unit)}."""
    averaged = dict(average=True, learning_rate="invscaling", eta0=1.0, power_t=0.5)
    out = {
        "fastgd lbfgs, Dask": (_fastgd(problem, Xd, yd, batch_size="full",
                                       optimizer="lbfgs"), ITERATIONS, "it"),
        "fastgd averaged SGD, Dask": (_fastgd(problem, Xd, yd, **averaged), EPOCHS,
                                      "ep"),
        "fastgd SGD defaults, Dask": (_fastgd(problem, Xd, yd), EPOCHS, "ep"),
        f"fastgd lbfgs, NumPy, {n_threads} threads": (
            _fastgd(problem, problem.X, problem.y, n_jobs=n_threads,
                    batch_size="full", optimizer="lbfgs"), ITERATIONS, "it"),
        f"fastgd averaged SGD, NumPy, {n_threads} threads": (
            _fastgd(problem, problem.X, problem.y, n_jobs=n_threads, **averaged),
            EPOCHS, "ep"),
    }
    try:
        import dask_ml  # noqa: F401
    except ImportError:
        return out
    for solver in DASK_ML_SOLVERS:
        out[f"dask-ml {solver}"] = (_dask_ml(problem, Xd, yd, solver),
                                    DASK_ML_ITERATIONS, "it")
    out["dask-ml Incremental(sklearn SGD)"] = (_incremental(problem, Xd, yd), PASSES,
                                               "passes")
    return out


def measure(fit, budgets, problem, max_seconds):
    """(found, last): for each gap the (seconds, budget) of the first budget that
    reached it; the last fit's (gap, accuracy, traffic) or the error that stopped
    it.  A first fit of the smallest budget warms up (imports on the workers,
    first touch of the arrays) and is not timed."""
    found, last = {}, None
    for run_index, budget in enumerate((budgets[0],) + tuple(budgets)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            try:
                coef, intercept, model = fit(budget)
            except Exception as error:  # a solver that fails on these data
                last = f"{type(error).__name__}: {str(error).splitlines()[0][:60]}"
                break
            seconds = time.perf_counter() - start
        if run_index == 0:  # the warm-up
            continue
        gap = problem.gap(coef, intercept)
        margin = problem.X @ np.ravel(coef) + float(np.ravel(intercept)[0])
        accuracy = float(np.mean((margin > 0) == (problem.y > 0)))
        last = (gap, accuracy, getattr(model, "cluster_traffic_", None))
        for target in GAPS:
            if target not in found and gap <= target:
                found[target] = (seconds, budget)
        if len(found) == len(GAPS) or seconds > max_seconds:
            break
    return found, last


def problems(n_dense, n_sparse, rng):
    """The two problems: L2-logistic on ``n_dense`` dense rows and on ``n_sparse``
    sparse rows."""
    X, y = dense_logistic(n_dense, 100, rng)
    Xs, ys = sparse_classification(n_sparse, 50_000, 50, rng)
    return [GapProblem(f"L2-logistic dense {n_dense} x 100", X, y, 1e-4, "logistic"),
            GapProblem(f"L2-logistic sparse {n_sparse} x 50000", Xs, ys, 1e-4,
                       "logistic")]


def run(n_dense, n_sparse, workers, chunk_rows, max_seconds, markdown=None):
    """Start the cluster, run every contender on both problems, print the table."""
    from distributed import Client, LocalCluster

    rows = []
    for problem in problems(n_dense, n_sparse, np.random.default_rng(0)):
        # a cluster per problem: fresh workers, so their peak memory is this
        # problem's
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(lambda: __import__("fastgd"))
            print(f"LocalCluster: {workers} worker processes, 1 thread each; worker "
                  f"memory at start {max(client.run(_peak_mib).values()):.0f} MiB")
            Xd, yd = persist_chunks(client, problem.X, problem.y, chunk_rows)
            data_mib = problem.X.data.nbytes if hasattr(problem.X, "indptr") else (
                problem.X.nbytes)
            print(f"{problem.name}: X {data_mib / 2**20:.0f} MiB in chunks of "
                  f"{chunk_rows} rows")
            for name, (fit, budgets, unit) in contenders(problem, Xd, yd,
                                                         workers).items():
                found, last = measure(fit, budgets, problem, max_seconds)
                rows.append((problem.name, name, unit, found, last))
                print("  ", line(rows[-1], rows), flush=True)
                if name == "fastgd SGD defaults, Dask":
                    peak = max(client.run(_peak_mib).values())
                    rows.append((problem.name, "peak worker memory after fastgd's "
                                 f"Dask fits: {peak:.0f} MiB", "", None, None))
            del Xd, yd
    show(table(rows), markdown)
    return rows


def _best_dask_ml(rows, problem, gap):
    """The fastest dask-ml contender's seconds to ``gap`` on ``problem``, or None."""
    times = [r[3][gap][0] for r in rows if r[0] == problem and r[3]
             and r[1].startswith("dask-ml") and gap in r[3]]
    return min(times) if times else None


# the columns after the times and ratios
LAST_FIT = ("last fit's gap", "accuracy", "per epoch (fastgd on Dask)")


def _cells(row, rows):
    """The cells of one row of the table (``rows``: every row so far, for the
    ratios)."""
    problem, name, unit, found, last = row
    if found is None:  # a note across the row (the workers' peak memory)
        return [problem, name] + [""] * (2 * len(GAPS) + len(LAST_FIT))
    ratios = []
    for g in GAPS:
        best = _best_dask_ml(rows, problem, g)
        ratios.append(times(best / found[g][0] if name.startswith("fastgd")
                            and g in found and best else None, digits=1))
    if not isinstance(last, tuple):  # the error that stopped the contender
        end = [str(last), "", ""]
    else:
        gap, accuracy, traffic = last
        end = [f"{gap:.2e}", f"{accuracy:.4f}", ""]
        if traffic:
            end[2] = (f"{traffic['round_trips_per_epoch']:.2f} round trips, "
                      f"{traffic['bytes_sent_per_epoch'] / 1024:.1f} KiB sent, "
                      f"{traffic['bytes_received_per_epoch'] / 1024:.1f} KiB back")
    return ([problem, name] + [time_to_goal(found.get(g), unit, digits=2) for g in GAPS]
            + ratios + end)


def line(row, rows):
    """One row of the table as a Markdown line (printed as each contender finishes).

    Parameters
    ----------
    row : tuple
        (problem, contender, budget unit, ``measure``'s found, ``measure``'s last), or
        (problem, a note, "", None, None).
    rows : list of tuple
        Every row so far, ``row`` among them: the ratios compare with dask-ml's.

    Returns
    -------
    str
    """
    return markdown_row(_cells(row, rows))


def table(rows):
    """The lines of the table of ``run``'s rows, and its note.

    Parameters
    ----------
    rows : list of tuple
        As in ``line``.

    Returns
    -------
    lines : list of str
    """
    header = (["problem", "contender"] + [f"to {g:g}" for g in GAPS]
              + [f"best dask-ml / it, to {g:g}" for g in GAPS] + list(LAST_FIT))
    lines = markdown_table(header, [_cells(row, rows) for row in rows])
    lines.append("")
    lines.append("Time of the first budget (it: iterations, ep: epochs, passes) whose "
                 "fit, from scratch, reached the relative objective gap; same chunks, "
                 "one run.  Ratios: the fastest dask-ml contender's time over the "
                 "fastgd row's.")
    return lines
