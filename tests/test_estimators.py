"""Estimator behaviour: drop-in API, partial_fit, layouts and dtypes, bad input,
and the docstrings (every parameter and fitted attribute described)."""
import inspect
import pickle
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

import fastgd
from fastgd import SGDClassifier, SGDRegressor
from fastgd._config import effective_n_threads


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(2000, 12, noise=1.0, random_state=0)
    return X / 10, y / 10


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(2000, 12, n_informative=6, n_classes=3,
                               random_state=0)


# ------------------------------------------------------------------ drop-in API

def test_same_parameters_and_defaults_as_scikit_learn():
    from sklearn import linear_model

    from fastgd._params import effective_learning_rate

    for ours, theirs in [(SGDRegressor, linear_model.SGDRegressor),
                         (SGDClassifier, linear_model.SGDClassifier)]:
        mine, ref = ours().get_params(), theirs().get_params()
        for name, value in ref.items():
            if name != "learning_rate":
                assert mine[name] == value, name
        # 'auto' is scikit-learn's default on scikit-learn's algorithm
        assert mine["learning_rate"] == "auto"
        assert effective_learning_rate(ours()) == ref["learning_rate"]
        assert "n_jobs" in mine


def test_pipeline_and_scores(reg_data, clf_data):
    X, y = reg_data
    pipe = make_pipeline(StandardScaler(), SGDRegressor(random_state=0)).fit(X, y)
    assert pipe.score(X, y) > 0.99
    X, y = clf_data
    pipe = make_pipeline(StandardScaler(), SGDClassifier(random_state=0)).fit(X, y)
    assert pipe.score(X, y) > 0.6


def test_quality_matches_scikit_learn(clf_data, reg_data):
    from sklearn import linear_model

    # the last iterate of per-sample SGD is noisy (accuracy 0.44-0.66 across seeds on
    # this data): compare the means over 100 seeds (standard error about 0.005
    # each).  Before every one-vs-rest model got its own start in the epoch's order,
    # fastgd was 0.03-0.04 behind here.
    X, y = clf_data
    for loss in ["hinge", "log_loss", "modified_huber"]:
        ours, theirs = [], []
        for seed in range(100):
            kw = dict(loss=loss, random_state=seed, max_iter=20, tol=None)
            ours.append(SGDClassifier(**kw).fit(X, y).score(X, y))
            theirs.append(linear_model.SGDClassifier(**kw).fit(X, y).score(X, y))
        assert np.mean(ours) > np.mean(theirs) - 0.02, loss
    X, y = reg_data
    ours = SGDRegressor(random_state=0).fit(X, y).score(X, y)
    theirs = linear_model.SGDRegressor(random_state=0).fit(X, y).score(X, y)
    assert ours > theirs - 1e-3


def test_attributes(clf_data):
    X, y = clf_data
    m = SGDClassifier(random_state=0, max_iter=7, tol=None).fit(X, y)
    assert m.coef_.shape == (3, 12) and m.intercept_.shape == (3,)
    assert m.n_iter_ == 7 and len(m.loss_curve_) == 7
    assert m.t_ == 7 * len(y) + 1
    np.testing.assert_array_equal(m.classes_, [0, 1, 2])
    assert m.n_features_in_ == 12
    b = SGDClassifier(random_state=0).fit(X, y == 1)
    assert b.coef_.shape == (1, 12) and b.decision_function(X).shape == (2000,)


def test_loss_curve_is_the_training_objective(reg_data):
    X, y = reg_data
    m = SGDRegressor(learning_rate="constant", eta0=0.05, max_iter=30, tol=None,
                     random_state=0).fit(X, y)
    curve = np.array(m.loss_curve_)
    assert curve[-1] < curve[0] / 10
    assert np.all(np.diff(curve[:6]) < 0)
    # at a small constant step the epoch mean is close to the objective at the end
    np.testing.assert_allclose(curve[-1], m.objective(X, y), rtol=0.02)


