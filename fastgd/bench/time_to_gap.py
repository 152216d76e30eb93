"""``python -m fastgd bench --tta``: time to a relative objective gap, fastgd next to
its peers on the same arrays, at several thread counts.

A user wants a good model soon, not fast epochs: each contender is fitted with growing
budgets (epochs or iterations) from scratch, and the table gives, for every target gap
``(F(w) - F*) / F*`` (1e-2 and 1e-4), the time of the first budget that reached it,
with the budget.  ``F`` is the objective every contender minimises (mean loss plus
``alpha / 2 |w|^2``, the intercept unpenalised); ``F*`` comes from a tight solve
(scikit-learn's lbfgs at tol 1e-10, the closed form for ridge).

Problems (``GapProblem``): L2-logistic on dense data (Gaussian features, labels from a
noisy linear model: ``synthetic.dense_logistic``), L2-logistic on sparse data (Zipf
features, unit rows), ridge on dense data.

Contenders, each at every thread count (``threadpool_limits`` for the BLAS and OpenMP
of the peers, ``n_jobs`` for fastgd and Snap ML, ``torch.set_num_threads``):

* fastgd, documented settings, not tuned per case (README, "Which settings"):
  ``batch_size="full", optimizer="lbfgs"`` to solve to a gap; the defaults of
  per-sample SGD; and, for the logistic problems, averaged SGD with
  ``learning_rate="invscaling", eta0=1.0, power_t=0.5`` (the README's setting for
  logistic regression to a gap of about 1e-2);
* scikit-learn: ``LogisticRegression`` (lbfgs, saga) / ``Ridge`` (cholesky, the
  closed form; saga);
* Snap ML's ``LogisticRegression`` / ``LinearRegression`` (when installed);
* PyTorch's ``LBFGS`` on the full batch with the strong-Wolfe line search (when
  installed; dense problems; on the GPU too when one is present).
"""
import time
import warnings

import numpy as np

from fastgd.bench.synthetic import (
    dense_logistic, dense_regression, sparse_classification,
)
from fastgd.bench.tables import markdown_table, show, time_to_goal, times

GAPS = (1e-2, 1e-4)
EPOCHS = (1, 2, 3, 5, 8, 13, 20, 30, 50)
ITERATIONS = (3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 70, 100, 150, 200, 300)


class GapProblem:
    """A benchmark problem with its optimum: the data, the L2 penalty, the exact
    objective and its minimum (from a tight solve), so that the relative gap of any
    model can be measured.

    Parameters
    ----------
    name : str
    X : ndarray or sparse matrix of shape (n, d)
    y : ndarray of shape (n,)
        0 / 1 labels (``task="logistic"``) or the regression targets.
    alpha : float
        The L2 strength: the objective is the mean loss plus ``alpha / 2 |w|^2``.
    task : {"logistic", "ridge"}

    Attributes
    ----------
    n : int
        The rows.
    best : float
        The minimum of the objective, ``F*``.
    """

    def __init__(self, name, X, y, alpha, task):
        self.name, self.X, self.y, self.alpha, self.task = name, X, y, alpha, task
        self.n = X.shape[0]
        self.best = self.objective(*self._solve())

    def objective(self, coef, intercept):
        """The objective at ``(coef, intercept)``: mean loss plus the L2 penalty."""
        w = np.ravel(np.asarray(coef, dtype=np.float64))
        margin = np.asarray(self.X @ w).ravel() + float(np.ravel(intercept)[0])
        if self.task == "logistic":
            loss = np.mean(np.logaddexp(0.0, -(2.0 * self.y - 1.0) * margin))
        else:
            loss = 0.5 * np.mean((margin - self.y) ** 2)
        return float(loss + 0.5 * self.alpha * w @ w)

    def gap(self, coef, intercept):
        """The relative gap ``(F(w) - F*) / F*`` of ``(coef, intercept)``."""
        return (self.objective(coef, intercept) - self.best) / self.best

    def _solve(self):
        from sklearn.linear_model import LogisticRegression, Ridge

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.task == "logistic":
                m = LogisticRegression(C=1.0 / (self.alpha * self.n), tol=1e-10,
                                       max_iter=10000).fit(self.X, self.y)
            else:
                m = Ridge(alpha=self.alpha * self.n, solver="auto").fit(self.X, self.y)
        return m.coef_, np.atleast_1d(m.intercept_)


