"""A fixed matrix of fits whose models must stay bit-for-bit the same, its recorded
hashes, and the checks of it that hold on any machine and build.

The matrix.  Every case fits a public estimator on small generated data and hashes
what the fit produced: ``coef_``, ``intercept_`` (their bytes, dtypes and shapes),
``n_iter_``, ``t_`` and the loss curves; a fit that raises hashes the first clause of
its message instead (what failed and when, not the advice that follows).  Each case
runs in eight variants (dense and CSR, float64 and float32, n_jobs 1 and 2).  History:
recorded from the code before the kernel restructuring (issue 9), which kept every
model; re-recorded for issue 10, which changed models on purpose (new defaults
``learning_rate='auto'`` and ``shuffle_window='auto'``; per-sample SGD of one model on
one thread; mini-batches under 4096 rows on one thread; the full-batch Lipschitz
estimate; L-BFGS) and by rounding (the gradient kernel's check of non-finite margins):
with the old defaults forced, every other model of the old matrix kept its bits.  Changed
for issue 20 by the order of sums alone: the gradient and loss sums are added in
blocks of rows, in block order, whatever the threads, so every n_jobs=2 fit now has
its n_jobs=1 bits (452 fits of the SkylakeX table changed, each to the bits of its
n_jobs=1 twin; the Haswell table was brought over by the same rule, its n_jobs=1
fits being unchanged: the data has fewer rows than one block).  Changed again for
issue 20 by L-BFGS's preconditioner (the columns' moments) and its line search's
first trial (the unit step): the 12 ``lbfgs`` cases without an L1 part (96 fits)
changed and every other fit kept its bits; the SkylakeX table was recorded with ``--forget-others``,
and the Haswell table, which no machine of that session could record, was dropped
(record it again on OpenBLAS's Haswell kernel).  Changed once more for issue 20 by
the softmax's L-BFGS preconditioner (the columns' moments, as the other losses'):
the 2 ``lbfgs/multinomial`` cases (16 fits) changed, every other fit kept its bits.

The recorded tables.  The bits also depend on the floating-point path of the machine:
the vector instructions the kernels dispatch to and the BLAS kernel behind NumPy's
products (505 of the 8256 fits differ between OpenBLAS's SkylakeX and Haswell
kernels, nearly all full-batch plain and Nesterov steps and L-BFGS);
``platform_signature`` names both.  ``golden_models.json`` keeps one table of hashes per platform signature, each
recorded from the same code (a second, on OpenBLAS's Haswell kernel, was kept from
issue 18 to issue 20);
``test_golden_models.py`` asserts the table of this machine's signature where there is
one, on the release build (the debug build, ``FASTGD_DEBUG=1``, compiles the arithmetic
differently: 1576 fits differ on Haswell).

The portable checks, run on every machine and both builds:

- fits that hash the same in every recorded table and share a layout and a dtype hash
  the same here: n_jobs 1 and 2 wherever the model does not depend on n_jobs, and the
  cases whose settings give one model (``shuffle_window=1`` and the default on small
  data, Nesterov and plain steps over two full-batch epochs, ...).  Equalities across
  layouts or dtypes are left out: a dense and a CSR full-batch fit share their bits
  only where the BLAS kernel rounds as SciPy's sparse product does (SkylakeX, not
  Haswell);
- a fit is deterministic: the fits whose bits depend on n_jobs in some recorded table
  (reductions split over threads) are fitted a second time with the same bits.

Commands, from the repository's top folder (the first two fit the fastgd that Python
imports: ``PYTHONPATH=.`` picks the one built in place)::

    python tests/golden.py            # this build's hashes, as JSON
    python tests/golden.py --record   # add (or replace) this machine's table
    python tests/golden.py --record --forget-others
    python tests/golden.py --compare REV

``--record`` writes this machine's table into ``golden_models.json``, next to the
others; after a deliberate change of the models (say why in the commit), record with
``--forget-others`` on one machine and again on every other platform you can reach: a
table recorded from other code fails the tests of its platform.  It needs the release
build.

``--compare REV`` checks that the working tree, as built in place, keeps every model
of git revision ``REV`` bit for bit: it exports ``REV`` with ``git archive`` into a
temporary folder (the repository is left as it is), builds it there (with Cython, as
``setup.py`` does, and ``FASTGD_DEBUG`` as in the environment: build both alike),
hashes both builds in fresh interpreters and lists every fit whose bits differ; the
exit status is 1 when one does.  Run it before a change that must keep the models (a
refactoring, a faster kernel): it checks the whole matrix on any machine, where the
recorded tables apply only on their platforms.  On two idle cores it takes about four
minutes to build and one to fit.
"""
import argparse
import hashlib
import io
import itertools
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import warnings
from collections import defaultdict

