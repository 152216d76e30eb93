"""Visiting orders: every row once per epoch, reproducible, and as good for SGD as a
uniform permutation even on data sorted by label."""
import numpy as np
import pytest

from fastgd import SGDClassifier
from fastgd._kernels import _shuffle


@pytest.mark.parametrize("n, window, n_open", [(1000, 64, 64), (1003, 7, 5), (10, 64, 64),
                                               (257, 1, 64), (500, 16, 1),
                                               (200_003, 32, 32), (150_001, 1, 32)])
def test_windowed_shuffle_is_a_permutation(n, window, n_open):
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(3 * n, n, replace=False)).astype(np.int32)
    order, stream = (np.empty(n, np.int32) for _ in range(2))
    _shuffle.windowed_shuffle(rows, order, stream, 11, window, n_open)
    np.testing.assert_array_equal(np.sort(order), rows)
    np.testing.assert_array_equal(np.sort(stream), rows)
    # the read-ahead order is window by window: each window's rows are one stretch
    position = np.empty(rows.max() + 1, dtype=np.intp)
    position[stream] = np.arange(n)
    for start in range(0, n, window):
        where = np.sort(position[rows[start:start + window]])
        np.testing.assert_array_equal(np.diff(where), 1)
    again = np.empty(n, np.int32)
    _shuffle.windowed_shuffle(rows, again, stream, 11, window, n_open)
    np.testing.assert_array_equal(again, order)
    _shuffle.windowed_shuffle(rows, again, stream, 12, window, n_open)
    assert n < 20 or not np.array_equal(again, order)


def test_windowed_shuffle_mixes_positions():
    # the first tenth of an epoch draws rows from all over the data set
    n = 20_000
    rows = np.arange(n, dtype=np.int32)
    order, stream = (np.empty(n, np.int32) for _ in range(2))
    _shuffle.windowed_shuffle(rows, order, stream, 3, 16, 256)
    first = order[: n // 10]
    counts = np.histogram(first, bins=10, range=(0, n))[0]
    assert counts.min() > 0.3 * counts.mean()


def test_uniform_shuffle_is_a_permutation():
    order = np.arange(1000, dtype=np.int32)
    _shuffle.shuffle(order, 5)
    np.testing.assert_array_equal(np.sort(order), np.arange(1000))
    assert not np.array_equal(order, np.arange(1000))


def test_sorted_labels_train_as_well_as_uniform_shuffle():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30_000, 20))
    y = np.argmax(X @ rng.normal(size=(20, 4)), axis=1)
    idx = np.argsort(y, kind="stable")  # the worst case: rows sorted by class
    X, y = X[idx], y[idx]
    windowed, uniform = [], []
    for seed in range(4):
        kw = dict(loss="log_loss", max_iter=5, tol=None, random_state=seed)
        windowed.append(SGDClassifier(**kw).fit(X, y).score(X, y))
        uniform.append(SGDClassifier(shuffle_window=1, **kw).fit(X, y).score(X, y))
    assert np.mean(windowed) > 0.88
    assert np.mean(windowed) > np.mean(uniform) - 0.015


def test_one_vs_rest_models_start_the_order_at_their_own_positions(monkeypatch):
    # each one-vs-rest model visits the epoch's order from its own random start: model
    # k equals the naive loop over the rows in the order rolled by its start
    from fastgd._kernels._shuffle import VisitingOrder
    from reference import reference_sgd

    seen = {}

    class Recorded(VisitingOrder):
        def reshuffle(self, seed):
            super().reshuffle(seed)
            seen["order"], seen["starts"] = self.order.copy(), self.model_starts.copy()

    monkeypatch.setattr("fastgd._training.runners.VisitingOrder", Recorded)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 5))
    y = rng.integers(3, size=300)
    clf = SGDClassifier(loss="hinge", learning_rate="constant", eta0=0.05, alpha=0.01,
                        max_iter=1, tol=None, random_state=0).fit(X, y)
    assert len(set(seen["starts"])) == 3

    class Constant:
        n_epochs = 1

        def __call__(self, t, epoch):
            return 0.05

    for k in range(3):
        rows = np.roll(seen["order"], -seen["starts"][k])
        target = np.where(y[rows] == k, 1.0, -1.0)
        w, b, _, _ = reference_sgd(X[rows], target, loss="hinge", lam2=0.01,
                                   etas=Constant())
        np.testing.assert_allclose(clf.coef_[k], w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(clf.intercept_[k], b, rtol=1e-10, atol=1e-12)


def test_windowed_shuffle_does_not_depend_on_threads():
    # large enough for several parts (generated in parallel, each its own stream)
    n = 300_001
    rows = np.arange(n, dtype=np.int32)
    outputs = []
    for n_threads in (1, 2, 3):
        order, stream = np.empty(n, np.int32), np.empty(n, np.int32)
        _shuffle.windowed_shuffle(rows, order, stream, 5, 32, 32, n_threads)
        outputs.append((order, stream))
    for order, stream in outputs[1:]:
        np.testing.assert_array_equal(order, outputs[0][0])
        np.testing.assert_array_equal(stream, outputs[0][1])
    # the parts meet without a seam: the last tenth draws from all over the data
    counts = np.histogram(outputs[0][0][-n // 10:], bins=10, range=(0, n))[0]
    assert counts.min() > 0.3 * counts.mean()
