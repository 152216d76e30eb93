"""Training and prediction on Dask collections, on a real ``distributed.LocalCluster``
(2 worker processes, 1 thread each), against the same fits on NumPy arrays."""
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fastgd
from fastgd.bench.cluster import _peak_mib

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(scope="module")
def client():
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                           processes=True, dashboard_address=None)
    with distributed.Client(cluster) as c:
        c.run(lambda: __import__("fastgd"))
        yield c
    cluster.close()


def _binary(n=6000, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def _regression(n=6000, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)


def _multiclass(n=6000, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, k)) + rng.standard_normal((n, k)), axis=1)
    return X, y


def _sparse(n=6000, d=300, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.05, format="csr", random_state=seed)
    y = (X @ rng.standard_normal(d) > 0).astype(int)
    return X, y


def _chunked(X, y, rows, client=None):
    if sp.issparse(X):
        blocks = [da.from_array(X[a:a + rows], chunks=X[a:a + rows].shape,
                                asarray=False)
                  for a in range(0, X.shape[0], rows)]
        Xd = da.concatenate(blocks, axis=0)
    else:
        Xd = da.from_array(X, chunks=(rows, X.shape[1]))
    yd = da.from_array(y, chunks=(rows,) + y.shape[1:])
    if client is not None:
        Xd, yd = client.persist([Xd, yd])
        distributed.wait([Xd, yd])
    return Xd, yd


