"""Property-based tests (hypothesis): generated shapes, layouts, dtypes, empty rows and
columns, weights and settings.  Whatever the input, a fit either gives a finite model
of the right shape and dtype, or raises a ValueError and leaves no model; it never
changes its input; it is reproducible, also when fits run concurrently.

CI runs the ``ci`` profile (a few hundred cases per test); ``HYPOTHESIS_PROFILE=long``
runs many more (the profiles are in ``conftest.py``).  In a debug build (``FASTGD_DEBUG=1``) an index a kernel forms outside
its array is reported as an error that these tests catch (see ``.ci/run``).
"""
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fastgd import SGDClassifier, SGDRegressor
from fastgd._params import CLASSIFICATION_LOSSES, OPTIMIZER_NAMES, REGRESSION_LOSSES

LAYOUTS = ["C", "F", "csr", "csr64", "csc", "coo"]


def in_layout(X, layout):
    """X (C-ordered dense) as a user may pass it: dense C or F order, CSR with int32 or
    int64 indices, CSC, COO."""
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "C":
        return X
    X = sp.csr_matrix(X)
    if layout == "csr64":
        X.indices = X.indices.astype(np.int64)
        X.indptr = X.indptr.astype(np.int64)
        return X
    return X if layout == "csr" else X.asformat(layout)


@st.composite
def problems(draw):
    """X (as given to fit), y, sample_weight, the estimator class and parameters."""
    n = draw(st.integers(0, 40))
    d = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    values = draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=n * d,
                           max_size=n * d))
    X = np.array(values, dtype=np.float64).reshape(n, d) * scale
    keep = draw(st.lists(st.booleans(), min_size=n * d, max_size=n * d))
    X = np.where(np.array(keep, dtype=bool).reshape(n, d), X, 0.0)
    if n and draw(st.booleans()):
        X[draw(st.integers(0, n - 1))] = 0.0          # an empty row
    if draw(st.booleans()):
        X[:, draw(st.integers(0, d - 1))] = 0.0       # an empty column
    X = in_layout(X.astype(dtype), draw(st.sampled_from(LAYOUTS)))
    classify = draw(st.booleans())
    if classify:
        n_classes = draw(st.integers(2, 4))
        y = np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=n,
                                   max_size=n)))
        loss = draw(st.sampled_from(sorted(CLASSIFICATION_LOSSES)))
    else:
        y = np.array(draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n)))
        loss = draw(st.sampled_from(sorted(REGRESSION_LOSSES)))
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]),
                                               min_size=n, max_size=n)))
    batch_size = draw(st.sampled_from([1, 1, 2, 5, "full"]))
    optimizer = draw(st.sampled_from(OPTIMIZER_NAMES))
    params = dict(
        loss=loss, penalty=draw(st.sampled_from([None, "l2", "l1", "elasticnet"])),
        alpha=draw(st.sampled_from([1e-4, 0.1])), batch_size=batch_size,
        optimizer=optimizer, max_iter=draw(st.integers(1, 3)), tol=None,
        learning_rate=draw(st.sampled_from(["optimal", "invscaling", "constant",
                                            "adaptive", "exponential", "linear"])),
        shuffle=draw(st.booleans()), shuffle_window=draw(st.sampled_from([1, 2, 32])),
        n_jobs=draw(st.sampled_from([1, 2])), random_state=0,
        fit_intercept=draw(st.booleans()),
        early_stopping=draw(st.booleans()),
    )
    if batch_size == 1 and optimizer == "sgd" and draw(st.booleans()):
        params["average"] = draw(st.sampled_from([True, 3]))
    if classify and loss == "log_loss" and draw(st.booleans()):
        params["multi_class"] = "multinomial"
        params.pop("average", None)
    return (SGDClassifier if classify else SGDRegressor), X, y, sample_weight, params


def _copy(X):
    return X.copy()


def _same(a, b):
    """Same values, and for sparse input the same stored arrays."""
    if sp.issparse(a):
        stored = {"coo": ("data", "row", "col")}.get(a.format,
                                                   ("data", "indices", "indptr"))
        return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in stored)
    return np.array_equal(a, b)


def _fit(cls, X, y, sample_weight, params):
    est = cls(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X, y, sample_weight=sample_weight)
        except ValueError as error:
            assert str(error), "an error must say what is wrong"
            assert not hasattr(est, "coef_")
            return est, error
    return est, None


@given(problems())
def test_a_fit_gives_a_finite_model_or_a_clear_error(problem):
    cls, X, y, sample_weight, params = problem
    X0, y0 = _copy(X), y.copy()
    sw0 = None if sample_weight is None else sample_weight.copy()
    est, error = _fit(cls, X, y, sample_weight, params)
    assert _same(X, X0) and np.array_equal(y, y0)
    if sample_weight is not None:
        assert np.array_equal(sample_weight, sw0)
    if error is not None:
        return
    n_features = X.shape[1]
    coef = np.atleast_2d(est.coef_)
    assert coef.shape[1] == n_features and np.all(np.isfinite(coef))
    assert np.all(np.isfinite(est.intercept_))
    assert coef.dtype == X.dtype
    assert len(est.loss_curve_) == est.n_iter_ <= params["max_iter"]
    if X.shape[0]:
        # (finite weights can still be a run gone far off, whose predictions overflow
        # float32: telling such a run from a model is the divergence check's job)
        out = est.predict(X)
        assert out.shape == (X.shape[0],)
        assert out.dtype == (X.dtype if cls is SGDRegressor else y.dtype)
    # the same fit again is the same model
    again, _ = _fit(cls, X, y, sample_weight, params)
    np.testing.assert_array_equal(np.atleast_2d(again.coef_), coef)


@settings(max_examples=40)
@given(st.lists(problems(), min_size=3, max_size=3))
def test_concurrent_fits_equal_serial_fits(batch):
    serial = [_fit(cls, X, y, sw, p)[0] for cls, X, y, sw, p in batch]
    with ThreadPoolExecutor(3) as pool:
        concurrent = list(pool.map(lambda a: _fit(*a)[0], [
            (cls, X, y, sw, p) for cls, X, y, sw, p in batch]))
    for a, b in zip(serial, concurrent):
        assert hasattr(a, "coef_") == hasattr(b, "coef_")
        if hasattr(a, "coef_"):
            np.testing.assert_array_equal(np.atleast_2d(a.coef_),
                                          np.atleast_2d(b.coef_))
            np.testing.assert_array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_trains_the_same_model(layout):
    # a deterministic companion of the generated tests: one problem in every layout
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4)) * (rng.random((30, 4)) < 0.6)
    X[-1] = 0.0
    y = X @ np.arange(1.0, 5.0)
    kw = dict(shuffle=False, max_iter=3, tol=None, fit_intercept=False)
    ref = SGDRegressor(**kw).fit(X, y).coef_
    np.testing.assert_allclose(SGDRegressor(**kw).fit(in_layout(X, layout), y).coef_,
                               ref, rtol=1e-12, atol=1e-15)
