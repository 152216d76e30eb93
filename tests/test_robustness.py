"""Edge cases that generated inputs found (each a regression test of a fixed defect):
empty CSR rows at the end of X, training weights that sum to zero, a failed refit,
parameters beyond what the kernels can index, misleading divergence messages, the
size of a pickled model, NaN and infinity met by NumPy before the kernels, and
partial_fit called from several threads at once."""
import copy
import itertools
import pickle
import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from fastgd import SGDClassifier, SGDOneClassSVM, SGDRegressor
from fastgd._params import FULL_BATCH_OPTIMIZERS, OPTIMIZER_NAMES


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


# ------------------------------------------------ NaN and infinity, every algorithm

def _settings_of_every_algorithm():
    """(estimator class, parameters) for every batch size and optimizer."""
    settings = [(SGDOneClassSVM, {})]
    for make in (SGDRegressor, SGDClassifier):
        for batch_size, optimizer in itertools.product([1, 4, "full"],
                                                       OPTIMIZER_NAMES):
            if optimizer in FULL_BATCH_OPTIMIZERS and batch_size != "full":
                continue  # refused by the parameter checks
            params = dict(batch_size=batch_size, optimizer=optimizer)
            if make is SGDClassifier and optimizer in FULL_BATCH_OPTIMIZERS:
                params["loss"] = "log_loss"  # they need a differentiable loss
            settings.append((make, params))
    return settings


NON_FINITE_MESSAGES = {
    np.inf: "contains infinity or a value too large for dtype('float64').",
    -np.inf: "contains infinity or a value too large for dtype('float64').",
    np.nan: "contains NaN.",
}


@pytest.mark.parametrize("make, params", _settings_of_every_algorithm(),
                         ids=lambda v: v.__name__ if isinstance(v, type) else
                         "-".join(f"{k}={w}" for k, w in v.items()))
