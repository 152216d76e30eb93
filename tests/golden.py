"""A fixed matrix of fits whose models must stay bit-for-bit the same.

Every case fits a public estimator on small generated data and hashes what the fit
produced: ``coef_``, ``intercept_`` (their bytes, dtypes and shapes), ``n_iter_``,
``t_`` and the loss curves; a fit that raises hashes the first clause of its message
instead (what failed and when, not the advice that follows).  The hashes are kept in
``golden_models.json``; ``test_golden_models.py`` asserts them.  History: recorded
from the code before the kernel restructuring (issue 9), which kept every model;
re-recorded for issue 10, which changed models on purpose (new defaults
``learning_rate='auto'`` and ``shuffle_window='auto'``; per-sample SGD of one model on
one thread; mini-batches under 4096 rows on one thread; the full-batch Lipschitz
estimate; L-BFGS) and by rounding (the gradient kernel's check of non-finite margins):
with the old defaults forced, every other model of the old matrix kept its bits.

Run ``python tests/golden.py`` to print the hashes of the current code as JSON (to
compare two versions, or to record a deliberate change of a model, saying why in the
commit).  The hashes depend on the floating-point path of the machine: the vector
instructions the kernels dispatch to and the BLAS kernel behind NumPy's products (the
full-batch Lipschitz estimate); ``platform_signature`` names both.
"""
import hashlib
import itertools
import json
import os
import sys
import warnings

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


def all_hashes():
    data = make_data()
    return {key: case_hashes(est, params, target, fit, data)
            for key, est, params, target, fit in cases()}


if __name__ == "__main__":
    json.dump({"platform": platform_signature(),
               "variants": ["/".join(map(str, v)) for v in VARIANTS],
               "hashes": all_hashes()}, sys.stdout, indent=0, sort_keys=True)
    sys.stdout.write("\n")