# ----------------------------------------------------------------- partial_fit

@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("kw", [dict(), dict(average=True, penalty="l1"),
                                dict(learning_rate="invscaling", eta0=0.1),
                                dict(penalty="elasticnet", average=40)])
def test_partial_fit_in_chunks_equals_one_epoch_of_fit(clf_data, reg_data, sparse, kw):
    for cls, (X, y) in [(SGDClassifier, clf_data), (SGDRegressor, reg_data)]:
        X = sp.csr_matrix(X) if sparse else X
        params = dict(shuffle=False, max_iter=1, tol=None, **kw)
        full = cls(**params).fit(X, y)
        part = cls(**params)
        for start in range(0, 2000, 300):
            chunk = slice(start, start + 300)
            extra = {"classes": np.unique(y)} if cls is SGDClassifier else {}
            part.partial_fit(X[chunk], y[chunk], **extra)
        np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(part.intercept_, full.intercept_, rtol=1e-10)
        assert part.t_ == full.t_


def test_partial_fit_needs_classes_first(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="classes must be passed"):
        SGDClassifier().partial_fit(X, y)
    m = SGDClassifier().partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not the same as on last call"):
        m.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="labels not in classes_"):
        m.partial_fit(X[:3], [0, 1, 5])


# ------------------------------------------------------ layouts, dtypes, threads

@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_error"])
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_dense_and_csr_agree(clf_data, loss, penalty):
    X, y = clf_data
    kw = dict(loss=loss, penalty=penalty, random_state=3, max_iter=4, tol=None,
              average=True, learning_rate="constant", eta0=0.01)
    a = SGDClassifier(**kw).fit(X, y)
    b = SGDClassifier(**kw)
    b.fit(sp.csr_matrix(X), y)
    # CSR differs only in the intercept step (scikit-learn's 0.01 decay on sparse)
    b2 = SGDClassifier(**{**kw, "fit_intercept": False})
    a2 = SGDClassifier(**{**kw, "fit_intercept": False}).fit(X, y)
    b2.fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(b2.coef_, a2.coef_, rtol=1e-9, atol=1e-12)
    assert abs(a.score(X, y) - b.score(X, y)) < 0.05


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_float32_in_float32_out(reg_data, sparse):
    X, y = reg_data
    X32 = X.astype(np.float32)
    X32 = sp.csr_matrix(X32) if sparse else X32
    m = SGDRegressor(random_state=0).fit(X32, y)
    assert m.coef_.dtype == np.float32 and m.intercept_.dtype == np.float32
    m64 = SGDRegressor(random_state=0).fit(X, y)
    np.testing.assert_allclose(m.coef_, m64.coef_, rtol=1e-3, atol=2e-2)
    assert m.predict(X32).dtype == np.float32


def test_threads_do_not_change_results(clf_data):
    X, y = clf_data
    kw = dict(random_state=0, max_iter=5, tol=None)
    a = SGDClassifier(n_jobs=1, **kw).fit(X, y)
    b = SGDClassifier(n_jobs=2, **kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))


@pytest.mark.parametrize("params", [dict(penalty="elasticnet", average=True),
                                    dict(penalty="l1"), dict(loss="log_loss")])