def problems(n, rng):
    """The three cases (dense and sparse L2-logistic, dense ridge) at ``n`` rows."""
    X, y = dense_logistic(n, 100, rng)
    Xs, ys = sparse_classification(n, 50_000, 50, rng)
    Xr, yr = dense_regression(n, 100, rng)
    return [GapProblem("L2-logistic dense", X, y, 1e-4, "logistic"),
            GapProblem("L2-logistic sparse", Xs, ys, 1e-5, "logistic"),
            GapProblem("ridge dense", Xr, yr, 1e-4, "ridge")]


# ------------------------------------------------------------------ contenders

def _fastgd(problem, n_jobs, **settings):
    import fastgd

    est = fastgd.SGDClassifier if problem.task == "logistic" else fastgd.SGDRegressor
    loss = "log_loss" if problem.task == "logistic" else "squared_error"

    def fit(budget):
        m = est(loss=loss, alpha=problem.alpha, max_iter=budget, tol=None,
                random_state=0, n_jobs=n_jobs, **settings).fit(problem.X, problem.y)
        return m.coef_, m.intercept_
    return fit


def _sklearn(problem, solver):
    from sklearn.linear_model import LogisticRegression, Ridge

    def fit(budget):
        if problem.task == "logistic":
            m = LogisticRegression(C=1.0 / (problem.alpha * problem.n), solver=solver,
                                   tol=1e-12, max_iter=budget)
        else:
            m = Ridge(alpha=problem.alpha * problem.n, solver=solver, tol=1e-12,
                      max_iter=budget)
        m.fit(problem.X, problem.y)
        return m.coef_, np.atleast_1d(m.intercept_)
    return fit


def _snapml(problem, n_jobs):
    import snapml

    def fit(budget):
        cls = (snapml.LogisticRegression if problem.task == "logistic"
               else snapml.LinearRegression)
        kw = dict(regularizer=problem.alpha * problem.n, n_jobs=n_jobs,
                  max_iter=budget, tol=1e-12, fit_intercept=True)
        if problem.task != "logistic":
            kw["penalty"] = "l2"
        m = cls(**kw).fit(problem.X, problem.y)
        return m.coef_, np.atleast_1d(m.intercept_)
    return fit