import numpy as np
import scipy.sparse as sp

N_ROWS = 2300
N_FEATURES = 7
REGRESSION = ["squared_error", "huber", "epsilon_insensitive",
              "squared_epsilon_insensitive"]
CLASSIFICATION = ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"]
PENALTIES = [None, "l2", "l1", "elasticnet"]
BATCH_SIZES = [1, 16, "full"]
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
LAYOUTS = ["dense", "csr"]
DTYPES = ["f64", "f32"]
N_JOBS = [1, 2]


def make_data(seed=0):
    """Dense data with zeros (a third), an empty column and an empty last row; a
    regression target, binary and 3-class labels and soft labels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_ROWS, N_FEATURES)) * (
        rng.random((N_ROWS, N_FEATURES)) < 0.65)
    X[:, 4] = 0.0
    X[-1] = 0.0
    w = rng.standard_normal(N_FEATURES)
    y = X @ w + 0.3 * rng.standard_normal(N_ROWS)
    y_bin = (y > np.median(y)).astype(int)
    y_3 = np.digitize(y, np.quantile(y, [0.3, 0.7]))
    logits = X @ rng.standard_normal((N_FEATURES, 3))
    soft = np.exp(logits - logits.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    sample_weight = rng.uniform(0.0, 2.0, N_ROWS)
    return dict(X=X, y=y, y_bin=y_bin, y_3=y_3, soft=soft, sample_weight=sample_weight)


def _layout(X, layout, dtype):
    X = X.astype(np.float32 if dtype == "f32" else np.float64)
    return sp.csr_matrix(X) if layout == "csr" else X


# every case runs in each of these variants: layout x dtype x n_jobs
VARIANTS = list(itertools.product(LAYOUTS, DTYPES, N_JOBS))
HASH_CHARS = 8


def cases():
    """Yield (key, estimator name, parameters, target name, fit options); each case
    is fitted in every one of ``VARIANTS``."""
    base = dict(max_iter=2, tol=None, random_state=0)

    def emit(key, est, params, target, **fit):
        yield key, est, {**base, **params}, target, fit

    # every loss x penalty x batch size x optimizer (binary: one model)
    for loss in REGRESSION + CLASSIFICATION:
        est, target = (("reg", "y") if loss in REGRESSION else ("clf", "y_bin"))
        for penalty, batch, opt in itertools.product(PENALTIES, BATCH_SIZES,
                                                     OPTIMIZERS):
            yield from emit(f"{est}/{loss}/{penalty}/b{batch}/{opt}", est,
                            dict(loss=loss, penalty=penalty, batch_size=batch,
                                 optimizer=opt), target)
    # L-BFGS / OWL-QN on the smooth losses
    for loss in REGRESSION + CLASSIFICATION + ["multinomial"]:
        if loss in ("epsilon_insensitive", "hinge", "perceptron"):
            continue
        est, target = (("reg", "y") if loss in REGRESSION else ("clf", "y_bin"))
        params = dict(loss=loss)
        if loss == "multinomial":
            target, params = "y_3", dict(loss="log_loss", multi_class="multinomial")
        for penalty in PENALTIES:
            yield from emit(f"lbfgs/{loss}/{penalty}", est,
                            dict(penalty=penalty, batch_size="full", optimizer="lbfgs",
                                 max_iter=5, **params), target)
    # multinomial, hard and soft labels
    for target, penalty, batch, opt in itertools.product(
            ["y_3", "soft"], PENALTIES, BATCH_SIZES, OPTIMIZERS):
        yield from emit(f"multinomial/{target}/{penalty}/b{batch}/{opt}", "clf",
                        dict(loss="log_loss", multi_class="multinomial",
                             penalty=penalty, batch_size=batch, optimizer=opt), target)
    # averaged SGD
    for loss, penalty, average in itertools.product(REGRESSION + CLASSIFICATION,
                                                    PENALTIES, [True, 300]):
        est, target = (("reg", "y") if loss in REGRESSION else ("clf", "y_bin"))
        yield from emit(f"average/{loss}/{penalty}/{average}", est,
                        dict(loss=loss, penalty=penalty, average=average), target)
    # one-vs-rest, 3 classes
    for loss, penalty, average in itertools.product(CLASSIFICATION, PENALTIES,
                                                    [False, True]):
        yield from emit(f"ovr/{loss}/{penalty}/avg{average}", "clf",
                        dict(loss=loss, penalty=penalty, average=average), "y_3")
    for batch, opt in itertools.product([16, "full"], ["sgd", "nesterov", "adam"]):
        yield from emit(f"ovr/b{batch}/{opt}", "clf",
                        dict(loss="log_loss", batch_size=batch, optimizer=opt), "y_3")
    # learning-rate schedules
    schedules = [dict(learning_rate="constant", eta0=0.02),
                 dict(learning_rate="optimal"),
                 dict(learning_rate="invscaling", eta0=0.1, power_t=0.5),
                 dict(learning_rate="invscaling", eta0=0.1, power_t=0.3),
                 dict(learning_rate="adaptive", eta0=0.05),
                 dict(learning_rate="exponential", eta0=0.05, decay_rate=0.5),
                 dict(learning_rate="linear", eta0=0.05, eta_min=0.001)]
    for i, schedule in enumerate(schedules):
        for est, target, loss in [("reg", "y", "squared_error"),
                                  ("clf", "y_bin", "log_loss"),
                                  ("clf", "y_3", "hinge")]:
            for batch in [1, 16]:
                yield from emit(f"schedule{i}/{est}/{target}/b{batch}", est,
                                dict(loss=loss, penalty="elasticnet", batch_size=batch,
                                     **schedule), target)
    for rule in ["pa1", "pa2"]:
        yield from emit(f"{rule}/reg", "reg", dict(loss="epsilon_insensitive",
                                                   learning_rate=rule, eta0=0.1), "y")
        yield from emit(f"{rule}/clf", "clf", dict(loss="hinge", learning_rate=rule,
                                                   eta0=0.1), "y_3")
    # options
    options = {
        "sample_weight": (dict(), dict(sample_weight=True)),
        "sample_weight_avg_l1": (dict(average=True, penalty="l1"),
                                 dict(sample_weight=True)),
        "no_intercept": (dict(fit_intercept=False, penalty="elasticnet"), {}),
        "no_shuffle": (dict(shuffle=False, average=True), {}),
        "uniform_shuffle": (dict(shuffle_window=1), {}),
        "window_5": (dict(shuffle_window=5, penalty="l1"), {}),
        "early_stopping": (dict(early_stopping=True, max_iter=6,
                                n_iter_no_change=2, tol=1e-3), {}),
        "tol_stop": (dict(max_iter=30, tol=1e-2), {}),
        "coef_init": (dict(), dict(init=True)),
        "warm_start": (dict(warm_start=True), dict(refit=True)),
        "partial_fit": (dict(average=True, penalty="elasticnet"), dict(partial=3)),
        "partial_fit_l1": (dict(penalty="l1"), dict(partial=3)),
    }
    for name, (params, fit) in options.items():
        for est, target in [("reg", "y"), ("clf", "y_bin"), ("clf", "y_3")]:
            yield from emit(f"option/{name}/{est}/{target}", est, params, target, **fit)
    for name, params in [("class_weight", dict(class_weight={0: 1.0, 1: 2.5, 2: 0.5})),
                         ("balanced", dict(class_weight="balanced"))]:
        for batch in [1, 16, "full"]:
            yield from emit(f"option/{name}/b{batch}", "clf",
                            dict(loss="log_loss", batch_size=batch, **params), "y_3")
    for batch, opt in [(1, "sgd"), (16, "adam"), ("full", "sgd")]:
        yield from emit(f"multinomial/partial_fit/b{batch}/{opt}", "clf",
                        dict(loss="log_loss", multi_class="multinomial",
                             batch_size=batch, optimizer=opt), "soft", partial=3)
        yield from emit(f"multinomial/sample_weight/b{batch}/{opt}", "clf",
                        dict(loss="log_loss", multi_class="multinomial",
                             batch_size=batch, optimizer=opt), "y_3",
                        sample_weight=True)


def _digest(h, value):
    if isinstance(value, np.ndarray):
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(repr(value).encode())


def fit_hash(est_name, params, target, data, layout, dtype, n_jobs,
             sample_weight=False, init=False, refit=False, partial=0):
    """Fit one case in one variant; return a short hash of the model (or of the error
    raised)."""
    from fastgd import SGDClassifier, SGDRegressor

    cls = SGDRegressor if est_name == "reg" else SGDClassifier
    params = {**params, "n_jobs": n_jobs}
    X = _layout(data["X"], layout, dtype)
    y = data[target]
    kw = {}
    if sample_weight:
        kw["sample_weight"] = data["sample_weight"]
    h = hashlib.sha256()
    est = cls(**params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if partial:
                extra = {} if est_name == "reg" else {
                    "classes": np.arange(3) if target in ("y_3", "soft")
                    else np.unique(y)}
                for chunk in np.array_split(np.arange(N_ROWS), partial):
                    est.partial_fit(X[chunk], y[chunk], **extra,
                                    **({"sample_weight": kw["sample_weight"][chunk]}
                                       if sample_weight else {}))
            else:
                if init:
                    n_models = 1 if est_name == "reg" or target == "y_bin" else 3
                    coef = np.linspace(-0.5, 0.5, n_models * N_FEATURES)
                    kw["coef_init"] = coef.reshape(n_models, N_FEATURES).squeeze()
                    kw["intercept_init"] = np.linspace(-0.1, 0.1, n_models)
                est.fit(X, y, **kw)
                if refit:
                    est.fit(X, y, **kw)
    except ValueError as error:
        # the error's kind and first clause ("Training diverged at epoch 2"), not its
        # advice, which may be reworded
        h.update(f"error {str(error).split(':')[0]}".encode())
        return h.hexdigest()[:HASH_CHARS]
    coef = est.coef_.toarray() if sp.issparse(est.coef_) else est.coef_
    for value in (coef, est.intercept_, est.n_iter_, est.t_,
                  np.asarray(est.loss_curve_, dtype=np.float64),
                  np.asarray(getattr(est, "validation_loss_curve_", []),
                             dtype=np.float64)):
        _digest(h, value)
    return h.hexdigest()[:HASH_CHARS]


def platform_signature():
    """What the bits of a model depend on beyond the code: the CPU's vector
    instructions (the kernels use AVX2 + FMA when present) and NumPy's BLAS kernel."""
    from threadpoolctl import threadpool_info

    flags = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    words = set(flags.split())
    blas = {f"{i['internal_api']}:{i.get('architecture')}" for i in threadpool_info()
            if i["user_api"] == "blas"}
    import platform

    return {"machine": platform.machine(),
            "avx2_fma": "avx2" in words and "fma" in words,
            "blas": sorted(blas)}