def _rel(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


# L-BFGS stopped before it reaches the rounding floor of the objective, where steps
# of the size of rounding move the weights further (the objectives stay equal)
FULL_BATCH = [
    dict(batch_size="full", optimizer="lbfgs", max_iter=20, tol=None),
    dict(batch_size="full", optimizer="nesterov", max_iter=30, tol=None),
    dict(batch_size="full", optimizer="lbfgs", max_iter=20, tol=None,
         penalty="elasticnet", alpha=1e-3),
]


@pytest.mark.parametrize("params", FULL_BATCH)
@pytest.mark.parametrize("case", ["regression", "binary", "multinomial", "ovr",
                                  "sparse"])
def test_full_batch_equals_the_numpy_fit(client, params, case):
    if case == "regression":
        X, y = _regression()
        est = fastgd.SGDRegressor(**params)
    elif case == "sparse":
        X, y = _sparse()
        est = fastgd.SGDClassifier(loss="log_loss", **params)
    else:
        X, y = _multiclass() if case in ("multinomial", "ovr") else _binary()
        est = fastgd.SGDClassifier(loss="log_loss", multi_class=(
            "multinomial" if case == "multinomial" else "ovr"), **params)
    Xd, yd = _chunked(X, y, 1500, client)
    local = pickle.loads(pickle.dumps(est)).fit(X, y)
    on_cluster = est.fit(Xd, yd)
    assert isinstance(on_cluster.coef_, np.ndarray)
    # the sums' order differs (chunks, then a tree): 20 L-BFGS iterations carry
    # their rounding into the weights at about 1e-10
    assert _rel(on_cluster.coef_, local.coef_) < 1e-9
    assert _rel(on_cluster.intercept_, local.intercept_) < 1e-9
    assert on_cluster.n_iter_ == local.n_iter_
    np.testing.assert_allclose(on_cluster.loss_curve_, local.loss_curve_, rtol=1e-10)
    traffic = on_cluster.cluster_traffic_
    # one round trip per evaluation of the objective (L-BFGS's line search may
    # evaluate more than once in an iteration, and its last, converged iteration
    # none)
    assert 0.5 <= traffic["round_trips_per_epoch"] < 3


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
def test_proximal_gradient_on_more_rows_than_the_curvature_sample(client, optimizer):
    # the curvature estimate that starts the line search reads a sample of 20,000
    # rows: the cluster samples the same rows as the fit on one machine
    X, y = _binary(n=50_000, d=8)
    Xd, yd = _chunked(X, y, 12_500, client)
    kw = dict(loss="log_loss", batch_size="full", optimizer=optimizer, max_iter=15,
              tol=None)
    local = fastgd.SGDClassifier(**kw).fit(X, y)
    on_cluster = fastgd.SGDClassifier(**kw).fit(Xd, yd)
    assert _rel(on_cluster.coef_, local.coef_) < 1e-10


def _optimum(X, y, alpha):
    est = fastgd.SGDClassifier(loss="log_loss", batch_size="full", optimizer="lbfgs",
                               alpha=alpha, max_iter=300, tol=None).fit(X, y)
    return est.objective(X, y)


SGD_SETTINGS = [
    dict(),
    dict(average=True, learning_rate="invscaling", eta0=1.0, power_t=0.5),
    dict(batch_size=32),
    dict(batch_size=16, optimizer="adam"),
]


@pytest.mark.parametrize("params", SGD_SETTINGS)
@pytest.mark.parametrize("sparse", [False, True])
def test_sgd_reaches_the_one_machine_gap(client, params, sparse):
    X, y = _sparse() if sparse else _binary(n=12000)
    alpha = 1e-3
    best = _optimum(X, y, alpha)
    Xd, yd = _chunked(X, y, 1500, client)
    gaps = {"local": [], "cluster": []}
    for seed in range(3):
        kw = dict(loss="log_loss", alpha=alpha, max_iter=5, tol=None,
                  random_state=seed, **params)
        for where, (A, b) in (("local", (X, y)), ("cluster", (Xd, yd))):
            est = fastgd.SGDClassifier(**kw).fit(A, b)
            gaps[where].append(est.objective(X, y) / best - 1)
    local, cluster = np.mean(gaps["local"]), np.mean(gaps["cluster"])
    # within seed noise of the one-machine fit: the spread of the seeds, and no
    # less than a tenth of the gap
    noise = max(np.ptp(gaps["local"]), np.ptp(gaps["cluster"]), 0.1 * local, 1e-4)
    assert cluster <= local + 2 * noise, (gaps, noise)


def test_sgd_one_round_trip_per_epoch_and_model_sized_traffic(client):
    X, y = _binary(n=12000)
    Xd, yd = _chunked(X, y, 1500, client)
    est = fastgd.SGDClassifier(loss="log_loss", max_iter=4, tol=None,
                               random_state=0).fit(Xd, yd)
    traffic = est.cluster_traffic_
    assert traffic["round_trips_per_epoch"] == 1
    # a few model states per worker, not the data (X is 1.1 MB)
    assert traffic["bytes_sent_per_epoch"] < 50_000
    assert traffic["bytes_received_per_epoch"] < 50_000


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_multiclass_sgd_on_the_cluster(client, multi_class):
    X, y = _multiclass(n=12000)
    Xd, yd = _chunked(X, y, 2000, client)
    scores = {"local": [], "cluster": []}
    for seed in range(3):
        kw = dict(loss="log_loss", multi_class=multi_class, max_iter=5, tol=None,
                  random_state=seed)
        local = fastgd.SGDClassifier(**kw).fit(X, y)
        on_cluster = fastgd.SGDClassifier(**kw).fit(Xd, yd)
        np.testing.assert_array_equal(on_cluster.classes_, local.classes_)
        assert on_cluster.coef_.shape == local.coef_.shape == (4, 12)
        scores["local"].append(local.score(X, y))
        scores["cluster"].append(on_cluster.score(X, y))
    noise = max(np.ptp(scores["local"]), np.ptp(scores["cluster"]), 0.005)
    assert np.mean(scores["cluster"]) > np.mean(scores["local"]) - 2 * noise, scores


def test_predictions_are_lazy_and_equal_numpys(client):
    X, y = _multiclass()
    Xd, yd = _chunked(X, y, 1500, client)
    est = fastgd.SGDClassifier(loss="log_loss", max_iter=3, tol=None,
                               random_state=0).fit(X, y)
    for method in ("predict", "decision_function", "predict_proba",
                   "predict_log_proba"):
        lazy = getattr(est, method)(Xd)
        assert isinstance(lazy, da.Array), method
        assert lazy.chunks[0] == Xd.chunks[0]
        np.testing.assert_allclose(lazy.compute(), getattr(est, method)(X),
                                   rtol=1e-12, err_msg=method)
    assert est.score(Xd, yd) == pytest.approx(est.score(X, y), abs=1e-12)
    w = np.random.default_rng(0).random(len(y))
    assert est.score(Xd, yd, sample_weight=w) == pytest.approx(
        est.score(X, y, sample_weight=w), abs=1e-12)
    reg = fastgd.SGDRegressor(max_iter=3, tol=None, random_state=0).fit(*_regression())
    Xr, yr = _regression(seed=1)
    Xrd, yrd = _chunked(Xr, yr, 1000, client)
    assert isinstance(reg.predict(Xrd), da.Array)
    assert reg.score(Xrd, yrd) == pytest.approx(reg.score(Xr, yr), abs=1e-10)


def test_the_fitted_model_is_an_ordinary_estimator(client):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _binary()
    Xd, yd = _chunked(X, y, 1500, client)
    est = fastgd.SGDClassifier(loss="log_loss", max_iter=3, tol=None,
                               random_state=0).fit(Xd, yd)
    again = pickle.loads(pickle.dumps(est))
    assert isinstance(again.predict(X), np.ndarray)
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    # and into a Pipeline, trained on NumPy as before
    pipe = make_pipeline(StandardScaler(), again.set_params(max_iter=2)).fit(X, y)
    assert pipe.score(X, y) > 0.8


def test_dataframes_and_series(client):
    pd = pytest.importorskip("pandas")
    X, y = _regression()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    ddf = dd.from_pandas(frame, npartitions=4)
    ys = dd.from_pandas(pd.Series(y), npartitions=4)
    kw = dict(batch_size="full", optimizer="lbfgs", max_iter=30, tol=None)
    est = fastgd.SGDRegressor(**kw).fit(ddf, ys)
    local = fastgd.SGDRegressor(**kw).fit(frame, y)
    np.testing.assert_array_equal(est.feature_names_in_, local.feature_names_in_)
    assert _rel(est.coef_, local.coef_) < 1e-10
    lazy = est.predict(ddf)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), local.predict(frame), rtol=1e-9)
    renamed = dd.from_pandas(frame.rename(columns={"f0": "g0"}), npartitions=2)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(renamed)


