"""``python -m fastgd bench``: fastgd next to scikit-learn and, when they are
installed, Snap ML, Vowpal Wabbit and PyTorch, on the same arrays in one run.

Every contender of a case is timed in turn (A B C A B C ...), and the table gives the
median fit time, the ratio to scikit-learn's time and the score each reached on the
training data (R^2 or accuracy), so that a faster fit which learns less shows.  The
dense case also times numpy reading X once (``X.sum()``): the memory floor of an
epoch.  ``--markdown`` writes the table as Markdown, ``--plot`` a bar chart
(matplotlib).

How the peers are run (all with 5 passes over the data):

* scikit-learn: ``SGDRegressor`` / ``SGDClassifier`` with the same parameters.
* Snap ML: ``LinearRegression`` / ``LogisticRegression`` (its own solver, not SGD),
  ``regularizer = alpha * n_samples`` so that the objective is scikit-learn's.
* Vowpal Wabbit: its Python ``Workspace``, one ``learn`` call per example; the time
  covers the calls, not the formatting of the examples as text beforehand.
* PyTorch: ``nn.Linear`` with ``torch.optim.SGD``, mini-batches of 256 (per-sample
  steps in PyTorch would take minutes), L2 as weight decay.
"""
import numpy as np

from fastgd.bench.synthetic import dense_regression, sparse_classification
from fastgd.bench.tables import markdown_table, show, times
from fastgd.bench.timing import alternating_medians

N_EPOCHS = 5


def _vw_lines(X, y, binary):
    """Examples in Vowpal Wabbit's text format (labels -1/1 for binary)."""
    lines = []
    for i in range(X.shape[0]):
        if hasattr(X, "indptr"):
            cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
            vals = X.data[X.indptr[i]:X.indptr[i + 1]]
        else:
            cols, vals = np.arange(X.shape[1]), X[i]
        label = (1 if y[i] else -1) if binary else y[i]
        feats = " ".join(f"{c}:{v:.6g}" for c, v in zip(cols, vals))
        lines.append(f"{label} | {feats}")
    return lines


def _vw_contender(lines, args):
    from vowpalwabbit import Workspace

    def run():
        vw = Workspace(args + " --quiet")
        for _ in range(N_EPOCHS):
            for line in lines:
                vw.learn(line)
        return vw

    return run


def _torch_contender(X, y, alpha, loss, batch=256):
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=X.dtype))

    def run():
        torch.manual_seed(0)
        model = torch.nn.Linear(X.shape[1], 1, dtype=Xt.dtype)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, weight_decay=alpha)
        for _ in range(N_EPOCHS):
            order = torch.randperm(len(yt))
            for start in range(0, len(order), batch):
                rows = order[start:start + batch]
                opt.zero_grad()
                out = model(Xt[rows]).squeeze(1)
                loss(out, yt[rows]).backward()
                opt.step()
        return model

    return run


def _fastgd_and_sklearn(ours, theirs, kw, n_jobs, X, y):
    """fastgd on one thread and on ``n_jobs``, and scikit-learn, with the same
    parameters; each scored by its own ``score``."""
    contenders = {
        "fastgd (1 thread)": lambda: ours(n_jobs=1, **kw).fit(X, y),
        f"fastgd (n_jobs={n_jobs})": lambda: ours(n_jobs=n_jobs, **kw).fit(X, y),
        "scikit-learn": lambda: theirs(**kw).fit(X, y),
    }
    return contenders, {name: (lambda m: m.score(X, y)) for name in contenders}


def dense_case(n, n_jobs, rng):
    """Squared error + L2 on dense float64 data: contenders and scoring."""
    import fastgd
    from sklearn import linear_model
    from sklearn.metrics import r2_score

    X, y = dense_regression(n, 100, rng)
    kw = dict(max_iter=N_EPOCHS, tol=None, random_state=0, penalty="l2", alpha=1e-4)
    contenders, score = _fastgd_and_sklearn(fastgd.SGDRegressor,
                                            linear_model.SGDRegressor, kw, n_jobs, X, y)
    try:
        from snapml import LinearRegression

        contenders["snapml"] = lambda: LinearRegression(
            max_iter=N_EPOCHS, regularizer=1e-4 * n, penalty="l2", n_jobs=n_jobs,
            tol=0.0).fit(X, y)
        score["snapml"] = lambda m: r2_score(y, m.predict(X))
    except ImportError:
        pass
    try:
        import vowpalwabbit  # noqa: F401

        lines = _vw_lines(X, y, binary=False)
        contenders["vowpalwabbit"] = _vw_contender(lines, f"--l2 {1e-4 / n:g}")
        score["vowpalwabbit"] = lambda vw: r2_score(y, _vw_scores(vw, lines))
    except ImportError:
        pass
    try:
        import torch

        mse = torch.nn.MSELoss()
        contenders["pytorch (batch 256)"] = _torch_contender(
            X, y, 1e-4, lambda out, t: 0.5 * mse(out, t))
        score["pytorch (batch 256)"] = lambda m: r2_score(
            y, m(torch.from_numpy(X)).detach().numpy().ravel())
    except ImportError:
        pass
    contenders["numpy reads X once (floor)"] = lambda: X.sum()
    score["numpy reads X once (floor)"] = None
    return f"dense regression {n} x 100, squared error + L2", contenders, score