@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan], ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_non_finite_input_raises_only_the_clear_error(make, params, where, bad,
                                                      sparse):
    # the curvature bounds of learning_rate='auto' and of the full-batch line search
    # read X in NumPy before the kernels did: an infinity leaked "RuntimeWarning:
    # invalid value encountered in divide" (or "in subtract") before the error
    if make is SGDOneClassSVM and where == "y":
        pytest.skip("SGDOneClassSVM ignores y")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.ones(3)
    if make is SGDClassifier:
        y = (y > 0).astype(float)
    sample_weight = np.ones(40)
    {"X": X[:, 1], "y": y, "sample_weight": sample_weight}[where][3] = bad
    X = sp.csr_matrix(X) if sparse else X
    est = make(max_iter=3, tol=None, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as info:
            est.fit(X, y, sample_weight=sample_weight)
    first_line = str(info.value).splitlines()[0]
    assert first_line == f"Input {where} {NON_FINITE_MESSAGES[bad]}"
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("params", [dict(batch_size="full"),
                                    dict(batch_size="full", optimizer="nesterov"),
                                    dict(batch_size="full", optimizer="lbfgs"),
                                    dict(batch_size=4), dict(optimizer="momentum")])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_fit_refused_for_infinity_keeps_the_model(params, method):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.ones(3)
    est = SGDRegressor(max_iter=3, tol=None, random_state=0, **params).fit(X, y)
    before = {name: copy.deepcopy(value) for name, value in vars(est).items()}
    X_bad = X.copy()
    X_bad[5, 0] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^Input X contains infinity"):
            getattr(est, method)(X_bad, y)
    assert set(vars(est)) == set(before)
    np.testing.assert_array_equal(est.coef_, before["coef_"])
    np.testing.assert_array_equal(est.intercept_, before["intercept_"])
    assert est.t_ == before["t_"] and est.loss_curve_ == before["loss_curve_"]


# ------------------------------------------------ partial_fit from several threads

N_THREADS = 4


def _thread_estimator(make):
    """A fresh estimator for the threaded partial_fit tests (the classifier with
    steps that do not overshoot one epoch of these rows)."""
    if make is SGDClassifier:
        return make(random_state=0, learning_rate="constant", eta0=0.01)
    return make(random_state=0)


def _thread_batches(make):
    """One batch (X, y) per thread, and the keywords of partial_fit."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=20) / 4
    batches = []
    for _ in range(N_THREADS):
        X = rng.normal(size=(1000, 20))
        y = X @ weights
        batches.append((X, np.digitize(y, [-1.0, 1.0]) if make is SGDClassifier
                        else y))
    fit_kw = {"classes": np.arange(3)} if make is SGDClassifier else {}
    return batches, fit_kw


def _serial_runs(make, batches, fit_kw, indices):
    """The estimator after partial_fit over the batches ``indices`` one after the
    other, for every order of them."""
    runs = []
    for order in itertools.permutations(indices):
        est = _thread_estimator(make)
        for i in order:
            est.partial_fit(*batches[i], **fit_kw)
        runs.append(est)
    return runs


def _partial_fit_on_threads(est, batches, fit_kw):
    """partial_fit of every batch on its own thread, all started at once; the error
    each thread met (None for none)."""
    start = threading.Barrier(len(batches))
    errors = [None] * len(batches)

    def work(i):
        start.wait()
        try:
            est.partial_fit(*batches[i], **fit_kw)
        except Exception as error:  # noqa: BLE001 -- handed to the test
            errors[i] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _same_model(a, b):
    return (a.t_ == b.t_ and np.array_equal(a.coef_, b.coef_)
            and np.array_equal(a.intercept_, b.intercept_))


@pytest.mark.parametrize("make", [SGDRegressor, SGDClassifier, SGDOneClassSVM])
def test_partial_fit_from_several_threads_keeps_every_batch(make):
    # two threads calling partial_fit on one estimator both trained from the same
    # model and the last to finish overwrote the other: t_ 2001 where a serial run
    # gives 3001 (149 of 150 trials); the calls now run one after the other
    batches, fit_kw = _thread_batches(make)
    serial = _serial_runs(make, batches, fit_kw, range(N_THREADS))
    assert serial[0].t_ == N_THREADS * 1000 + 1
    for trial in range(10):
        est = _thread_estimator(make)
        assert _partial_fit_on_threads(est, batches, fit_kw) == [None] * N_THREADS
        assert est.t_ == serial[0].t_, f"trial {trial}: a batch was lost"
        assert any(_same_model(est, run) for run in serial), trial
    # the lock lives outside the estimator: it still pickles, clones and copies
    for copied in (pickle.loads(pickle.dumps(est)), copy.deepcopy(est)):
        assert _same_model(copied, est)
        copied.partial_fit(*batches[0], **fit_kw)
    assert clone(est).get_params() == est.get_params()


def test_a_failed_partial_fit_on_one_thread_keeps_the_others_batches():
    # a call that fails restores the estimator as it found it: run beside the others,
    # that restore threw away the batches they trained meanwhile
    batches, fit_kw = _thread_batches(SGDRegressor)
    X_bad = batches[0][0].copy()
    X_bad[500, 3] = np.inf
    batches[0] = (X_bad, batches[0][1])
    serial = _serial_runs(SGDRegressor, batches, fit_kw, range(1, N_THREADS))
    for trial in range(10):
        est = SGDRegressor(random_state=0)
        errors = _partial_fit_on_threads(est, batches, fit_kw)
        assert str(errors[0]).startswith("Input X contains infinity")
        assert errors[1:] == [None] * (N_THREADS - 1)
        assert est.t_ == serial[0].t_, f"trial {trial}: a batch was lost"
        assert any(_same_model(est, run) for run in serial), trial


@pytest.mark.parametrize("params", [
    dict(batch_size="full", optimizer="lbfgs", loss="log_loss"),
    dict(batch_size="full", optimizer="newton", loss="log_loss"),
    dict(batch_size="full", optimizer="nesterov", loss="modified_huber"),
    dict(batch_size="full", optimizer="lbfgs", loss="log_loss",
         multi_class="multinomial"),
    dict(batch_size=9000, optimizer="adam"),
    dict(batch_size="full", optimizer="lbfgs", loss="log_loss", early_stopping=True),
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_the_model_does_not_depend_on_n_jobs(params, sparse):
    # sums over more rows than one block (4096): added in blocks, in block order
    rng = np.random.default_rng(7)
    X = rng.normal(size=(20_000, 6)) * (rng.random((20_000, 6)) < 0.7)
    y = (X @ rng.normal(size=6) + rng.normal(size=20_000) > 0).astype(int)
    y[::3] = 2
    X = sp.csr_matrix(X) if sparse else X
    fits = [SGDClassifier(max_iter=8, tol=None, random_state=0, n_jobs=n_jobs,
                          **params).fit(X, y) for n_jobs in (1, 2, 3)]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.coef_, fits[0].coef_)
        np.testing.assert_array_equal(other.intercept_, fits[0].intercept_)
        np.testing.assert_array_equal(other.loss_curve_, fits[0].loss_curve_)
        assert other.objective(X, y) == fits[0].objective(X, y)