def test_threads_do_not_change_one_vs_rest_on_csr(clf_data, params):
    # each thread trains its class models on private copies (weights, averages, L1
    # bookkeeping) that are copied back: the same models as one thread
    X, y = clf_data
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    kw = dict(random_state=0, max_iter=4, tol=None, **params)
    a = SGDClassifier(n_jobs=1, **kw).fit(Xs, y)
    b = SGDClassifier(n_jobs=2, **kw).fit(Xs, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


def test_random_state_reproducible(clf_data):
    X, y = clf_data
    a = SGDClassifier(random_state=5, max_iter=3, tol=None).fit(X, y)
    b = SGDClassifier(random_state=5, max_iter=3, tol=None).fit(X, y)
    c = SGDClassifier(random_state=6, max_iter=3, tol=None).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_thread_count_resolution(monkeypatch):
    import os

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert effective_n_threads(None) >= 1
    assert effective_n_threads(3) == 3
    if fastgd._config.openmp_enabled():
        assert effective_n_threads(-1) == os.cpu_count()
    with pytest.raises(ValueError, match="n_jobs"):
        effective_n_threads(0)


def test_show_config(capsys):
    fastgd.show_config()
    out = capsys.readouterr().out
    assert "fastgd" in out and "OpenMP" in out and "threads" in out


# --------------------------------------------------------------- memory / copies

def test_input_is_not_modified_and_not_copied(reg_data):
    X, y = reg_data
    X = np.ascontiguousarray(np.tile(X, (50, 1)))  # 100k x 12 = 9.6 MB
    y = np.tile(y, 50)
    sw = np.ones(len(y))
    X0, y0, sw0 = X.copy(), y.copy(), sw.copy()
    m = SGDRegressor(max_iter=2, tol=None, random_state=0)
    tracemalloc.start()
    m.fit(X, y, sample_weight=sw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(sw, sw0)
    # the visiting order (int32) and the checked weights are O(n); X is not copied
    assert peak < X.nbytes / 4


def test_read_only_and_memory_mapped(tmp_path, clf_data):
    X, y = clf_data
    path = tmp_path / "X.npy"
    np.save(path, X)
    Xm = np.load(path, mmap_mode="r")
    m = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(Xm, y)
    Xr = X.copy()
    Xr.setflags(write=False)
    r = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(Xr, y)
    np.testing.assert_array_equal(m.coef_, r.coef_)
    m.predict(Xm)
    Xs = sp.csr_matrix(X)
    for a in (Xs.data, Xs.indices, Xs.indptr):
        a.setflags(write=False)
    SGDClassifier(random_state=0, max_iter=2, tol=None).fit(Xs, y).predict(Xs)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("bad, match", [
    (np.nan, "NaN"), (np.inf, "infinity"),
])
def test_non_finite_input(reg_data, bad, match):
    X, y = reg_data
    Xb = X.copy()
    Xb[3, 2] = bad
    with pytest.raises(ValueError, match=match):
        SGDRegressor().fit(Xb, y)
    yb = y.copy()
    yb[0] = bad
    with pytest.raises(ValueError, match=match):
        SGDRegressor().fit(X, yb)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["first row", "last row"])
@pytest.mark.parametrize("make, params", [
    (SGDRegressor, {}),
    (SGDRegressor, dict(n_jobs=2)),                      # replicas
    (SGDRegressor, dict(penalty="l1", average=True)),    # lazy sparse path
    (SGDClassifier, dict(loss="hinge")),                 # margin NaN: no update
    (SGDClassifier, dict(loss="log_loss", n_jobs=2)),    # one-vs-rest on threads
    (SGDClassifier, dict(batch_size=8)),                 # checked before training
    (SGDRegressor, dict(batch_size="full")),
    (SGDRegressor, dict(early_stopping=True)),
])
@pytest.mark.parametrize("sparse", [False, True])
def test_non_finite_x_found_by_the_training_pass(clf_data, make, params, sparse,
                                                 where, bad):
    # the per-sample kernels check X while they read it (no separate pass): every
    # path must still stop with scikit-learn's message, leave no model, and not
    # touch X
    X, y = clf_data
    Xb = X.copy()
    Xb[0 if where == "first row" else -1, 5] = bad
    if sparse:
        Xb = sp.csr_matrix(Xb)
    before = Xb.copy()
    est = make(random_state=0, max_iter=3, tol=None, **params)
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        est.fit(Xb, y)
    assert not hasattr(est, "coef_")
    if not params.get("early_stopping"):  # partial_fit refuses early stopping
        with pytest.raises(ValueError, match="Input X contains"):
            est.partial_fit(Xb, y, **({"classes": np.unique(y)}
                                      if make is SGDClassifier else {}))
        assert not hasattr(est, "coef_")
    if sparse:
        np.testing.assert_array_equal(Xb.data, before.data)
    else:
        np.testing.assert_array_equal(Xb, before)


@pytest.mark.parametrize("params, match", [
    (dict(loss="nope"), "'loss' parameter"),
    (dict(alpha=-1.0), "'alpha' parameter"),
    (dict(eta0=0.0), "'eta0' parameter"),
    (dict(learning_rate="fast"), "'learning_rate' parameter"),
    (dict(penalty="l3"), "'penalty' parameter"),
    (dict(max_iter=0), "'max_iter' parameter"),
    (dict(decay_rate=1.5), "'decay_rate' parameter"),
    (dict(n_jobs=0), "n_jobs"),
    (dict(learning_rate="optimal", alpha=0.0), "alpha must be > 0"),
    (dict(penalty="elasticnet", l1_ratio=None), "l1_ratio must be set"),
    (dict(learning_rate="pa1", loss="log_loss"), "only works with loss 'hinge'"),
])
def test_bad_parameters(clf_data, params, match):
    X, y = clf_data
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**params).fit(X, y)