def case_hashes(est, params, target, fit, data):
    """The hashes of one case in every variant, as one string (``VARIANTS`` order)."""
    return " ".join(fit_hash(est, params, target, data, layout, dtype, n_jobs, **fit)
                    for layout, dtype, n_jobs in VARIANTS)


def all_hashes(data=None):
    """The hashes of every case of the matrix: ``{case: "h1 ... h8"}``."""
    data = make_data() if data is None else data
    return {key: case_hashes(est, params, target, fit, data)
            for key, est, params, target, fit in cases()}


def this_build():
    """Which fastgd the fits ran on: its folder and whether it is the debug build."""
    import fastgd
    from fastgd._kernels._structs import DEBUG_BUILD

    return {"fastgd": os.path.dirname(os.path.abspath(fastgd.__file__)),
            "debug": bool(DEBUG_BUILD)}


# --- the recorded tables ----------------------------------------------------------

GOLDEN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "golden_models.json")
VARIANT_NAMES = ["/".join(map(str, v)) for v in VARIANTS]
VARIANT_OF = dict(zip(VARIANT_NAMES, VARIANTS))


def load_recorded(path=GOLDEN_FILE):
    """The recorded tables: ``{"variants": [...], "recorded": [{"platform": ...,
    "hashes": {case: "h1 ... h8"}}, ...]}``."""
    with open(path) as f:
        return json.load(f)


