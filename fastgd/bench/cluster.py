"""``python -m fastgd bench --dask``: time to a relative objective gap on a Dask
cluster, fastgd next to dask-ml on the same persisted chunks.

A ``distributed.LocalCluster`` (``--workers`` processes of 1 thread each) holds X and y
in chunks of ``--chunk-rows`` rows.  Problems: L2-logistic (alpha 1e-4) on dense data
(the data of ``time_to_gap``) and on sparse data (Zipf features, unit rows).  Each
contender is fitted from scratch with growing budgets, as in ``time_to_gap``; the
table gives the time of the first budget that reached each relative gap ``(F - F*) /
F*`` (1e-2, 1e-4, 1e-6; ``F*`` from scikit-learn's lbfgs on the arrays in memory), the
fastest dask-ml contender's time over a fastgd row's, a fastgd row's time on the
cluster over the same settings' time in memory, the gap (with its budget and time) and
training accuracy of the last fit, and for fastgd on the cluster the scheduler round
trips and the bytes the client counted per epoch; a summary per problem and gap
follows (the best of dask-ml, of fastgd on the cluster and of fastgd in memory, and
their ratios).  The workers' peak memory (VmHWM) is read after fastgd's fits on the
cluster, before dask-ml's input is made.

Contenders:

* fastgd in memory, on the client with ``n_jobs`` = the workers' threads, on the NumPy
  (dense) or SciPy CSR (sparse) arrays: the fit the cluster's is compared with;
* fastgd on the cluster, the same settings: ``batch_size="full"`` with
  ``optimizer="lbfgs"``, ``"newton"`` and ``"auto"``, averaged SGD
  (``learning_rate="invscaling", eta0=1.0, power_t=0.5``) and the per-sample defaults;
* dask-ml's ``LogisticRegression``, every solver of dask-glm (on sparse data lbfgs
  alone: ``DASK_ML_SPARSE_SOLVERS``), with ``C = 1 / (alpha n)`` (dask-glm
  minimises the summed loss plus ``|w|^2 / (2 C)``) and
  ``solver_kwargs={"normalize": False}``: by default dask-glm standardises the
  columns and penalises the standardised coefficients, another objective (on 20,000 x
  20 Gaussian rows its optimum's gap in ours is 5e-9; on the same columns scaled by
  0.2-5 and shifted, 1e-2).  dask-glm also penalises the intercept, which these data
  barely use (its optimum's gap in ours below 1e-7 on 20,000 rows of each kind).
  dask-ml's ``newton`` and ``gradient_descent`` take no penalty (dask-ml drops ``C``
  for them): they minimise the unpenalised loss, whose minimiser is scored on the
  penalised objective like the others'.  dask-glm needs 2-d operands for sparse
  products and dask-ml cannot add the intercept to sparse chunks, so on sparse data
  dask-ml gets the chunks as pydata ``sparse.COO`` with a column of ones appended
  (``fit_intercept=False``; the last coefficient is the intercept), persisted after
  fastgd's fits;
* dask-ml's ``Incremental(sklearn SGDClassifier(loss="log_loss"))``, budgets in passes.
"""
import time
import warnings

import numpy as np

from fastgd.bench.synthetic import dense_logistic, sparse_classification
from fastgd.bench.tables import markdown_row, markdown_table, show, time_to_goal, times
from fastgd.bench.time_to_gap import EPOCHS, ITERATIONS, GapProblem

GAPS = (1e-2, 1e-4, 1e-6)

DASK_ML_SOLVERS = ("lbfgs", "newton", "admm", "proximal_grad", "gradient_descent")
# on sparse chunks only lbfgs: admm took 198 s for 3 iterations on 50,000 x 50,000
# (its local L-BFGS on pydata sparse); newton builds the 50,001 x 50,001 Hessian (a
# worker's unmanaged memory reached 8.5 GiB on 500,000 rows, still running after
# minutes) and on 50,000 rows then failed in np.linalg.lstsq on it (a TypeError)
DASK_ML_SPARSE_SOLVERS = ("lbfgs",)
DASK_ML_ITERATIONS = (3, 5, 10, 20, 40, 80)
# fastgd's settings, each on the cluster and in memory
AVERAGED = dict(average=True, learning_rate="invscaling", eta0=1.0, power_t=0.5)
SETTINGS = {"lbfgs": (dict(batch_size="full", optimizer="lbfgs"), ITERATIONS, "it"),
            "newton": (dict(batch_size="full", optimizer="newton"), ITERATIONS,
                       "it"),
            "auto": (dict(batch_size="full", optimizer="auto"), ITERATIONS, "it"),
            "averaged SGD": (AVERAGED, EPOCHS, "ep"),
            "SGD defaults": ({}, EPOCHS, "ep")}
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