def test_partial_fit_sample_and_class_weights(client):
    X, y = _binary()
    y[:4000] = 0  # unbalanced
    w = np.random.default_rng(1).random(len(y)) + 0.5
    Xd, yd = _chunked(X, y, 1500, client)
    wd = da.from_array(w, chunks=1000)  # other chunks than X: y and weights move
    kw = dict(loss="log_loss", batch_size="full", optimizer="lbfgs", max_iter=40,
              tol=None, class_weight="balanced")
    local = fastgd.SGDClassifier(**kw).fit(X, y, sample_weight=w)
    on_cluster = fastgd.SGDClassifier(**kw).fit(Xd, yd, sample_weight=wd)
    assert _rel(on_cluster.coef_, local.coef_) < 1e-10
    X, y = _binary(seed=2)
    Xd, yd = _chunked(X, y, 1500, client)
    est = fastgd.SGDClassifier(loss="log_loss", random_state=0)
    local = fastgd.SGDClassifier(loss="log_loss", random_state=0)
    for _ in range(3):
        est.partial_fit(Xd, yd, classes=[0, 1])
        local.partial_fit(X, y, classes=[0, 1])
    assert est.n_iter_ == 1 and est.t_ == local.t_ == 3 * len(y) + 1
    assert est.score(X, y) > local.score(X, y) - 0.02


def test_local_schedulers_without_a_client():
    X, y = _binary()
    Xd, yd = _chunked(X, y, 1500)
    kw = dict(batch_size="full", optimizer="lbfgs", max_iter=30, tol=None,
              loss="log_loss")
    local = fastgd.SGDClassifier(**kw).fit(X, y)
    for scheduler in ("sync", "threads"):
        with dask.config.set(scheduler=scheduler):
            est = fastgd.SGDClassifier(**kw).fit(Xd, yd)
            assert _rel(est.coef_, local.coef_) < 1e-10
            sgd = fastgd.SGDClassifier(loss="log_loss", max_iter=3, tol=None,
                                       random_state=0).fit(Xd, yd)
            assert sgd.score(Xd, yd) > 0.8


