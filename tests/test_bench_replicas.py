"""``benchmarks/replicas.py``, the measurement behind the design notes of ``_sgd.pyx``:
its own epoch loop trains the estimator's model bit for bit, and its replica runner
with one replica per round is that model up to rounding, whatever the mixing scheme."""
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import fastgd
from fastgd.bench.synthetic import sparse_classification

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "replicas.py"


@pytest.fixture(scope="module")
def replicas():
    # the script puts the source tree first on sys.path, for its own runs; fastgd is
    # imported already (the build under test), and the path is put back after
    path = list(sys.path)
    spec = importlib.util.spec_from_file_location("replicas", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
    return module


@pytest.fixture(scope="module", params=["sparse", "dense"])
def data(request, replicas):
    if request.param == "sparse":
        return sparse_classification(3000, 500, 20, np.random.default_rng(1))
    return replicas.dense_problem(3000, 20)


@pytest.mark.parametrize("average", [False, True])
def test_one_model_is_the_estimators_model(replicas, data, average):
    X, y = data
    coef, intercept = replicas.fit_logistic(X, y, 1e-4, 3, 0, average=average)
    model = fastgd.SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=3, tol=None,
                                 random_state=0, average=average,
                                 shuffle_window=replicas.WINDOW_ROWS).fit(X, y)
    np.testing.assert_array_equal(coef, model.coef_)
    np.testing.assert_array_equal(intercept, model.intercept_)
    assert replicas.accuracy(X, y, coef, intercept) == model.score(X, y)


@pytest.mark.parametrize("scheme", ["mean", "add", "touched"])
def test_one_replica_per_round_mixes_to_the_same_model(replicas, data, scheme):
    X, y = data
    if scheme == "touched" and not hasattr(X, "indptr"):
        with pytest.raises(ValueError, match="sparse rows"):
            replicas.fit_logistic(X, y, 1e-3, 1, 0,
                                  replicas=dict(k=1, scheme=scheme, rows=1024))
        return
    # alpha 1e-3: at 1e-4 the first steps on the dense rows are so large that the
    # rounding of a mix grows to a different model
    plain = replicas.fit_logistic(X, y, 1e-3, 3, 0, average=True)
    # rounds of 1024 rows: the epoch stops and mixes twice on 3000 rows
    mixed = replicas.fit_logistic(X, y, 1e-3, 3, 0, average=True,
                                  replicas=dict(k=1, scheme=scheme, rows=1024))
    for ours, theirs in zip(mixed, plain):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_replicas_change_the_model_and_the_counter_rate_changes_the_steps(replicas):
    X, y = sparse_classification(4000, 500, 20, np.random.default_rng(1))
    one = replicas.fit_logistic(X, y, 1e-4, 2, 0)
    four = replicas.fit_logistic(X, y, 1e-4, 2, 0,
                                 replicas=dict(k=4, scheme="mean", rows=256))
    faster = replicas.fit_logistic(X, y, 1e-4, 2, 0, rate=4.0)
    assert not np.allclose(four[0], one[0], rtol=1e-3)
    # a counter at 4 times the speed takes smaller steps: a shorter model
    assert np.linalg.norm(faster[0]) < np.linalg.norm(one[0])
    majority = max(np.mean(y), 1 - np.mean(y))
    for coef, intercept in (one, four, faster):
        assert replicas.accuracy(X, y, coef, intercept) > majority + 0.1