def table_for(recorded, platform):
    """The hashes recorded on ``platform`` (a ``platform_signature``), or None."""
    return next((table["hashes"] for table in recorded["recorded"]
                 if table["platform"] == platform), None)


def with_table(recorded, platform, hashes, forget_others=False):
    """``recorded`` with ``hashes`` as the table of ``platform``: in place of the one
    recorded there, else added last; the only one with ``forget_others``."""
    new = {"platform": platform, "hashes": hashes}
    tables = [] if forget_others else list(recorded["recorded"])
    at = next((i for i, table in enumerate(tables) if table["platform"] == platform),
              None)
    if at is None:
        tables.append(new)
    else:
        tables[at] = new
    return {"variants": VARIANT_NAMES, "recorded": tables}


def write_recorded(recorded, path=GOLDEN_FILE):
    """Write the tables, one case a line (diffs stay readable)."""
    with open(path, "w") as f:
        json.dump(recorded, f, indent=0, sort_keys=True)
        f.write("\n")


# --- the portable checks ----------------------------------------------------------

def fits(hashes):
    """``{(case, variant name): hash}`` from a table ``{case: "h1 ... h8"}``."""
    return {(key, variant): h for key, line in hashes.items()
            for variant, h in zip(VARIANT_NAMES, line.split())}