def _coo_with_ones(block):
    """A CSR chunk as pydata ``sparse.COO`` with a column of ones appended."""
    import scipy.sparse as sp
    import sparse

    ones = np.ones((block.shape[0], 1))
    return sparse.COO.from_scipy_sparse(sp.hstack([block, ones], format="csr"))


def dask_ml_chunks(client, Xd):
    """dask-ml's input: ``Xd`` itself when dense; sparse chunks as ``sparse.COO``
    with a column of ones appended (dask-glm's products need 2-d sparse operands and
    dask-ml cannot add the intercept to sparse chunks), persisted."""
    from distributed import wait

    if not hasattr(Xd._meta, "indptr"):
        return Xd
    import sparse

    Xc = Xd.map_blocks(_coo_with_ones, chunks=(Xd.chunks[0], (Xd.shape[1] + 1,)),
                       meta=sparse.COO.from_numpy(np.zeros((0, 0))))
    Xc = client.persist(Xc)
    wait(Xc)
    return Xc


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
    """fit(budget) of dask-ml's LogisticRegression with a dask-glm ``solver``, on X
    (or ``X()``, made at the first fit) without normalising it; X with the column of
    ones of ``dask_ml_chunks`` when sparse."""
    from dask_ml.linear_model import LogisticRegression

    def fit(budget):
        nonlocal X
        if callable(X):
            X = X()
        ones_column = X.shape[1] > problem.X.shape[1]
        m = LogisticRegression(penalty="l2", C=1.0 / (problem.alpha * problem.n),
                               solver=solver, max_iter=budget, tol=1e-12,
                               fit_intercept=not ones_column,
                               solver_kwargs={"normalize": False}).fit(X, y)
        if ones_column:
            coef = np.ravel(m.coef_)
            return coef[:-1], coef[-1:], m
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


def contenders(problem, Xd, yd, n_threads, Xm=None):
    """{name: (fit(budget) -> (coef, intercept, model), budgets, unit)}: fastgd in
    memory, fastgd on the cluster, then dask-ml (on ``Xm``, ``dask_ml_chunks``'s X or
    a function that returns it at dask-ml's first fit; ``Xd`` when None)."""
    out = {}
    for name, (settings, budgets, unit) in SETTINGS.items():
        out[f"fastgd {name}, in memory, {n_threads} threads"] = (
            _fastgd(problem, problem.X, problem.y, n_jobs=n_threads, **settings),
            budgets, unit)
    for name, (settings, budgets, unit) in SETTINGS.items():
        out[f"fastgd {name}, Dask"] = (_fastgd(problem, Xd, yd, **settings), budgets,
                                       unit)
    try:
        import dask_ml  # noqa: F401
    except ImportError:
        return out
    sparse = hasattr(problem.X, "indptr")
    for solver in DASK_ML_SPARSE_SOLVERS if sparse else DASK_ML_SOLVERS:
        out[f"dask-ml {solver}"] = (_dask_ml(problem, Xd if Xm is None else Xm, yd,
                                             solver), DASK_ML_ITERATIONS, "it")
    out["dask-ml Incremental(sklearn SGD)"] = (_incremental(problem, Xd, yd), PASSES,
                                               "passes")
    return out


def measure(fit, budgets, problem, max_seconds):
    """(found, last): for each gap the (seconds, budget) of the first budget that
    reached it; the last fit's (gap, accuracy, traffic, seconds, budget) or the
    error that stopped it.  A first fit of the smallest budget warms up (imports on
    the workers, first touch of the arrays) and is not timed."""
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
        last = (gap, accuracy, getattr(model, "cluster_traffic_", None), seconds,
                budget)
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
            made = []

            def Xm(Xd=Xd):  # dask-ml's chunks, persisted after fastgd's fits
                made.append(dask_ml_chunks(client, Xd))
                return made[-1]
            last_on_cluster = f"fastgd {list(SETTINGS)[-1]}, Dask"
            for name, (fit, budgets, unit) in contenders(problem, Xd, yd, workers,
                                                         Xm).items():
                found, last = measure(fit, budgets, problem, max_seconds)
                rows.append((problem.name, name, unit, found, last))
                print("  ", line(rows[-1], rows), flush=True)
                if name == last_on_cluster:
                    peak = max(client.run(_peak_mib).values())
                    rows.append((problem.name, "peak worker memory after fastgd's "
                                 f"Dask fits: {peak:.0f} MiB", "", None, None))
            del Xd, yd
            made.clear()
    show(table(rows), markdown)
    return rows