def sparse_case(n, n_jobs, rng):
    """Log loss + L2 on sparse data with Zipf-distributed features."""
    import fastgd
    from sklearn import linear_model
    from sklearn.metrics import accuracy_score

    X, y = sparse_classification(n, 50_000, 50, rng)
    kw = dict(loss="log_loss", max_iter=N_EPOCHS, tol=None, random_state=0,
              alpha=1e-6)
    contenders, score = _fastgd_and_sklearn(fastgd.SGDClassifier,
                                            linear_model.SGDClassifier, kw, n_jobs, X, y)
    try:
        from snapml import LogisticRegression

        contenders["snapml"] = lambda: LogisticRegression(
            max_iter=N_EPOCHS, regularizer=1e-6 * n, n_jobs=n_jobs, tol=0.0,
            fit_intercept=True).fit(X, y)
        score["snapml"] = lambda m: accuracy_score(y, m.predict(X))
    except ImportError:
        pass
    try:
        import vowpalwabbit  # noqa: F401

        lines = _vw_lines(X, y, binary=True)
        contenders["vowpalwabbit"] = _vw_contender(
            lines, f"--loss_function logistic -b 18 --l2 {1e-6 / n:g}")
        score["vowpalwabbit"] = lambda vw: accuracy_score(
            y, _vw_scores(vw, lines) > 0)
    except ImportError:
        pass
    return f"sparse binary {n} x 50000 (CSR), log loss + L2", contenders, score


def _vw_scores(vw, lines):
    """Raw predictions of a trained Workspace for the examples (labels stripped)."""
    return np.array([vw.predict("|" + line.split("|", 1)[1]) for line in lines])


def run(n_samples=200_000, n_jobs=-1, repeat=3, markdown=None, plot=None):
    """Run the cases, print the table, and write it as Markdown / a plot if asked.

    Parameters
    ----------
    n_samples : int, default=200_000
    n_jobs : int, default=-1
        Threads of the multi-threaded fastgd (and Snap ML) runs.
    repeat : int, default=3
        Alternating runs per contender; the table shows medians.
    markdown : str or None
        Path of a Markdown file to write the table to.
    plot : str or None
        Path of an image of the ratios (needs matplotlib).

    Returns
    -------
    rows : list of tuple
        (case, contender, median seconds, scikit-learn time / time, score).
    """
    from fastgd._config import effective_n_threads

    n_threads = effective_n_threads(n_jobs)
    rng = np.random.default_rng(0)
    rows = []
    for make_case in (dense_case, sparse_case):
        case, contenders, score = make_case(n_samples, n_threads, rng)
        medians = alternating_medians(contenders, repeat)
        t_sklearn = medians["scikit-learn"][0]
        for name, (t, model) in medians.items():
            s = score[name](model) if score.get(name) else float("nan")
            # the floor reads X once: its time is a bound, not a contender's speed
            ratio = t_sklearn / t if score.get(name) else float("nan")
            rows.append((case, name, t, ratio, s))
    show(table(rows), markdown)
    print(f"\n{N_EPOCHS} passes each, same arrays, median of {repeat} alternating "
          "runs; score = R^2 (regression) or accuracy on the training data; "
          "'vs scikit-learn' = scikit-learn's time / the contender's time.")
    if plot:
        _plot(rows, plot)
    return rows


def table(rows):
    """The lines of the Markdown table of ``run``'s rows ("-" for no ratio or score).

    Parameters
    ----------
    rows : list of tuple
        (case, contender, median seconds, scikit-learn time / time, score).

    Returns
    -------
    lines : list of str
    """
    header = ("case", "contender", "median time (s)", "vs scikit-learn", "score")
    return markdown_table(header, [
        (case, name, f"{t:.3f}", times(ratio, missing="-"),
         "-" if np.isnan(score) else f"{score:.4f}")
        for case, name, t, ratio, score in rows])


def _plot(rows, path):
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib (pip install matplotlib)") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys(r[0] for r in rows))
    fig, axes = plt.subplots(len(cases), 1, figsize=(8, 2.2 * len(cases) + 1))
    for ax, case in zip(np.atleast_1d(axes), cases):
        sub = [r for r in rows if r[0] == case and not np.isnan(r[3])]
        ax.barh([r[1] for r in sub], [r[3] for r in sub])
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_title(case, fontsize=9)
        ax.set_xlabel("speed relative to scikit-learn (higher is faster)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
