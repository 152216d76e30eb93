"""Visiting orders: every row once per epoch, reproducible, and as good for SGD as a
uniform permutation even on data sorted by label."""
import numpy as np
import pytest

from fastgd import SGDClassifier, _sgd


@pytest.mark.parametrize("n, window, n_open", [(1000, 64, 64), (1003, 7, 5), (10, 64, 64),
                                               (257, 1, 64), (500, 16, 1)])
def test_windowed_shuffle_is_a_permutation(n, window, n_open):
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(3 * n, n, replace=False)).astype(np.int32)
    order, stream, scratch = (np.empty(n, np.int32) for _ in range(3))
    _sgd.windowed_shuffle(rows, order, stream, scratch, 11, window, n_open)
    np.testing.assert_array_equal(np.sort(order), rows)
    np.testing.assert_array_equal(np.sort(stream), rows)
    # the read-ahead order is window by window, ascending inside each window
    position = np.empty(rows.max() + 1, dtype=np.intp)
    position[stream] = np.arange(n)
    for start in range(0, n, window):
        where = position[rows[start:start + window]]
        np.testing.assert_array_equal(np.diff(where), 1)
    again = np.empty(n, np.int32)
    _sgd.windowed_shuffle(rows, again, stream, scratch, 11, window, n_open)
    np.testing.assert_array_equal(again, order)
    _sgd.windowed_shuffle(rows, again, stream, scratch, 12, window, n_open)
    assert n < 20 or not np.array_equal(again, order)


def test_windowed_shuffle_mixes_positions():
    # the first tenth of an epoch draws rows from all over the data set
    n = 20_000
    rows = np.arange(n, dtype=np.int32)
    order, stream, scratch = (np.empty(n, np.int32) for _ in range(3))
    _sgd.windowed_shuffle(rows, order, stream, scratch, 3, 16, 256)
    first = order[: n // 10]
    counts = np.histogram(first, bins=10, range=(0, n))[0]
    assert counts.min() > 0.3 * counts.mean()


def test_uniform_shuffle_is_a_permutation():
    order = np.arange(1000, dtype=np.int32)
    _sgd.shuffle(order, 5)
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
