"""Model files (``fastgd.save_model`` / ``fastgd.load_model``): exact round trips, and
files that would run code, come from a newer version or were changed are refused."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import fastgd


def _data(seed=0, n=400, d=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)


def _labels(y, k):
    return np.digitize(y, np.quantile(y, np.linspace(0, 1, k + 1)[1:-1]))


CASES = [
    (fastgd.SGDRegressor, dict(max_iter=3, tol=None, random_state=0), None),
    (fastgd.SGDRegressor, dict(max_iter=3, tol=None, average=True, random_state=0,
                               penalty="l1"), None),
    (fastgd.SGDRegressor, dict(max_iter=3, tol=None, batch_size=8, optimizer="adam",
                               random_state=0), None),
    (fastgd.SGDClassifier, dict(loss="log_loss", max_iter=3, tol=None, random_state=0,
                                class_weight={0: 2.0, 1: 1.0}), 2),
    (fastgd.SGDClassifier, dict(max_iter=3, tol=None, random_state=0), 3),
    (fastgd.SGDClassifier, dict(loss="log_loss", multi_class="multinomial",
                                max_iter=3, tol=None, random_state=0), 3),
    (fastgd.SGDClassifier, dict(loss="log_loss", multi_class="multinomial",
                                max_iter=3, tol=None, random_state=0), 2),
]


@pytest.mark.parametrize("cls,params,k", CASES)
def test_round_trip_predicts_and_continues_exactly(tmp_path, cls, params, k):
    X, y = _data()
    if k is not None:
        y = _labels(y, k)
        names = np.array(["a", "b", "c"])[:k]
        y = names[y] if params.get("class_weight") is None else y
    est = cls(**params).fit(X, y)
    path = tmp_path / "model.npz"
    fastgd.save_model(est, path)
    again = fastgd.load_model(path)
    assert type(again) is cls and again.get_params() == est.get_params()
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    if hasattr(est, "decision_function"):
        np.testing.assert_array_equal(again.decision_function(X),
                                      est.decision_function(X))
        np.testing.assert_array_equal(again.classes_, est.classes_)
    assert again.loss_curve_ == est.loss_curve_ and again.t_ == est.t_
    X2, y2 = _data(seed=1)
    if k is not None:
        y2 = _labels(y2, k)
        y2 = est.classes_[y2]
    est.partial_fit(X2, y2)
    again.partial_fit(X2, y2)
    np.testing.assert_array_equal(again.coef_, est.coef_)
    np.testing.assert_array_equal(again.intercept_, est.intercept_)


def test_sparse_coef_and_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    est = fastgd.SGDRegressor(penalty="l1", alpha=0.05, max_iter=3, tol=None,
                              random_state=0).fit(frame, y).sparsify()
    fastgd.save_model(est, tmp_path / "m.npz")
    again = fastgd.load_model(tmp_path / "m.npz")
    assert again.coef_.format == "csr"
    np.testing.assert_array_equal(again.feature_names_in_, est.feature_names_in_)
    np.testing.assert_array_equal(again.predict(frame), est.predict(frame))


class _Payload:
    """What an attacker would plant: unpickling it writes a file."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def _rewrite(src, dst, replace):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = replace.get(item, zin.read(item))
            zout.writestr(item, data)
        for item, data in replace.items():
            if item not in zin.namelist():
                zout.writestr(item, data)


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_a_planted_pickle_is_refused_and_not_run(tmp_path):
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=2, random_state=0).fit(X, y)
    fastgd.save_model(est, tmp_path / "m.npz")
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(str(marker))
    for member in ("coef_.npy", "evil.npy"):
        bad = tmp_path / f"bad-{member}.npz"
        _rewrite(tmp_path / "m.npz", bad, {member: _npy(payload, allow_pickle=True)})
        with pytest.raises(ValueError, match="Python objects, which load only by "
                                             "running code"):
            fastgd.load_model(bad)
        assert not marker.exists()
    # a pickle instead of the .npz file
    with pytest.raises(ValueError, match="Python objects"):
        fastgd.load_model(io.BytesIO(b"\x80\x04pickle"))
    with pytest.raises(ValueError, match="not an .npz file"):
        fastgd.load_model(io.BytesIO(b"PK\x03\x04 a broken zip"))


def _with_meta(tmp_path, change):
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=2, random_state=0).fit(X, y)
    fastgd.save_model(est, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as f:
        meta = json.loads(f["meta"].tobytes())
    change(meta)
    out = tmp_path / "changed.npz"
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    _rewrite(tmp_path / "m.npz", out, {"meta.npy": _npy(blob)})
    return out


def test_newer_and_changed_files_get_clear_errors(tmp_path):
    newer = _with_meta(tmp_path, lambda m: m.update(version=99))
    with pytest.raises(ValueError, match="format version 99 .* newer fastgd; this "
                                         "fastgd reads version 1"):
        fastgd.load_model(newer)
    bad_param = _with_meta(tmp_path, lambda m: m["params"].update(alpha=-1))
    with pytest.raises(ValueError, match="parameters are not valid"):
        fastgd.load_model(bad_param)
    other = _with_meta(tmp_path, lambda m: m.update(estimator="os.system"))
    with pytest.raises(ValueError, match="unknown estimator 'os.system'"):
        fastgd.load_model(other)
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=2, random_state=0).fit(X, y)
    fastgd.save_model(est, tmp_path / "m.npz")
    shape = tmp_path / "shape.npz"
    _rewrite(tmp_path / "m.npz", shape, {"intercept_.npy": _npy(np.zeros(3))})
    with pytest.raises(ValueError, match=r"intercept_ has shape \(3,\)"):
        fastgd.load_model(shape)


def test_saving_needs_a_fitted_estimator_and_plain_parameters(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        fastgd.save_model(fastgd.SGDRegressor(), tmp_path / "m.npz")
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=2,
                              random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.raises(ValueError, match="random_state as an int or None"):
        fastgd.save_model(est, tmp_path / "m.npz")
    assert not os.path.exists(tmp_path / "m.npz")