def equal_groups(tables):
    """The groups of fits that hash the same in every one of ``tables`` and share a
    layout and a dtype (the case and n_jobs may differ), each a sorted list of
    ``(case, variant name)``."""
    per_table = [fits(table) for table in tables]
    groups = defaultdict(list)
    for fit in per_table[0]:
        layout, dtype, _ = VARIANT_OF[fit[1]]
        groups[(layout, dtype) + tuple(hashes[fit] for hashes in per_table)].append(fit)
    return [sorted(group) for group in groups.values() if len(group) > 1]


def unequal_groups(groups, here):
    """The groups whose fits do not all hash the same in ``here``
    (``{(case, variant name): hash}``)."""
    return [group for group in groups if len({here[fit] for fit in group}) > 1]


def threaded_fits(tables):
    """The fits with n_jobs 2 whose bits differ from n_jobs 1 in some table (a
    reduction split over the threads), sorted ``(case, variant name)``."""
    threaded = set()
    for hashes in map(fits, tables):
        for (key, variant), h in hashes.items():
            layout, dtype, n_jobs = VARIANT_OF[variant]
            one_thread = "/".join(map(str, (layout, dtype, 1)))
            if n_jobs != 1 and h != hashes[(key, one_thread)]:
                threaded.add((key, variant))
    return sorted(threaded)


def refit_hash(case, variant, data):
    """The hash of one fit of ``case`` (an item of ``cases()`` without its key) in
    ``variant`` (a name of ``VARIANT_NAMES``)."""
    est, params, target, fit = case
    layout, dtype, n_jobs = VARIANT_OF[variant]
    return fit_hash(est, params, target, data, layout, dtype, n_jobs, **fit)


# --- two builds compared ----------------------------------------------------------

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CompareError(Exception):
    """A step of ``--compare`` failed; the message says which and why."""


def export_revision(revision, folder):
    """Write the files of git revision ``revision`` into ``folder`` (``git archive``,
    which changes nothing in the repository)."""
    try:
        proc = subprocess.run(["git", "-C", REPOSITORY, "archive", "--format=tar",
                               revision], capture_output=True)
    except FileNotFoundError:
        raise CompareError("git is not installed (needed to export a revision)")
    if proc.returncode:
        raise CompareError(f"git cannot export revision {revision!r}: "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(folder, **safe)


def build_in_place(folder):
    """Build the extensions of the sources in ``folder`` next to them."""
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace",
                           "-j", str(os.cpu_count() or 1)],
                          cwd=folder, capture_output=True, text=True)
    if proc.returncode:
        raise CompareError(f"building the extensions in {folder} failed:\n"
                           f"{proc.stderr[-3000:]}")