def _torch_lbfgs(problem, n_jobs, device):
    import torch

    X = torch.from_numpy(np.ascontiguousarray(problem.X)).to(device)
    y = torch.from_numpy(np.asarray(problem.y, dtype=np.float64)).to(device)

    def fit(budget):
        torch.set_num_threads(n_jobs)
        w = torch.zeros(X.shape[1], dtype=X.dtype, device=device, requires_grad=True)
        b = torch.zeros(1, dtype=X.dtype, device=device, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=budget, history_size=10,
                                tolerance_grad=1e-14, tolerance_change=1e-16,
                                line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            margin = X @ w + b
            if problem.task == "logistic":
                loss = torch.nn.functional.binary_cross_entropy_with_logits(margin, y)
            else:
                loss = 0.5 * torch.mean((margin - y) ** 2)
            loss = loss + 0.5 * problem.alpha * (w @ w)
            loss.backward()
            return loss

        opt.step(closure)
        if device != "cpu":
            torch.cuda.synchronize()
        return w.detach().cpu().numpy(), b.detach().cpu().numpy()
    return fit


def contenders(problem, n_jobs):
    """{name: (fit(budget) -> (coef, intercept), budgets, unit)} for one problem at
    ``n_jobs`` threads; the peers that are not installed are left out."""
    out = {
        "fastgd lbfgs": (_fastgd(problem, n_jobs, batch_size="full",
                                 optimizer="lbfgs"), ITERATIONS, "it"),
        "fastgd SGD defaults": (_fastgd(problem, n_jobs), EPOCHS, "ep"),
    }
    if problem.task == "logistic":
        out["fastgd averaged SGD"] = (_fastgd(problem, n_jobs, average=True,
                                              learning_rate="invscaling", eta0=1.0,
                                              power_t=0.5), EPOCHS, "ep")
        out["sklearn lbfgs"] = (_sklearn(problem, "lbfgs"), ITERATIONS, "it")
        out["sklearn saga"] = (_sklearn(problem, "saga"), EPOCHS, "ep")
    else:
        out["sklearn ridge cholesky"] = (_sklearn(problem, "cholesky"), (1,), "")
        out["sklearn ridge saga"] = (_sklearn(problem, "saga"), EPOCHS, "ep")
    try:
        import snapml  # noqa: F401

        out["snapml"] = (_snapml(problem, n_jobs), EPOCHS + (100, 200), "ep")
    except ImportError:
        pass
    if not hasattr(problem.X, "indptr"):
        try:
            import torch

            out["pytorch lbfgs"] = (_torch_lbfgs(problem, n_jobs, "cpu"), ITERATIONS,
                                    "it")
            if torch.cuda.is_available() and n_jobs == 1:
                out["pytorch lbfgs (GPU)"] = (_torch_lbfgs(problem, 1, "cuda"),
                                              ITERATIONS, "it")
        except ImportError:
            pass
    return out


def time_to_gaps(fit, budgets, problem, n_threads, max_seconds):
    """For each of ``GAPS``: (seconds, budget, gap reached) of the first budget whose
    fit reached it, or None.  Budgets grow until every gap is reached, a fit takes
    longer than ``max_seconds`` or they run out."""
    from threadpoolctl import threadpool_limits

    found = {}
    fit(budgets[0])  # warm-up: imports, first-touch of the arrays
    for budget in budgets:
        with threadpool_limits(limits=n_threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            try:
                coef, intercept = fit(budget)
            except (ValueError, FloatingPointError):  # diverged: no model
                break
            seconds = time.perf_counter() - start
        gap = problem.gap(coef, intercept)
        for target in GAPS:
            if target not in found and gap <= target:
                found[target] = (seconds, budget, gap)
        if len(found) == len(GAPS) or seconds > max_seconds:
            break
    return {target: found.get(target) for target in GAPS}


def run(n_samples, thread_counts, markdown=None, plot=None, max_seconds=30.0):
    """Print (and optionally write and draw) the time-to-gap table."""
    rng = np.random.default_rng(0)
    rows = []
    for problem in problems(n_samples, rng):
        for n_threads in thread_counts:
            for name, (fit, budgets, unit) in contenders(problem, n_threads).items():
                result = time_to_gaps(fit, budgets, problem, n_threads, max_seconds)
                rows.append((problem.name, n_threads, name, unit, result))
    show(table(rows, n_samples), markdown)
    if plot:
        _plot(rows, plot)
    return rows


def table(rows, n_samples):
    """The lines of the time-to-gap table of ``run``'s rows, and its note.

    Parameters
    ----------
    rows : list of tuple
        (problem name, threads, contender, budget unit, ``time_to_gaps``'s result).
    n_samples : int
        The rows of the problems (in the header).

    Returns
    -------
    lines : list of str
    """
    header = ([f"problem ({n_samples} rows)", "threads", "contender"]
              + [f"to {g:g}" for g in GAPS]
              + [f"best CPU peer / it, to {g:g}" for g in GAPS])
    cells = []
    for problem, n_threads, name, unit, result in rows:
        ratios = []
        for g in GAPS:
            peers = [r[4][g][0] for r in rows if r[0] == problem and r[1] == n_threads
                     and not r[2].startswith("fastgd") and r[4][g] is not None
                     and "GPU" not in r[2]]
            ours = result[g]
            ratios.append(times(min(peers) / ours[0] if name.startswith("fastgd")
                                and ours and peers else None))
        cells.append([problem, str(n_threads), name]
                     + [time_to_goal(result[g], unit) for g in GAPS] + ratios)
    lines = markdown_table(header, cells)
    lines.append("")
    lines.append("Time of the first budget (it: iterations, ep: epochs) whose fit, "
                 "from scratch, reached the relative objective gap; same arrays, one "
                 "run.  The ratios: the fastest CPU peer's time over the fastgd row's "
                 "(above 1: fastgd is faster).")
    return lines


def _plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({r[0] for r in rows})
    contenders = sorted({r[2] for r in rows})
    colors = {c: plt.get_cmap("tab10")(i % 10) for i, c in enumerate(contenders)}
    fig, axes = plt.subplots(len(GAPS), len(names), figsize=(5 * len(names), 7),
                             squeeze=False)
    for i, g in enumerate(GAPS):
        for j, problem in enumerate(names):
            ax = axes[i][j]
            for contender in sorted({r[2] for r in rows if r[0] == problem}):
                points = [(r[1], r[4][g][0]) for r in rows if r[0] == problem
                          and r[2] == contender and r[4][g] is not None]
                if points:
                    ax.plot(*zip(*points), marker="o", label=contender,
                            color=colors[contender])
            ax.set_title(f"{problem}: to gap {g:g}")
            ax.set_xlabel("threads")
            ax.set_xticks(sorted({r[1] for r in rows}))
            ax.set_ylabel("seconds")
            ax.set_yscale("log")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