def _kill_a_worker_when(client, task_prefix, killed):
    """Kill (SIGKILL) the process of the first worker seen running a task whose key
    starts with ``task_prefix``."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not killed:
        for worker, keys in client.processing().items():
            if any(str(k).strip("('").startswith(task_prefix) for k in keys):
                os.kill(pids[worker], signal.SIGKILL)
                killed.append(worker)
                return
        time.sleep(0.002)


@pytest.mark.parametrize("params,task", [
    (dict(batch_size="full", optimizer="lbfgs", max_iter=60, tol=None),
     "chunk_gradient"),
    (dict(max_iter=30, tol=None, random_state=0), "chunk_sgd_epoch"),
    # during the first pass over the chunks: Dask computes the killed worker's chunks
    # again elsewhere, and the SGD epochs then find them all on one worker
    (dict(max_iter=10, tol=None, random_state=0), "chunk_summary"),
])
def test_a_worker_killed_during_the_fit(params, task):
    # a cluster of its own: the nanny starts a new worker in place of the killed one
    X, y = _binary(n=40000, d=20)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        Xd, yd = _chunked(X, y, 5000, c)
        kw = dict(loss="log_loss", **params)
        reference = fastgd.SGDClassifier(**kw).fit(Xd, yd)
        killed = []
        killer = threading.Thread(target=_kill_a_worker_when, args=(c, task, killed))
        killer.start()
        est = fastgd.SGDClassifier(**kw).fit(Xd, yd)
        killer.join()
    assert killed, "no worker was killed during the fit"
    # the lost chunks are computed again and the epoch is redone: the same model,
    # whichever worker holds the chunks afterwards
    if params.get("batch_size") == "full":
        assert _rel(est.coef_, reference.coef_) < 1e-10
    else:
        np.testing.assert_array_equal(est.coef_, reference.coef_)
    assert est.n_iter_ == reference.n_iter_


@pytest.mark.parametrize("params", [
    dict(),
    dict(average=True, learning_rate="invscaling", eta0=1.0, power_t=0.5),
    dict(batch_size=16, optimizer="adam"),
])
def test_the_sgd_model_does_not_depend_on_where_the_chunks_are(client, params):
    """The chunks' order comes from random_state alone: input not persisted,
    persisted where Dask puts it, or persisted on one worker give the same model."""
    X, y = _binary(n=8000)
    kw = dict(loss="log_loss", max_iter=3, tol=None, random_state=0, **params)
    first = sorted(client.scheduler_info()["workers"])[0]
    Xd, yd = _chunked(X, y, 1000)
    inputs = {"not persisted": (Xd, yd),
              "persisted": _chunked(X, y, 1000, client),
              "on one worker": client.persist([Xd, yd], workers=[first])}
    distributed.wait(list(inputs["on one worker"]))
    fits = {where: fastgd.SGDClassifier(**kw).fit(*data)
            for where, data in inputs.items()}
    reference = fits.pop("not persisted")
    for where, est in fits.items():
        np.testing.assert_array_equal(est.coef_, reference.coef_, err_msg=where)
        np.testing.assert_array_equal(est.intercept_, reference.intercept_,
                                      err_msg=where)
        assert est.loss_curve_ == reference.loss_curve_, where


def _from_blocks(blocks, declared_rows):
    """A Dask array of the NumPy ``blocks`` that declares ``declared_rows`` rows in
    each (da.from_delayed believes the shape it is given)."""
    return da.concatenate([
        da.from_delayed(dask.delayed(block), (rows,) + block.shape[1:],
                        dtype=block.dtype)
        for block, rows in zip(blocks, declared_rows)])


def _wrong_rows(name, chunk, real, declared):
    return re.escape(f"Chunk {chunk} of {name} in the Dask input has {real} rows "
                     f"where the collection declares {declared}; build the collection "
                     f"with each chunk's true shape (the shape given to "
                     f"da.from_delayed, the lengths given to to_dask_array).")


def test_chunks_of_another_length_than_declared_are_named(client):
    X, y = _binary()
    Xd, yd = _chunked(X, y, 1500)
    # X's chunk 2 holds 1500 rows, declared 1400
    Xbad = _from_blocks([X[:1500], X[1500:3000], X[3000:4500], X[4500:]],
                        [1500, 1500, 1400, 1500])
    ybad = da.from_array(y[:5900], chunks=((1500, 1500, 1400, 1500),))
    for params in (dict(max_iter=2), dict(batch_size="full", optimizer="lbfgs",
                                          max_iter=2)):
        est = fastgd.SGDClassifier(loss="log_loss", **params)
        with pytest.raises(ValueError, match=_wrong_rows("X", 2, 1500, 1400)):
            est.fit(Xbad, ybad)
        assert not hasattr(est, "coef_")
    est = fastgd.SGDClassifier(loss="log_loss", max_iter=2)
    # y's chunk 1 holds a row less than declared, in X's chunks
    y_short = _from_blocks([y[:1500], y[1500:2999], y[3000:4500], y[4500:]],
                           [1500] * 4)
    with pytest.raises(ValueError, match=_wrong_rows("y", 1, 1499, 1500)):
        est.fit(Xd, y_short)
    # in chunks of its own, cut again to X's: a row too many would be dropped unseen
    y_long = _from_blocks([y[:1000], y[1000:2001]] + [y[a:a + 1000]
                                                      for a in range(2000, 6000, 1000)],
                          [1000] * 6)
    with pytest.raises(ValueError, match=_wrong_rows("y", 1, 1001, 1000)):
        est.fit(Xd, y_long)
    w_long = _from_blocks([np.ones(1000), np.ones(1001)] + [np.ones(1000)] * 4,
                          [1000] * 6)
    with pytest.raises(ValueError, match=_wrong_rows("sample_weight", 1, 1001, 1000)):
        est.fit(Xd, yd, sample_weight=w_long)
    # a DataFrame's Series made an array with lengths that are not its partitions'
    pd = pytest.importorskip("pandas")
    series = dd.from_pandas(pd.Series(np.append(y, 0)), npartitions=4)
    assert series.map_partitions(len).compute().tolist() == [1501] + [1500] * 3
    with pytest.raises(ValueError, match=_wrong_rows("y", 0, 1501, 1500)):
        est.fit(Xd, series.to_dask_array(lengths=[1500] * 4))
    assert not hasattr(est, "coef_")


def _lost_input(lost):
    names = " and ".join(f"{name}'s chunk{'s' if len(chunks) > 1 else ''} "
                         f"{', '.join(map(str, chunks))}"
                         for name, chunks in lost.items())
    return re.escape(
        f"The Dask input was lost with the worker that held it: {names} depend on "
        f"futures the cluster no longer has (data put on the cluster with "
        f"client.scatter has no source Dask could compute it again from); scatter "
        f"with broadcast=True (a copy on every worker), persist a collection Dask can "
        f"recompute (da.from_array, or one read from files), or scatter the data "
        f"again, then fit again.")


def _scattered(c, blocks, workers):
    """A Dask array of ``blocks``, each scattered to the worker given for it (under a
    key of its own: scattering the same block again would otherwise reuse the key of
    the first scatter, wherever that one was placed or lost)."""
    futures = [c.scatter(block, workers=[worker], hash=False)
               for block, worker in zip(blocks, workers)]
    return da.concatenate([da.from_delayed(future, block.shape, dtype=block.dtype)
                           for future, block in zip(futures, blocks)])


def test_scattered_input_lost_with_a_worker_is_named():
    """Scattered data has no lineage: once the worker that holds it dies, before or
    during the fit, the fit says which chunks were lost, and how to keep them."""
    X, y = _binary(n=40000, d=20)
    Xs = [X[a:a + 5000] for a in range(0, len(X), 5000)]
    ys = [y[a:a + 5000] for a in range(0, len(y), 5000)]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        pids = c.run(os.getpid)
        a, b = sorted(pids)
        # X's even chunks on a, its odd ones on b; y on b but for its chunk 2
        Xd = _scattered(c, Xs, [a, b] * 4)
        yd = _scattered(c, ys, [b, b, a] + [b] * 5)
        # and a DataFrame of scattered pandas frames
        pd = pytest.importorskip("pandas")
        frames = [c.scatter(pd.DataFrame(block), workers=[worker], hash=False)
                  for block, worker in zip(Xs, [a, b] * 4)]
        frame = dd.from_delayed(frames, meta=pd.DataFrame(Xs[0][:0]))
        os.kill(pids[a], signal.SIGKILL)
        est = fastgd.SGDClassifier(loss="log_loss", max_iter=30, tol=None)
        with pytest.raises(RuntimeError, match=_lost_input({"X": [0, 2, 4, 6],
                                                             "y": [2]})):
            est.fit(Xd, yd)
        with pytest.raises(RuntimeError, match=_lost_input({"X": [0, 2, 4, 6]})):
            est.fit(frame, y)
        # during the fit: the worker that trains first dies
        c.wait_for_workers(2)
        pids = c.run(os.getpid)
        a, b = sorted(pids)
        Xd = _scattered(c, Xs, [a, b] * 4)
        yd = _scattered(c, ys, [a, b] * 4)
        killed = []
        killer = threading.Thread(target=_kill_a_worker_when,
                                  args=(c, "chunk_sgd_epoch", killed))
        killer.start()
        with pytest.raises(RuntimeError) as error:
            est.fit(Xd, yd)
        killer.join()
    assert killed, "no worker was killed during the fit"
    lost = [0, 2, 4, 6] if killed[0] == a else [1, 3, 5, 7]
    assert re.fullmatch(_lost_input({"X": lost, "y": lost}), str(error.value))
    assert not hasattr(est, "coef_")


def test_bad_input_gets_a_clear_error_and_no_model(client):
    X, y = _binary()
    Xd, yd = _chunked(X, y, 1500, client)
    est = fastgd.SGDClassifier(loss="log_loss", max_iter=2, tol=None)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: "
                                         r"\[6000, 5999\]"):
        est.fit(Xd, yd[:-1])
    bad = X.copy()
    bad[4000, 3] = np.nan
    Xbad = da.from_array(bad, chunks=(1500, 12))
    with pytest.raises(ValueError, match="chunk 2 of the Dask input: Input X "
                                         "contains NaN"):
        est.fit(Xbad, yd)
    with pytest.raises(ValueError, match="chunk 2 of the Dask input: Input X "
                                         "contains NaN"):
        fastgd.SGDClassifier(loss="log_loss", batch_size="full", optimizer="lbfgs",
                             max_iter=2).fit(Xbad, yd)
    infinite = bad.copy()
    infinite[4000, 3] = np.inf
    Xinf = da.from_array(infinite, chunks=(1500, 12))
    for params in (dict(batch_size="full"), dict(batch_size=8),
                   dict(batch_size="full", optimizer="nesterov")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no RuntimeWarning before the error
            with pytest.raises(ValueError, match="chunk 2 of the Dask input: Input X "
                                                 "contains infinity"):
                fastgd.SGDClassifier(loss="log_loss", max_iter=2, **params).fit(Xinf,
                                                                               yd)
    unknown = Xd[Xd[:, 0] > -10]  # boolean indexing: chunk sizes unknown
    with pytest.raises(ValueError, match="unknown chunk sizes.*compute_chunk_sizes"):
        est.fit(unknown, yd)
    labels = da.from_array(np.where(y > 0, "a", "b").astype(object), chunks=1500)
    reg = fastgd.SGDRegressor(max_iter=2)
    with pytest.raises(ValueError, match=r"chunk \d+ of the Dask input: could not "
                                         r"convert string to float"):
        reg.fit(Xd, labels)
    with pytest.raises(ValueError, match="early_stopping=True with batch_size='full' "
                                         "is not available on Dask"):
        fastgd.SGDClassifier(early_stopping=True, batch_size="full").fit(Xd, yd)
    with pytest.raises(ValueError, match="led to an empty set"):
        fastgd.SGDClassifier(early_stopping=True, validation_fraction=0.9999).fit(Xd, yd)
    assert not hasattr(est, "coef_") and not hasattr(reg, "coef_")
    # a failed fit leaves a fitted estimator as it was
    est.fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError):
        est.fit(Xbad, yd)
    np.testing.assert_array_equal(est.coef_, coef)
    assert not hasattr(est, "cluster_traffic_")


@pytest.mark.parametrize("params", [
    dict(max_iter=2, tol=None, random_state=0),
    dict(batch_size="full", optimizer="lbfgs", max_iter=4, tol=None),
])
def test_out_of_core_from_files(tmp_path, params):
    """X on disk (an npy stack) larger than a worker's memory_limit: the fit reads it
    chunk by chunk; no worker is killed and their peak memory stays below it."""
    limit_mib, rows, d = 450, 50_000, 100
    n_chunks = 24  # 915 MiB: 458 MiB per worker
    rng = np.random.default_rng(0)
    w = rng.standard_normal(d)

    def block(i):
        return np.random.default_rng(i).standard_normal((rows, d))

    Xlazy = da.concatenate([da.from_delayed(dask.delayed(block)(i), (rows, d),
                                            dtype=float) for i in range(n_chunks)])
    with dask.config.set(scheduler="threads"):
        da.to_npy_stack(tmp_path / "X", Xlazy, axis=0)
        da.to_npy_stack(tmp_path / "y", (Xlazy @ w > 0).astype(np.int8), axis=0)
    config = {"distributed.worker.memory.spill": False,
              "distributed.worker.memory.pause": False,
              "distributed.worker.memory.target": False}
    with dask.config.set(config), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                     processes=True, dashboard_address=None,
                                     memory_limit=f"{limit_mib}MiB") as cluster, \
            distributed.Client(cluster) as c:
        c.run(lambda: __import__("fastgd"))
        pids = c.run(os.getpid)
        X = da.from_npy_stack(tmp_path / "X")
        y = da.from_npy_stack(tmp_path / "y")
        assert X.nbytes / 2 > limit_mib * 2**20
        est = fastgd.SGDClassifier(loss="log_loss", **params).fit(X, y)
        peaks = c.run(_peak_mib)
        assert c.run(os.getpid) == pids  # no worker died
    if np.isnan(max(peaks.values())):
        pytest.skip("no /proc/self/status to read the peak memory from")
    assert max(peaks.values()) < limit_mib
    assert est.score(block(0)[:5000], (block(0)[:5000] @ w > 0)) > 0.95


def test_the_core_package_does_not_import_dask(tmp_path):
    code = ("import sys, numpy as np, fastgd\n"
            "X = np.random.default_rng(0).standard_normal((50, 3))\n"
            "fastgd.SGDRegressor(max_iter=2).fit(X, X[:, 0]).predict(X)\n"
            "assert 'dask' not in sys.modules, 'dask was imported'\n")
    # the fastgd these tests import (installed, or the built source folder), not
    # the source folder of the working directory
    env = dict(os.environ,
               PYTHONPATH=os.path.dirname(os.path.dirname(fastgd.__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)


def test_balanced_holders_evens_the_rows():
    from fastgd._dask.placement import balanced_holders

    # 6 of 8 equal chunks on one worker, a third worker that holds none
    holders = ["a"] * 6 + ["b"] * 2
    assigned = balanced_holders(holders, [100] * 8, ["a", "b", "c"])
    counts = {w: assigned.count(w) for w in "abc"}
    assert sorted(counts.values()) == [2, 3, 3]
    assert all(assigned[i] == "b" for i in (6, 7))  # b's chunks stay
    # even already: nothing moves; unequal chunks: the gap narrows, never widens
    assert balanced_holders(["a", "b"] * 4, [100] * 8, ["a", "b"]) == ["a", "b"] * 4
    rows = [500, 10, 10, 10, 300]
    assigned = balanced_holders(["a"] * 5, rows, ["a", "b"])
    load = {w: sum(r for r, h in zip(rows, assigned) if h == w) for w in "ab"}
    assert abs(load["a"] - load["b"]) <= 200


def test_full_batch_on_chunks_all_on_one_worker(client):
    """Dask may persist most chunks on one worker: a solver of the whole objective
    then runs on copies spread over the workers, with the same model."""
    from fastgd._cluster import dask_rows
    from fastgd._dask.chunks import ChunkedData
    from fastgd._dask.placement import ChunkPlacement, chunk_holders
    from fastgd._training.targets import TargetEncoding

    X, y = _binary()
    first = sorted(client.scheduler_info()["workers"])[0]
    Xd = client.persist(da.from_array(X, chunks=(750, X.shape[1])), workers=[first])
    yd = client.persist(da.from_array(y, chunks=750), workers=[first])
    distributed.wait([Xd, yd])
    est = fastgd.SGDClassifier(loss="log_loss", batch_size="full", optimizer="lbfgs")
    data = ChunkedData.from_collections(dask_rows(est, Xd, reset=True), yd, None)
    assert set(chunk_holders(data)) == {first}
    encoding = TargetEncoding(np.array([0, 1]), np.ones(2))
    placement = ChunkPlacement(encoding, data, balance=True)
    assert placement.moved == 4
    assert len(set(placement.holders)) == 2
    local = fastgd.SGDClassifier(loss="log_loss", batch_size="full",
                                 optimizer="lbfgs").fit(X, y)
    on_cluster = est.fit(Xd, yd)
    assert _rel(on_cluster.coef_, local.coef_) < 1e-10
    assert _rel(on_cluster.intercept_, local.intercept_) < 1e-10


def test_a_solver_added_to_the_table_trains_on_the_cluster_too(client, monkeypatch):
    """The epoch factory hands a solver of the whole objective the gradients summed
    over the workers: a solver put in SOLVERS runs on Dask collections with nothing
    else changed, and gives the model it gives in memory."""
    from reference import FixedStepGradientDescent

    from fastgd._training import epochs

    X, y = _binary()
    monkeypatch.setitem(epochs.SOLVERS, "sgd",
                        epochs.Solver(FixedStepGradientDescent.of))
    kw = dict(loss="log_loss", batch_size="full", alpha=0.1, tol=None, max_iter=300)
    FixedStepGradientDescent.made.clear()
    local = fastgd.SGDClassifier(**kw).fit(X, y)
    Xd, yd = da.from_array(X, chunks=(1500, X.shape[1])), da.from_array(y, chunks=1500)
    on_cluster = fastgd.SGDClassifier(**kw).fit(Xd, yd)
    assert len(FixedStepGradientDescent.made) == 2
    # both stop where the objective no longer falls: the same objective to rounding,
    # the weights to its square root
    assert on_cluster.objective(X, y) == pytest.approx(local.objective(X, y),
                                                       rel=1e-13)
    assert _rel(on_cluster.coef_, local.coef_) < 1e-6


@pytest.mark.parametrize("n_features", [12, 70], ids=["summed", "sampled"])
def test_newton_on_the_cluster_equals_the_local_fit(client, n_features):
    """Over 20,000 rows the Hessian is summed over the chunks where it is cheap (as
    the fit in memory reads it from every row), else it comes from the sample of
    rows the client keeps, the rows the fit in memory samples for it: the same
    steps, to rounding."""
    X, y = _binary(n=24_000, d=n_features)
    kw = dict(loss="log_loss", batch_size="full", optimizer="newton", alpha=1e-4,
              tol=None, max_iter=30)
    local = fastgd.SGDClassifier(**kw).fit(X, y)
    Xd, yd = da.from_array(X, chunks=(6000, X.shape[1])), da.from_array(y, chunks=6000)
    on_cluster = fastgd.SGDClassifier(**kw).fit(Xd, yd)
    assert on_cluster.n_iter_ <= 15
    assert _rel(on_cluster.coef_, local.coef_) < 1e-8
    assert on_cluster.objective(X, y) == pytest.approx(local.objective(X, y),
                                                       rel=1e-13)


def test_rows_ordered_by_label_are_warned_of_and_shuffle_rows_mixes_them(client):
    """SGD visits each chunk's rows together: on rows sorted by label it is warned
    that they look ordered; ``shuffle_rows`` puts them in one random order across
    the chunks (the same rows, X and y moved alike, chunks of X's sizes), and SGD on
    the shuffled chunks is within half an accuracy point of the fit in memory."""
    X, y = _binary(n=24000, d=12, seed=3)
    X_test, y_test = X[16000:], y[16000:]
    X, y = X[:16000], y[:16000]
    order = np.argsort(y, kind="stable")
    Xd, yd = _chunked(X[order], y[order], 2000, client)
    kw = dict(loss="log_loss", max_iter=5, tol=None, random_state=0)
    with pytest.warns(UserWarning, match=r"ordered by label .* chunk \d+ has (0|100)% "
                      r"of class [01], against \d+% .* fastgd.shuffle_rows"):
        fastgd.SGDClassifier(**kw).fit(Xd, yd)
    Xs, ys = client.persist(fastgd.shuffle_rows(Xd, yd, random_state=0))
    assert Xs.chunks == Xd.chunks and ys.chunks == yd.chunks
    X_moved, y_moved = dask.compute(Xs, ys)
    assert 0.3 < y_moved[:2000].mean() < 0.7  # the first chunk holds both labels
    # the same rows, each with its label
    key = np.lexsort(X_moved.T)
    np.testing.assert_array_equal(X_moved[key], X[np.lexsort(X.T)])
    np.testing.assert_array_equal(y_moved[key], y[np.lexsort(X.T)])
    again = dask.compute(fastgd.shuffle_rows(Xd, random_state=0))[0]
    np.testing.assert_array_equal(again, X_moved)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        on_cluster = fastgd.SGDClassifier(**kw).fit(Xs, ys)
    local = fastgd.SGDClassifier(**kw).fit(X, y)
    assert abs(on_cluster.score(X_test, y_test) - local.score(X_test, y_test)) <= 0.005


def test_shuffle_rows_checks_its_input():
    with pytest.raises(TypeError, match="Dask collections: X must be"):
        fastgd.shuffle_rows(np.ones((4, 2)))
    Xd = da.ones((4, 2), chunks=2)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fastgd.shuffle_rows(Xd, np.ones(5))


def test_early_stopping_holds_rows_out_of_each_chunk(client):
    """Early stopping on Dask collections: each chunk's validation rows (drawn from
    the fit's seed and the chunk's index) are left out of training, the validation
    loss of each epoch is their mean loss, computed on the workers, and the fit
    stops as it does in memory (the same rule on ``validation_loss_curve_``)."""
    from fastgd._dask.holdout import HoldOut

    X, y = _binary(n=6000, d=12, seed=5)
    Xd, yd = _chunked(X, y, 1500, client)
    kw = dict(loss="log_loss", early_stopping=True, validation_fraction=0.2,
              n_iter_no_change=3, tol=1e-3, max_iter=200, random_state=0)
    est = fastgd.SGDClassifier(**kw).fit(Xd, yd)
    curve = np.asarray(est.validation_loss_curve_)
    assert 3 < est.n_iter_ < 200 and len(curve) == est.n_iter_
    # the last n_iter_no_change epochs did not beat the best before them by tol
    assert curve[-3:].min() > curve[:-3].min() - 1e-3
    # each chunk's held-out rows, as the tasks draw them: 300 of each 1500
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    holdout = HoldOut(0.2, int(seed))
    held = np.concatenate([1500 * i + holdout.rows(1500, i)[1] for i in range(4)])
    assert len(held) == 1200
    s = 2 * y[held] - 1
    margin = X[held] @ est.coef_.ravel() + est.intercept_[0]
    # the last epoch's validation loss is the model's mean loss on those rows
    np.testing.assert_allclose(curve[-1], np.mean(np.logaddexp(0, -s * margin)),
                               rtol=1e-10)
    # the same fit again: the same split and the same model
    again = fastgd.SGDClassifier(**kw).fit(Xd, yd)
    np.testing.assert_array_equal(again.coef_, est.coef_)
    # the model trains on the other rows alone: changing the held-out rows (and
    # their labels) changes the validation loss, not the model
    X2, y2 = X.copy(), y.copy()
    X2[held] = 0.0
    y2[held] = 1 - y2[held]
    two = dict(kw, max_iter=2)
    first = fastgd.SGDClassifier(**two).fit(Xd, yd)
    second = fastgd.SGDClassifier(**two).fit(*_chunked(X2, y2, 1500, client))
    np.testing.assert_array_equal(first.coef_, second.coef_)
    assert first.validation_loss_curve_ != second.validation_loss_curve_
    assert est.score(X, y) > 0.85