def start_hashing(folder):
    """Start a fresh interpreter that prints the table of the fastgd built in
    ``folder`` (this file, run with ``folder`` first on ``PYTHONPATH``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [folder] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    return subprocess.Popen([sys.executable, os.path.abspath(__file__)], cwd=folder,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish_hashing(proc, folder):
    """The table printed by ``proc`` (from ``start_hashing(folder)``), checked to come
    from the fastgd built in ``folder``."""
    out, err = proc.communicate()
    if proc.returncode:
        raise CompareError(f"hashing the fastgd in {folder} failed (is it built in "
                           f"place?):\n{err[-3000:]}")
    table = json.loads(out)
    imported = os.path.realpath(table["build"]["fastgd"])
    if imported != os.path.join(os.path.realpath(folder), "fastgd"):
        raise CompareError(f"hashing the fastgd in {folder} imported the one in "
                           f"{imported} instead: build the extensions in place there")
    return table


def hash_builds(folders):
    """The tables of the fastgd built in each of ``folders``, hashed side by side;
    the other interpreters are stopped when one fails."""
    running = [start_hashing(folder) for folder in folders]
    try:
        return [finish_hashing(proc, folder) for proc, folder in zip(running, folders)]
    finally:
        for proc in running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def changed_fits(before, after):
    """The fits whose hashes differ between two tables of the same matrix, as sorted
    ``(case, variant name, hash before, hash after)``."""
    old, new = fits(before), fits(after)
    return [(*fit, old[fit], new[fit]) for fit in sorted(old) if old[fit] != new[fit]]


def compare(revision):
    """Hash git revision ``revision`` and the working tree (each built in place) and
    print every fit whose bits differ; return 1 when one does, else 0."""
    with tempfile.TemporaryDirectory(prefix="fastgd-golden-") as folder:
        export_revision(revision, folder)
        build_in_place(folder)
        theirs, ours = hash_builds([folder, REPOSITORY])
    if theirs["build"]["debug"] != ours["build"]["debug"]:
        kinds = {True: "a debug build", False: "a release build"}
        raise CompareError(f"the working tree is {kinds[ours['build']['debug']]} and "
                           f"{revision} {kinds[theirs['build']['debug']]}: build both "
                           "alike (FASTGD_DEBUG)")
    changed = changed_fits(theirs["hashes"], ours["hashes"])
    for key, variant, old, new in changed:
        print(f"{key} {variant}: {old} -> {new}")
    print(f"{len(changed)} of {len(fits(ours['hashes']))} fits differ between "
          f"{revision} and the working tree")
    return 1 if changed else 0


# --- command line -----------------------------------------------------------------

def parse_args(argv):
    """The parser and the parsed command line (``argv``, or ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        prog="golden.py", description="The hashes of the golden-model matrix: print "
        "this build's, record this machine's table, or compare with a git revision.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--record", action="store_true",
                        help="add (or replace) this machine's table in "
                        "golden_models.json")
    action.add_argument("--compare", metavar="REV",
                        help="list the fits whose bits differ between git revision "
                        "REV and the working tree")
    parser.add_argument("--forget-others", action="store_true",
                        help="with --record: keep this machine's table only (after a "
                        "deliberate change of the models)")
    args = parser.parse_args(argv)
    if args.forget_others and not args.record:
        parser.error("--forget-others goes with --record")
    return parser, args


def record(forget_others):
    """Record this machine's table (release build only); return the exit status."""
    build = this_build()
    if build["debug"]:
        sys.exit("golden.py --record: this fastgd is a debug build (FASTGD_DEBUG=1), "
                 "whose arithmetic differs; record from the release build")
    hashes = all_hashes()
    platform = platform_signature()  # after the fits, which load every BLAS there is
    recorded = with_table(load_recorded(), platform, hashes, forget_others)
    write_recorded(recorded)
    print(f"recorded the table of {platform} in {GOLDEN_FILE} "
          f"({len(recorded['recorded'])} tables)")
    return 0


def main(argv=None):
    """Print this build's table, record it, or compare with a revision; return the
    exit status."""
    parser, args = parse_args(argv)
    if args.compare:
        try:
            return compare(args.compare)
        except CompareError as error:
            parser.exit(2, f"golden.py --compare: {error}\n")
    if args.record:
        return record(args.forget_others)
    json.dump({"build": this_build(), "platform": platform_signature(),
               "variants": VARIANT_NAMES, "hashes": all_hashes()},
              sys.stdout, indent=0, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
