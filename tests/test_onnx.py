"""ONNX export: onnxruntime's predictions of the exported graph against the
estimator's own, for every kind of model."""
import numpy as np
import pytest
import scipy.sparse as sp

import fastgd

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")


def run(model, X):
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: X})
    return dict(zip([o.name for o in session.get_outputs()], outputs))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 6))
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, 400)]
    return X, y, X @ rng.standard_normal(6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regressor(data, dtype):
    X, _, target = data
    est = fastgd.SGDRegressor(random_state=0).fit(X, target)
    out = run(fastgd.to_onnx(est, dtype=dtype), X.astype(dtype))
    np.testing.assert_allclose(np.ravel(out["variable"]), est.predict(X),
                               rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("params", [
    dict(loss="log_loss"), dict(loss="hinge"), dict(loss="modified_huber"),
    dict(loss="log_loss", multi_class="multinomial"),
], ids=["log_loss", "hinge", "modified_huber", "softmax"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier(data, params, n_classes):
    X, y, _ = data
    y = np.where(y == "c", "a", y) if n_classes == 2 else y
    est = fastgd.SGDClassifier(random_state=0, **params).fit(X, y)
    X32 = X.astype(np.float32)
    out = run(fastgd.to_onnx(est), X32)
    np.testing.assert_array_equal(out["label"], est.predict(X32))
    proba = getattr(est, "predict_proba", None) if params["loss"] != "hinge" else None
    if proba is not None and not (params["loss"] == "modified_huber"
                                  and n_classes > 2):
        np.testing.assert_allclose(out["probabilities"], est.predict_proba(X32),
                                   atol=1e-5)


def test_sparse_coef_and_one_class(data):
    X, y, _ = data
    est = fastgd.SGDClassifier(loss="log_loss", penalty="l1", alpha=0.01,
                               random_state=0).fit(X, y).sparsify()
    assert sp.issparse(est.coef_)
    out = run(fastgd.to_onnx(est), X.astype(np.float32))
    np.testing.assert_array_equal(out["label"], est.predict(X))
    one_class = fastgd.SGDOneClassSVM(nu=0.2, random_state=0).fit(X)
    out = run(fastgd.to_onnx(one_class), X.astype(np.float32))
    np.testing.assert_array_equal(np.ravel(out["label"]), one_class.predict(X))
    np.testing.assert_allclose(np.ravel(out["scores"]),
                               one_class.decision_function(X), atol=1e-5)


def test_errors(data):
    with pytest.raises(Exception, match="not fitted"):
        fastgd.to_onnx(fastgd.SGDClassifier())
    X, y, _ = data
    est = fastgd.SGDClassifier().fit(X, y)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        fastgd.to_onnx(est, dtype=np.int32)