def _best(rows, problem, gap, kind):
    """(seconds, name) of the fastest row of ``kind`` ("dask-ml", "Dask": fastgd on
    the cluster, "in memory": fastgd in memory) to ``gap`` on ``problem``, or None."""
    def of_kind(name):
        if kind == "dask-ml":
            return name.startswith("dask-ml")
        return name.startswith("fastgd") and (
            name.endswith(", Dask") if kind == "Dask" else ", in memory, " in name)
    found = [(r[3][gap][0], r[1]) for r in rows if r[0] == problem and r[3]
             and of_kind(r[1]) and gap in r[3]]
    return min(found) if found else None


def _in_memory(rows, problem, name):
    """The row of fastgd in memory with the settings of the cluster's row ``name``."""
    prefix = name[:-len(", Dask")] + ", in memory, "
    for r in rows:
        if r[0] == problem and r[1].startswith(prefix):
            return r
    return None


# the columns after the times and ratios
LAST_FIT = ("last fit's gap (budget, time)", "accuracy",
            "per epoch (fastgd on Dask)")


def _cells(row, rows):
    """The cells of one row of the table (``rows``: every row so far, for the
    ratios)."""
    problem, name, unit, found, last = row
    if found is None:  # a note across the row (the workers' peak memory)
        return [problem, name] + [""] * (3 * len(GAPS) + len(LAST_FIT))
    ratios, local = [], []
    same = _in_memory(rows, problem, name) if name.endswith(", Dask") else None
    for g in GAPS:
        best = _best(rows, problem, g, "dask-ml")
        ratios.append(times(best[0] / found[g][0] if name.startswith("fastgd")
                            and g in found and best else None, digits=1))
        there = same[3].get(g) if same and same[3] else None
        local.append(times(found[g][0] / there[0] if there and g in found else None))
    if not isinstance(last, tuple):  # the error that stopped the contender
        end = [str(last), "", ""]
    else:
        gap, accuracy, traffic, seconds, budget = last
        end = [f"{gap:.2e} ({budget}{unit}, {seconds:.2f}s)", f"{accuracy:.4f}", ""]
        if traffic:
            end[2] = (f"{traffic['round_trips_per_epoch']:.2f} round trips, "
                      f"{traffic['bytes_sent_per_epoch'] / 1024:.1f} KiB sent, "
                      f"{traffic['bytes_received_per_epoch'] / 1024:.1f} KiB back")
    return ([problem, name] + [time_to_goal(found.get(g), unit, digits=2) for g in GAPS]
            + ratios + local + end)


def summary(rows):
    """Per problem and gap: the fastest dask-ml contender, fastgd on the cluster and
    fastgd in memory, best dask-ml over best fastgd on the cluster, and best fastgd
    on the cluster over best fastgd in memory.

    Parameters
    ----------
    rows : list of tuple
        As in ``line``.

    Returns
    -------
    lines : list of str
    """
    def cell(best):
        return "not reached" if best is None else f"{best[1]} {best[0]:.2f}s"

    lines = []
    for problem in dict.fromkeys(r[0] for r in rows):
        for g in GAPS:
            d, f, m = (_best(rows, problem, g, kind)
                       for kind in ("dask-ml", "Dask", "in memory"))
            lines.append(
                f"{problem}, to {g:g}: best dask-ml {cell(d)}; best fastgd on Dask "
                f"{cell(f)}; best fastgd in memory {cell(m)}; dask-ml / fastgd on "
                f"Dask {times(d[0] / f[0] if d and f else None, 1, '-')}; fastgd on "
                f"Dask / in memory {times(f[0] / m[0] if f and m else None, 2, '-')}")
    return lines


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
              + [f"best dask-ml / it, to {g:g}" for g in GAPS]
              + [f"Dask / in memory, to {g:g}" for g in GAPS] + list(LAST_FIT))
    lines = markdown_table(header, [_cells(row, rows) for row in rows])
    lines.append("")
    lines.append("Time of the first budget (it: iterations, ep: epochs, passes) whose "
                 "fit, from scratch, reached the relative objective gap; same chunks, "
                 "one run.  Ratios: the fastest dask-ml contender's time over the "
                 "fastgd row's; a fastgd row's time on Dask over the same settings' "
                 "in memory.  dask-ml newton and gradient_descent minimise the "
                 "unpenalised loss (dask-ml drops C for them).")
    lines.append("")
    lines.extend(summary(rows))
    return lines
