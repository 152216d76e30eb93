"""Edge cases that generated inputs found (each a regression test of a fixed defect):
empty CSR rows at the end of X, training weights that sum to zero, a failed refit,
parameters beyond what the kernels can index, misleading divergence messages, and the
size of a pickled model."""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from fastgd import SGDClassifier, SGDRegressor


@pytest.mark.parametrize("params", [dict(), dict(penalty="l1"), dict(average=True),
                                    dict(penalty="elasticnet", average=2)])
@pytest.mark.parametrize("empty", ["last", "first", "all but one"])
def test_empty_csr_rows_read_nothing_outside_x(params, empty):
    # the read-ahead of the row after the last one with entries formed an address past
    # the end of X.data (the debug build raised inside the kernel and cut the epoch
    # short): CSR must train exactly as dense, whatever rows are empty
    X = np.arange(1.0, 19.0).reshape(6, 3) / 10
    if empty == "last":
        X[-1] = 0
    elif empty == "first":
        X[0] = 0
    else:
        X[1:] = 0
    y = np.linspace(-1, 1, 6)
    kw = dict(shuffle=False, max_iter=3, tol=None, fit_intercept=False, **params)
    dense = SGDRegressor(**kw).fit(X, y)
    csr = SGDRegressor(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-12, atol=1e-15)
    for shuffle_window in (1, 2, 32):  # read-ahead streams of every shape
        kw.update(shuffle=True, shuffle_window=shuffle_window, random_state=0)
        dense = SGDRegressor(**kw).fit(X, y)
        csr = SGDRegressor(**kw).fit(sp.csr_matrix(X), y)
        np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-12, atol=1e-15)


def test_full_batch_needs_weights_with_a_positive_sum():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = X @ np.ones(3)
    sw = np.where(np.arange(20) % 2, 1.0, -1.0)  # sums to zero
    est = SGDRegressor(batch_size="full", max_iter=5)
    with pytest.raises(ValueError, match="weights sum to a positive number"):
        est.fit(X, y, sample_weight=sw)
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("batch_size", [1, 4, "full"])
def test_training_rows_without_weight_are_an_error(batch_size):
    # early stopping put every row of non-zero weight in the validation set: there is
    # nothing to train on (per-sample SGD returned an all-zero model, full batch
    # divided by zero)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.ones(3)
    est = SGDRegressor(early_stopping=True, validation_fraction=0.25, random_state=0,
                       batch_size=batch_size)
    from sklearn.model_selection import ShuffleSplit

    _, val = next(ShuffleSplit(test_size=0.25, random_state=0).split(X))
    sw = np.zeros(40)
    sw[val] = 1.0
    with pytest.raises(ValueError, match="training rows are all zero.*validation"):
        est.fit(X, y, sample_weight=sw)
    assert not hasattr(est, "coef_")


def test_a_failed_refit_leaves_the_estimator_as_it_was():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y3 = rng.integers(3, size=60)
    est = SGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, y3)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v)
              for k, v in vars(est).items()}
    pred = est.predict(X)
    est.set_params(learning_rate="constant", eta0=1e30)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X * 1e200, y3 % 2)  # two classes now, and it diverges
    assert set(vars(est)) == set(before)
    for k, v in before.items():
        got = getattr(est, k)
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(got, v)
        elif k != "learning_rate" and k != "eta0":
            assert got is v or got == v, k
    np.testing.assert_array_equal(est.predict(X), pred)
    # a refit with other features that fails in validation leaves it too
    with pytest.raises(ValueError):
        est.fit(X[:, :2], np.full(60, 1))
    assert est.n_features_in_ == 4
    np.testing.assert_array_equal(est.predict(X), pred)


@pytest.mark.parametrize("params, match", [
    (dict(shuffle_window=2**58), "'shuffle_window' parameter"),
    (dict(batch_size=2**63), "'batch_size' parameter"),
    (dict(n_jobs=2**31), "'n_jobs' parameter"),
    (dict(n_jobs=0), "'n_jobs' parameter"),
])
def test_parameters_beyond_what_the_kernels_index(params, match):
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match=match):
        SGDRegressor(**params).fit(X, np.ones(4))


@pytest.mark.parametrize("what, fit, match", [
    ("coef_init", dict(coef_init=[np.nan, 0.0]), "coef_init contains NaN"),
    ("intercept_init", dict(intercept_init=[np.inf]), "intercept_init contains NaN"),
])
def test_non_finite_starting_points_are_named(what, fit, match):
    X = np.ones((4, 2))
    est = SGDRegressor()
    with pytest.raises(ValueError, match=match):
        est.fit(X, np.ones(4), **fit)
    assert not hasattr(est, "coef_")


def test_non_finite_class_weight_is_named():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="class_weight must give every class a finite"):
        SGDClassifier(class_weight={0: np.nan, 1: 1.0}).fit(X, np.arange(10) % 2)


def test_divergence_names_its_likely_cause():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ np.ones(3)
    # huge sample weights, not the learning rate
    with pytest.raises(ValueError, match="sample weights up to 1e\\+300"):
        SGDRegressor(max_iter=3, tol=None).fit(X, y, sample_weight=np.full(50, 1e300))
    # 'optimal' is already the setting: the advice is about alpha, not 'optimal'
    with pytest.raises(ValueError, match="diverged") as info:
        SGDClassifier(loss="squared_hinge", learning_rate="optimal", batch_size=16,
                      max_iter=5, tol=None, random_state=0).fit(X * 1e5, y > 0)
    message = str(info.value)
    assert "learning_rate='optimal' steps" in message and "alpha" in message
    assert "use learning_rate='optimal'" not in message


def test_a_pickled_model_is_not_larger_than_it_needs_to_be():
    # the training state kept a second copy of coef_ and a float64 optimizer state of
    # 3 slots per coordinate even for plain SGD: 5x the size of coef_
    rng = np.random.default_rng(0)
    X = sp.random(200, 20_000, density=0.002, random_state=0, format="csr")
    y = rng.integers(5, size=200)
    est = SGDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
    assert len(pickle.dumps(est)) < 1.15 * est.coef_.nbytes
    # training continues after the round trip, as from the original
    again = pickle.loads(pickle.dumps(est)).partial_fit(X, y)
    est.partial_fit(X, y)
    np.testing.assert_array_equal(again.coef_, est.coef_)
    adam = SGDClassifier(max_iter=2, tol=None, random_state=0, optimizer="adam",
                         batch_size=8).fit(X, y)
    # Adam keeps two moments and a step count per coordinate: that it must keep
    assert len(pickle.dumps(adam)) < 4.2 * adam.coef_.nbytes


@pytest.mark.parametrize("params", [dict(batch_size="full", max_iter=8),
                                    dict(batch_size=512, max_iter=2),
                                    dict(batch_size="full", multi_class="multinomial",
                                         loss="log_loss", max_iter=5)])
def test_a_fixed_thread_count_is_reproducible_beyond_two_threads(params):
    # the threads' loss sums were combined by an OpenMP reduction, in the order the
    # threads finished: with three threads or more, the same fit gave other loss
    # curves (and, through the line search, other models) from run to run
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 40))
    y = np.digitize(X @ rng.normal(size=40), [-1.0, 1.0])
    fits = [SGDClassifier(n_jobs=7, tol=None, random_state=0, **params).fit(X, y)
            for _ in range(4)]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.loss_curve_, fits[0].loss_curve_)
        np.testing.assert_array_equal(other.coef_, fits[0].coef_)
    objectives = {fits[0].objective(X, y) for _ in range(8)}
    assert len(objectives) == 1