def test_bad_shapes(reg_data, clf_data):
    X, y = reg_data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SGDRegressor().fit(X, y[:-1])
    with pytest.raises(ValueError, match="2D array"):
        SGDRegressor().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="sample_weight"):
        SGDRegressor().fit(X, y, sample_weight=np.ones(3))
    m = SGDRegressor(max_iter=2, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :5])
    with pytest.raises(ValueError, match="coef_init"):
        SGDRegressor().fit(X, y, coef_init=np.zeros(3))
    Xc, yc = clf_data
    with pytest.raises(ValueError, match="Unknown label type"):
        SGDClassifier().fit(Xc, yc + 0.5)
    with pytest.raises(ValueError, match="greater than one"):
        SGDClassifier().fit(Xc, np.zeros(len(yc)))
    with pytest.raises(ValueError, match="early_stopping should be False"):
        SGDClassifier(early_stopping=True).partial_fit(Xc, yc, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="balanced"):
        SGDClassifier(class_weight="balanced").partial_fit(Xc, yc, classes=[0, 1, 2])


def test_divergence_raises_and_names_the_learning_rate(reg_data):
    X, y = reg_data
    m = SGDRegressor(learning_rate="constant", eta0=50.0, penalty=None, max_iter=5,
                     tol=None)
    with pytest.raises(ValueError, match="diverged.*learning_rate='constant', eta0=50"):
        m.fit(X * 1e100, y)
    assert not hasattr(m, "coef_")
    ok = SGDRegressor(max_iter=3, tol=None, random_state=0).fit(X, y)
    before = ok.coef_.copy()
    with pytest.raises(ValueError, match="diverged"):
        ok.set_params(learning_rate="constant", eta0=50.0).partial_fit(X * 1e100, y)
    np.testing.assert_array_equal(ok.coef_, before)


# --------------------------------------------------------------- training options

def test_sample_weight_zero_removes_samples(reg_data):
    X, y = reg_data
    sw = np.ones(len(y))
    sw[::2] = 0
    kw = dict(shuffle=False, max_iter=3, tol=None, penalty=None,
              learning_rate="constant")
    a = SGDRegressor(**kw).fit(X, y, sample_weight=sw)
    b = SGDRegressor(**kw).fit(X[1::2], y[1::2])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-12)


def test_balanced_class_weight(clf_data):
    X, y = clf_data
    y = y.copy()
    y[y == 2] = 1
    y[:100] = 2
    w = compute_class_weight("balanced", classes=np.unique(y), y=y)
    kw = dict(random_state=0, max_iter=3, tol=None, loss="log_loss")
    a = SGDClassifier(class_weight="balanced", **kw).fit(X, y)
    b = SGDClassifier(class_weight=dict(enumerate(w)), **kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    plain = SGDClassifier(**kw).fit(X, y)
    # the rare class is predicted more often with balanced weights
    assert (a.predict(X) == 2).sum() > (plain.predict(X) == 2).sum()


def test_tol_stops_and_warns(reg_data):
    X, y = reg_data
    m = SGDRegressor(random_state=0, max_iter=1000).fit(X, y)
    assert m.n_iter_ < 1000
    with pytest.warns(ConvergenceWarning):
        SGDRegressor(random_state=0, max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SGDRegressor(random_state=0, max_iter=2, tol=None).fit(X, y)


def test_early_stopping(clf_data):
    X, y = clf_data
    m = SGDClassifier(early_stopping=True, random_state=0, max_iter=200,
                      loss="log_loss").fit(X, y)
    assert m.n_iter_ < 200
    assert len(m.validation_loss_curve_) == m.n_iter_
    assert np.argmin(m.validation_loss_curve_) <= m.n_iter_ - 1 - 0 * m.n_iter_no_change


def test_adaptive_learning_rate_divides_eta(reg_data):
    X, y = reg_data
    m = SGDRegressor(learning_rate="adaptive", eta0=0.1, random_state=0,
                     max_iter=200).fit(X, y)
    assert m.n_iter_ > 5  # at least one division by 5 before stopping
    assert m.score(X, y) > 0.99


def test_warm_start_and_init(reg_data):
    X, y = reg_data
    first = SGDRegressor(max_iter=5, tol=None, random_state=0).fit(X, y)
    warm = SGDRegressor(max_iter=1, tol=None, random_state=0, warm_start=True,
                        learning_rate="constant", eta0=1e-12)
    warm.fit(X, y, coef_init=first.coef_, intercept_init=first.intercept_)
    np.testing.assert_allclose(warm.coef_, first.coef_, rtol=1e-6)
    warm.fit(X, y)  # starts from its own coef_
    np.testing.assert_allclose(warm.coef_, first.coef_, rtol=1e-6)
    cold = SGDRegressor(max_iter=1, tol=None, learning_rate="constant", eta0=1e-12)
    cold.fit(X, y)
    assert np.abs(cold.coef_).max() < 1e-6


def test_exponential_and_linear_schedules_learn(reg_data):
    X, y = reg_data
    for kw in [dict(learning_rate="exponential", eta0=0.05, decay_rate=0.7),
               dict(learning_rate="linear", eta0=0.05, eta_min=0.001)]:
        m = SGDRegressor(max_iter=15, tol=None, random_state=0, **kw).fit(X, y)
        assert m.score(X, y) > 0.99


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
def test_predict_proba(clf_data, loss):
    X, y = clf_data
    m = SGDClassifier(loss=loss, random_state=0).fit(X, y)
    p = m.predict_proba(X)
    assert p.shape == (2000, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.all((p >= 0) & (p <= 1))
    if loss == "log_loss":
        np.testing.assert_array_equal(p.argmax(axis=1), m.predict(X))
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(m.predict_log_proba(X), np.log(p))
    b = SGDClassifier(loss=loss, random_state=0).fit(X, y == 1)
    pb = b.predict_proba(X)
    if loss == "log_loss":
        np.testing.assert_allclose(pb[:, 1], 1 / (1 + np.exp(-b.decision_function(X))))
    assert not hasattr(SGDClassifier(loss="hinge"), "predict_proba")


def test_log_loss_large_margins_stay_finite(clf_data):
    X, y = clf_data
    m = SGDClassifier(loss="log_loss", alpha=1e-7, max_iter=5, tol=None,
                      random_state=0).fit(X * 1e3, y)
    assert np.all(np.isfinite(m.coef_))
    assert np.all(np.isfinite(m.predict_proba(X * 1e3)))
    assert np.isfinite(m.objective(X * 1e3, y))


def test_sparsify_densify_and_pickle(clf_data):
    X, y = clf_data
    m = SGDClassifier(penalty="l1", alpha=1e-3, random_state=0, max_iter=5,
                      tol=None).fit(X, y)
    assert np.any(m.coef_ == 0)
    pred = m.predict(X)
    m.sparsify()
    assert sp.issparse(m.coef_)
    np.testing.assert_array_equal(m.predict(X), pred)
    clone = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(clone.predict(X), pred)
    clone.densify()
    assert isinstance(clone.coef_, np.ndarray)
    clone.partial_fit(X, y)  # training continues after a round trip
    assert clone.t_ > m.t_


def test_csr_with_int64_indices(clf_data):
    X, y = clf_data
    X32 = sp.csr_matrix(X)
    X64 = X32.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    kw = dict(penalty="elasticnet", average=True, random_state=0, max_iter=3, tol=None)
    a = SGDClassifier(**kw).fit(X32, y)
    b = SGDClassifier(**kw).fit(X64, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    # same coefficients; the sums may round differently where terms cancel
    np.testing.assert_allclose(a.decision_function(X32), b.decision_function(X64),
                               rtol=1e-12, atol=1e-12)


def test_verbose_reports_epochs(capsys, reg_data):
    X, y = reg_data
    SGDRegressor(verbose=1, max_iter=3, tol=None, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == 3 and "Objective" in out
    # what scikit-learn's SGD prints, too
    assert out.count("Avg. loss: ") == 3
    assert out.count("Total training time: ") == 3


def test_threadpoolctl_limit_is_respected(monkeypatch):
    from threadpoolctl import threadpool_limits

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with threadpool_limits(limits=1, user_api="openmp"):
        # a limit caps every n_jobs: fastgd inside a limited section stays within it
        assert effective_n_threads(None) == 1
        assert effective_n_threads(2) == 1
        assert effective_n_threads(-1) == 1


def _threads_in_a_worker():
    return effective_n_threads(-1), effective_n_threads(8)


def test_nested_in_joblib_workers_takes_the_inner_limit():
    # joblib's loky workers limit OpenMP to cores // n_jobs (as under GridSearchCV)
    import os

    from joblib import Parallel, delayed

    cores = os.cpu_count() or 1
    inner = max(1, cores // 2)
    got = Parallel(n_jobs=2, backend="loky")(delayed(_threads_in_a_worker)()
                                             for _ in range(2))
    assert got == [(inner, min(8, inner))] * 2


# ------------------------------------------------------------ multi-threaded SGD

def _regression(n=20_000, d=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.3)
    w = rng.normal(size=d) * (np.arange(d) < d // 2)
    return X, X @ w + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("average", [False, True])
def test_threaded_sgd_reaches_least_squares(sparse, average):
    from sklearn.linear_model import LinearRegression

    X, y = _regression()
    best = LinearRegression().fit(X, y).score(X, y)
    Xf = sp.csr_matrix(X) if sparse else X
    kw = dict(max_iter=10, tol=None, random_state=0, average=average, alpha=1e-6)
    one = SGDRegressor(n_jobs=1, **kw).fit(Xf, y)
    two = SGDRegressor(n_jobs=2, **kw).fit(Xf, y)
    assert two.score(X, y) > best - 0.01
    if not average:  # (the averages differ more: they start from different iterates)
        # two threads solve the same problem: the coefficients agree to the SGD noise
        np.testing.assert_allclose(two.coef_, one.coef_, atol=0.02)


def test_threaded_sgd_is_reproducible_for_a_given_n_jobs():
    X, y = _regression()
    fits = [SGDRegressor(n_jobs=2, random_state=3, max_iter=3, tol=None).fit(X, y)
            for _ in range(2)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].intercept_ == fits[1].intercept_


def test_threaded_sgd_keeps_l1_zeros():
    X, y = _regression(d=30)
    kw = dict(penalty="l1", alpha=0.01, max_iter=10, tol=None, random_state=0)
    for Xf in (X, sp.csr_matrix(X)):
        one = SGDRegressor(n_jobs=1, **kw).fit(Xf, y)
        two = SGDRegressor(n_jobs=2, **kw).fit(Xf, y)
        assert np.sum(two.coef_ == 0) >= np.sum(one.coef_ == 0) - 2 > 0
        np.testing.assert_array_equal(two.coef_[:15] != 0, one.coef_[:15] != 0)


def test_threaded_binary_classifier_matches_one_thread():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 10))
    y = (X @ rng.normal(size=10) + 0.3 * rng.normal(size=20_000) > 0).astype(int)
    kw = dict(loss="log_loss", max_iter=5, tol=None, random_state=0)
    one = SGDClassifier(n_jobs=1, **kw).fit(X, y)
    two = SGDClassifier(n_jobs=2, **kw).fit(X, y)
    assert abs(two.score(X, y) - one.score(X, y)) < 0.01


# ---------------------------------------------------------------- docstrings

def _documented(cls, section):
    """``{name: description}`` of a numpydoc section of ``cls``'s docstring (an
    entry of several names, ``a, b : float``, describes each)."""
    try:
        from numpydoc.docscrape import NumpyDocString
    except ImportError:  # scikit-learn carries a copy
        from sklearn.externals._numpydoc.docscrape import NumpyDocString
    found = {}
    for entry in NumpyDocString(cls.__doc__)[section]:
        for name in entry.name.split(","):
            found[name.strip()] = " ".join(entry.desc).strip()
    return found


def _attributes_set_by_fit(make):
    """The public attributes of ``make`` after fits that set every one of them: on a
    DataFrame (feature names), with early stopping where it can be set; its public
    properties (``offset_``); and ``cluster_traffic_``, set by a fit on Dask
    collections, for the estimators that take them."""
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = rng.integers(3, size=60)
    params = ({"early_stopping": True} if "early_stopping" in make().get_params()
              else {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = make(max_iter=3, random_state=0, **params).fit(X, y)
    names = {name for name in vars(est)
             if name.endswith("_") and not name.startswith("_")}
    names |= {name for name in dir(make) if name.endswith("_")
              and not name.startswith("_")
              and isinstance(getattr(make, name), property)}
    if make is not fastgd.SGDOneClassSVM:
        names.add("cluster_traffic_")
    return names


ESTIMATORS = [SGDRegressor, SGDClassifier, fastgd.SGDOneClassSVM]


@pytest.mark.parametrize("make", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_described(make):
    # penalty, alpha, tol, max_iter, early_stopping, average and class_weight had a
    # type and a default but no description
    documented = _documented(make, "Parameters")
    parameters = [name for name in inspect.signature(make.__init__).parameters
                  if name != "self"]
    undescribed = [name for name in parameters if not documented.get(name)]
    assert undescribed == []
    assert sorted(documented) == sorted(parameters)  # nothing stale either


@pytest.mark.parametrize("make", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_fitted_attribute_is_described(make):
    documented = _documented(make, "Attributes")
    attributes = _attributes_set_by_fit(make)
    assert attributes >= {"coef_", "intercept_", "n_iter_", "t_", "loss_curve_",
                          "n_features_in_", "feature_names_in_"}
    assert sorted(name for name in attributes if not documented.get(name)) == []


@pytest.mark.parametrize("make", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_learning_rate_is_explained(make):
    # only 'auto' was explained, and its list of values had a run of spaces in it
    # (a backslash continuation inside the docstring)
    description = _documented(make, "Parameters")["learning_rate"]
    options = make._parameter_constraints["learning_rate"][0].options
    for name in options:
        assert re.search(rf"- ``'{name}'``: \S", description), name
    header = re.search(r"^    learning_rate : (.*)$", make.__doc__, re.M).group(1)
    assert "  " not in header
    assert sorted(re.findall(r"'(\w+)'", header.split("}")[0])) == sorted(options)
    assert re.findall(r"\{[a-z_0-9]+\}", make.__doc__) == []  # every slot filled
