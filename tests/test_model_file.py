"""Model files (``fastgd.save_model`` / ``fastgd.load_model``): exact round trips;
whole-or-nothing writes; files that would run code, come from a newer version, were
changed, damaged or built to exhaust memory are refused with one ``ValueError``
naming the file (the fuzz test at the end tampers with files every way it can)."""
import functools
import io
import json
import os
import resource
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def test_arrays_load_bit_for_bit_as_numpy_reads_them(tmp_path):
    X, y = _data()
    est = fastgd.SGDClassifier(optimizer="adam", batch_size=8, max_iter=2, tol=None,
                               random_state=0).fit(X.astype(np.float32), _labels(y, 3))
    fastgd.save_model(est, tmp_path / "m.npz")
    again = fastgd.load_model(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as members:
        for name in ("coef_", "intercept_", "classes_"):
            assert getattr(again, name).dtype == members[name].dtype
            assert getattr(again, name).tobytes() == members[name].tobytes()
        state = again._train_state
        assert state.scalars.tobytes() == members["state_scalars"].tobytes()
        assert (state.optimizer_state.tobytes()
                == members["state_optimizer_state"].tobytes())


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


# -------------------------------------------------------------- changed files

class _Payload:
    """What an attacker would plant: unpickling it writes a file."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def _rewrite(src, dst, replace, compress_type=zipfile.ZIP_STORED):
    """Copy the zip ``src`` to ``dst`` with members replaced (None: removed) or
    added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = replace.get(item, zin.read(item))
            if data is not None:
                zout.writestr(item, data, compress_type=compress_type)
        for item, data in replace.items():
            if item not in zin.namelist() and data is not None:
                zout.writestr(item, data, compress_type=compress_type)


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npy_header(descr, shape):
    """An .npy (1.0) header of any descr and shape, whatever data follows it."""
    text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (-(len(text) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def _saved(tmp_path, est=None):
    X, y = _data()
    est = est or fastgd.SGDRegressor(max_iter=2, tol=None, random_state=0).fit(X, y)
    fastgd.save_model(est, tmp_path / "m.npz")
    return tmp_path / "m.npz"


def _refused(path, message):
    """The one ValueError of ``load_model(path)``: its message in full."""
    with pytest.raises(ValueError) as caught:
        fastgd.load_model(path)
    assert str(caught.value) == (f"{path} is not a fastgd model file fastgd can "
                                 f"read: {message}.")


def test_a_planted_pickle_is_refused_and_not_run(tmp_path):
    saved = _saved(tmp_path)
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(str(marker))
    bad = tmp_path / "bad.npz"
    _rewrite(saved, bad, {"coef_.npy": _npy(payload, allow_pickle=True)})
    _refused(bad, "member 'coef_' holds Python objects, which load only by running "
                  "code")
    extra = tmp_path / "extra.npz"
    _rewrite(saved, extra, {"evil.npy": _npy(payload, allow_pickle=True)})
    _refused(extra, "unexpected member 'evil.npy'")
    assert not marker.exists()
    # a pickle instead of the .npz file
    with pytest.raises(ValueError, match="it is a pickle, not an .npz archive: it "
                                         "holds Python objects"):
        fastgd.load_model(io.BytesIO(b"\x80\x04pickle"))
    with pytest.raises(ValueError, match="not an .npz file: its zip archive is "
                                         "damaged"):
        fastgd.load_model(io.BytesIO(b"PK\x03\x04 a broken zip"))


def test_a_text_file_is_not_a_model(tmp_path):
    # the arguments swapped: fastgd predict test.csv model.npz
    data = tmp_path / "test.csv"
    data.write_text("y,x0,x1\n1,0.5,2\n0,1.5,-1\n")
    _refused(data, "not an .npz file: it looks like a text file, not a model (a zip "
                   "archive written by save_model or fastgd train): did you swap "
                   "the model and the data?")
    array = tmp_path / "a.npy"
    np.save(array, np.zeros(3))
    _refused(array, "it is a single .npy array, not an .npz archive (save_model)")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    _refused(empty, "it is empty")
    binary = tmp_path / "binary.npz"
    binary.write_bytes(bytes(range(256)))
    _refused(binary, "not an .npz file: it is not a zip archive")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        fastgd.load_model(tmp_path / "missing.npz")


def test_a_damaged_npy_header_is_named(tmp_path):
    saved = _saved(tmp_path)
    bad = tmp_path / "bad.npz"
    _rewrite(saved, bad, {"coef_.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': <f8"})
    with pytest.raises(ValueError) as caught:
        fastgd.load_model(bad)
    assert str(caught.value).startswith(
        f"{bad} is not a fastgd model file fastgd can read: member 'coef_' is "
        f"damaged: its .npy header cannot be read (")
    _rewrite(saved, bad, {"intercept_.npy": b"not an npy file at all"})
    with pytest.raises(ValueError, match="member 'intercept_' is damaged: its .npy "
                                         "header cannot be read"):
        fastgd.load_model(bad)


def _with_meta(tmp_path, change, est=None):
    saved = _saved(tmp_path, est)
    with np.load(saved) as f:
        meta = json.loads(f["meta"].tobytes())
    change(meta)
    out = tmp_path / "changed.npz"
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    _rewrite(saved, out, {"meta.npy": _npy(blob)})
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
    _refused(other, "unknown estimator 'os.system'")
    shape = tmp_path / "shape.npz"
    _rewrite(_saved(tmp_path), shape, {"intercept_.npy": _npy(np.zeros(3))})
    _refused(shape, "intercept_ has shape (3,) and dtype float64; this model needs "
                    "shape (1,) and dtype float32 or float64")


def _set_attribute(name, value):
    return lambda meta: meta["attributes"].update({name: value})


META_CHANGES = [
    (_set_attribute("n_features_in_", 0),
     "its attribute 'n_features_in_' must be a positive integer; got 0"),
    (_set_attribute("n_features_in_", 6.0),
     "its attribute 'n_features_in_' must be a positive integer; got 6.0"),
    (_set_attribute("n_features_in_", 5),
     "coef_ has shape (6,) and dtype float64; this model needs shape (5,) and dtype "
     "float32 or float64"),
    (lambda m: m["attributes"].pop("n_features_in_"),
     "its attribute 'n_features_in_' is missing"),
    (_set_attribute("loss_curve_", "abc"),
     "its attribute 'loss_curve_' must be a list of numbers; got 'abc'"),
    (_set_attribute("coef_", [1]), "unexpected attribute 'coef_'"),
    (lambda m: m.update(params=[1, 2]),
     "its meta entry 'params' must be a mapping; got [1, 2]"),
    (lambda m: m.update(attributes=None),
     "its meta entry 'attributes' must be a mapping; got None"),
    (lambda m: m.update(epochs_done=-1),
     "its meta entry 'epochs_done' must be a count; got -1"),
    (lambda m: m.update(metadata="x"),
     "its meta entry 'metadata' must be a mapping; got 'x'"),
    (lambda m: m.update(feature_names_in_=["a"]),
     "it names 1 features, but the model has 6"),
    (lambda m: m.update(surprise=1), "unexpected meta entry 'surprise'"),
    (lambda m: m.update(format=None), "its format is None, not 'fastgd-model'"),
    (lambda m: m.update(version="1"),
     "its format version '1' is not a version"),
    (lambda m: m.update(state_coef=True), "member 'state_coef' is missing"),
    (lambda m: m["params"].update(n_jobs_=1),
     "SGDRegressor has no parameter 'n_jobs_'"),
    (lambda m: m["params"].update(alpha=[-1]),
     "its parameters are not valid (The 'alpha' parameter of SGDRegressor must be a "
     "float in the range [0.0, inf). Got [-1] instead.)"),
    (lambda m: m["params"].update(class_weight={"pairs": [[1]]}),
     "SGDRegressor has no parameter 'class_weight'"),
]


@pytest.mark.parametrize("change,message", META_CHANGES)
def test_meta_is_checked_before_use(tmp_path, change, message):
    _refused(_with_meta(tmp_path, change), message)


def test_deeply_nested_meta_is_refused(tmp_path):
    saved = _saved(tmp_path)
    with np.load(saved) as f:
        text = f["meta"].tobytes().decode()
    deep = "[" * 5000 + "]" * 5000  # json.dumps would recurse: written by hand
    text = text.replace('"metadata": {}', f'"metadata": {{"x": {deep}}}')
    changed = tmp_path / "changed.npz"
    _rewrite(saved, changed, {"meta.npy": _npy(np.frombuffer(text.encode(),
                                                              np.uint8))})
    _refused(changed, "its 'meta' member nests 5002 levels deep (at most 64)")


def test_meta_that_is_not_json(tmp_path):
    saved = _saved(tmp_path)
    bad = tmp_path / "bad.npz"
    _rewrite(saved, bad, {"meta.npy": _npy(np.frombuffer(b"[1, 2", np.uint8))})
    _refused(bad, "its 'meta' member is not JSON (Expecting ',' delimiter: line 1 "
                  "column 6 (char 5))")
    _rewrite(saved, bad, {"meta.npy": _npy(np.frombuffer(b"[1, 2]", np.uint8))})
    _refused(bad, "its 'meta' is not a mapping")
    _rewrite(saved, bad, {"meta.npy": _npy(np.zeros(3))})
    _refused(bad, "member 'meta' has shape (3,) and dtype float64, not the bytes of "
                  "a text")


def _classifier(k=3):
    X, y = _data()
    return fastgd.SGDClassifier(max_iter=2, tol=None, random_state=0).fit(
        X, np.array(["a", "b", "c"])[_labels(y, k)])


CLASSES = [
    (np.array(["a", "b"]), "classes_ has shape (2,) and dtype <U1; this model needs "
                           "shape (3,) and dtype numbers or strings of at most 1024 "
                           "bytes"),
    (np.array(["a", "b", "c", "d"]), "classes_ has shape (4,) and dtype <U1; this "
                                     "model needs shape (3,) and dtype numbers or "
                                     "strings of at most 1024 bytes"),
    (np.array(["a", "a", "c"]), "its classes_ ['a', 'a', 'c'] are not sorted and "
                                "unique"),
    (np.array(["c", "b", "a"]), "its classes_ ['c', 'b', 'a'] are not sorted and "
                                "unique"),
    (np.array([0.0, np.nan, 2.0]), "its classes_ [0.0, nan, 2.0] are not sorted and "
                                   "unique"),
    (np.array([1j, 2j, 3j]), "classes_ has shape (3,) and dtype complex128; this "
                             "model needs shape (3,) and dtype numbers or strings of "
                             "at most 1024 bytes"),
    (np.zeros(3, dtype="V8"), "classes_ has shape (3,) and dtype |V8; this model "
                              "needs shape (3,) and dtype numbers or strings of at "
                              "most 1024 bytes"),
    (_npy_header("<U0", (3,)), "classes_ has shape (3,) and dtype <U0; this model "
                               "needs shape (3,) and dtype numbers or strings of at "
                               "most 1024 bytes"),
]


@pytest.mark.parametrize("classes,message", CLASSES)
def test_tampered_classes_are_refused(tmp_path, classes, message):
    saved = _saved(tmp_path, _classifier())
    bad = tmp_path / "bad.npz"
    _rewrite(saved, bad, {"classes_.npy": classes if isinstance(classes, bytes)
                          else _npy(classes)})
    _refused(bad, message)


def test_class_weights_and_weights_must_fit(tmp_path):
    saved = _saved(tmp_path, _classifier())
    bad = tmp_path / "bad.npz"
    _rewrite(saved, bad, {"class_weight_.npy": _npy(np.ones(2))})
    _refused(bad, "class_weight_ has shape (2,) and dtype float64; this model needs "
                  "shape (3,) and dtype float64")
    _rewrite(saved, bad, {"class_weight_.npy": _npy(np.array([1.0, -1.0, 1.0]))})
    _refused(bad, "class_weight_ holds a negative weight")
    with np.load(saved) as f:
        coef = f["coef_"].copy()
    coef[0, 0] = np.nan
    _rewrite(saved, bad, {"coef_.npy": _npy(coef)})
    _refused(bad, "coef_ holds NaN or infinity")
    # a binary model has one row and two classes
    _rewrite(saved, bad, {"coef_.npy": _npy(coef[:1]), "intercept_.npy":
                          _npy(np.zeros(1))})
    _refused(bad, "classes_ has shape (3,) and dtype <U1; this model needs shape "
                  "(2,) and dtype numbers or strings of at most 1024 bytes")


# ------------------------------------------------------------------ memory

@pytest.fixture
def peak_mib():
    """Call to read the peak of Python's (and NumPy's) allocations so far, in MiB."""
    tracemalloc.start()
    yield lambda: tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()


def test_a_huge_header_shape_is_refused_without_allocating(tmp_path, peak_mib):
    saved = _saved(tmp_path)
    bad = tmp_path / "bad.npz"
    _rewrite(saved, bad, {"coef_.npy": _npy_header("<f8", (2**40,)) + bytes(48)})
    _refused(bad, "member 'coef_' is damaged: its .npy header gives shape "
                  "(1099511627776,) of float64 (8,796,093,022,208 bytes), but the "
                  "member holds 48 bytes")
    _rewrite(saved, bad, {"state_scalars.npy": _npy_header("<f8", (2**20, 2**20))})
    _refused(bad, "member 'state_scalars' is damaged: its .npy header gives shape "
                  "(1048576, 1048576) of float64 (8,796,093,022,208 bytes), but the "
                  "member holds 0 bytes")
    assert peak_mib() < 4


def _zeros_member(name, n_bytes, head=b""):
    """Write-callback of a deflated member of ``head`` then ``n_bytes`` zeros."""
    def write(archive):
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(head)
            for _ in range(n_bytes // 2**20):
                member.write(bytes(2**20))
    return write


@functools.lru_cache(maxsize=None)
def _bomb_blobs():
    """A small model with (a) an extra member, (b) a ``meta``, (c) a ``coef_`` that
    each inflate to 128 MiB."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        saved = _saved_in(folder)
        with np.load(saved) as f:
            meta = f["meta"].tobytes()
        size = 2**27
        blobs = {}
        for key, (name, head) in dict(
                extra=("bomb.npy", b""),
                meta=("meta.npy", _npy_header("|u1", (size + len(meta),)) + meta),
                coef=("coef_.npy", _npy_header("<f8", (size // 8,)))).items():
            out = io.BytesIO()
            with zipfile.ZipFile(saved) as zin, zipfile.ZipFile(out, "w") as zout:
                for item in zin.namelist():
                    if item != name:
                        zout.writestr(item, zin.read(item))
                _zeros_member(name, size, head)(zout)
            blobs[key] = out.getvalue()
    return blobs


def _saved_in(folder):
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=2, tol=None, random_state=0).fit(X, y)
    fastgd.save_model(est, os.path.join(folder, "m.npz"))
    return os.path.join(folder, "m.npz")


def _set_declared_size(blob, name, size):
    """The zip ``blob`` with the uncompressed size of member ``name`` changed in its
    central directory (what zipfile reads) and local header."""
    out = bytearray(blob)
    encoded = name.encode()
    for signature, size_at, name_at in ((b"PK\x01\x02", 24, 46),
                                        (b"PK\x03\x04", 22, 30)):
        at = out.find(signature)
        while at >= 0:
            if out[at + name_at:at + name_at + len(encoded)] == encoded:
                if struct.unpack_from("<I", out, at + size_at)[0] != 0xFFFFFFFF:
                    struct.pack_into("<I", out, at + size_at, size)
            at = out.find(signature, at + 4)
    return bytes(out)


BOMBS = [
    ("extra", None, "unexpected member 'bomb.npy'"),
    ("meta", None, "member 'meta' declares 134,218,725 bytes; a model of 6 features "
                   "keeps at most 4,195,840"),
    # declared smaller than it inflates: read no further than declared
    ("meta", 4096, "member 'meta' is damaged (Bad CRC-32 for file 'meta.npy')"),
    ("coef", None, "member 'coef_' declares 134,217,856 bytes, more than the 48 of "
                   "its largest shape and a header"),
]


@pytest.mark.parametrize("which,declared,message", BOMBS)
def test_zip_bombs_are_refused_in_bounded_memory(tmp_path, peak_mib, which,
                                                 declared, message):
    blob = _bomb_blobs()[which]
    assert len(blob) < 2**20
    if declared is not None:
        blob = _set_declared_size(blob, "meta.npy", declared)
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(blob)
    before = peak_mib()
    _refused(bomb, message)
    assert peak_mib() - before < 8


def test_a_member_that_inflates_past_its_declared_size(tmp_path, peak_mib):
    saved = _saved(tmp_path)
    with np.load(saved) as f:
        meta = f["meta"].tobytes()
    header = _npy_header("|u1", (len(meta),))
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.namelist():
            if item != "meta.npy":
                zout.writestr(item, zin.read(item))
        _zeros_member("meta.npy", 2**26, header + meta)(zout)
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(_set_declared_size(out.getvalue(), "meta.npy",
                                        len(header) + len(meta)))
    before = peak_mib()
    with pytest.raises(ValueError, match=f"{bomb} is not a fastgd model file fastgd "
                                         f"can read: member 'meta' "
                                         f"is damaged \\(Bad CRC-32"):
        fastgd.load_model(bomb)
    assert peak_mib() - before < 8
    # a stored member shorter than it declares
    bad = tmp_path / "short.npz"
    _rewrite(saved, bad, {})
    blob = bad.read_bytes()
    with zipfile.ZipFile(bad) as z:
        size = z.getinfo("coef_.npy").file_size
    bad.write_bytes(_set_declared_size(blob, "coef_.npy", size + 8))
    with pytest.raises(ValueError, match="not a fastgd model file fastgd can read"):
        fastgd.load_model(bad)


# ------------------------------------------------------------------ writing

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


def test_npz_is_added_as_numpy_adds_it(tmp_path):
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=2, tol=None, random_state=0).fit(X, y)
    for name, written in (("model", "model.npz"), ("model.svm", "model.svm.npz"),
                          ("m.npz", "m.npz")):
        np.savez(tmp_path / f"np-{name}", a=np.zeros(1))
        fastgd.save_model(est, tmp_path / name)
        assert (tmp_path / written).exists() and (tmp_path / f"np-{written}").exists()
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["model.npz", "model.svm.npz", "m.npz", "np-model.npz", "np-model.svm.npz",
         "np-m.npz"])


def _old_file(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"the model that was there")
    X, y = _data(d=2000)
    est = fastgd.SGDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
    return path, est


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path, est = _old_file(tmp_path)

    def half_then_fail(stream, **arrays):
        stream.write(b"PK\x03\x04 half a model")
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(np, "savez", half_then_fail)
    with pytest.raises(RuntimeError, match="the disk caught fire"):
        fastgd.save_model(est, path)
    assert path.read_bytes() == b"the model that was there"
    assert os.listdir(tmp_path) == ["m.npz"]


def test_a_file_size_limit_leaves_the_old_file(tmp_path):
    path, est = _old_file(tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(OSError) as caught:
            fastgd.save_model(est, path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert str(caught.value) == (f"[Errno 27] cannot write the model file {path}: "
                                 f"File too large")
    assert path.read_bytes() == b"the model that was there"
    assert os.listdir(tmp_path) == ["m.npz"]


def test_unwritable_targets_name_the_path(tmp_path):
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        fastgd.save_model(est, tmp_path / "folder.npz")
    assert str(caught.value) == (f"[Errno 21] cannot write the model file "
                                 f"{tmp_path / 'folder.npz'}: it is a folder")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError) as caught:
        fastgd.save_model(est, tmp_path / "file" / "m.npz")
    assert str(caught.value) == (f"[Errno 20] cannot write the model file "
                                 f"{tmp_path / 'file' / 'm.npz'}: Not a directory")
    with pytest.raises(FileNotFoundError) as caught:
        fastgd.save_model(est, tmp_path / "nowhere" / "m.npz")
    assert str(caught.value) == (f"[Errno 2] cannot write the model file "
                                 f"{tmp_path / 'nowhere' / 'm.npz'}: No such file or "
                                 f"directory")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(PermissionError) as caught:
            fastgd.save_model(est, locked / "m.npz")
        assert str(caught.value) == (f"[Errno 13] cannot write the model file "
                                     f"{locked / 'm.npz'}: Permission denied")
    assert sorted(os.listdir(tmp_path)) == ["file", "folder.npz"] + (
        ["locked"] if os.geteuid() != 0 else [])


def test_metadata_beyond_the_cap_is_refused_when_saving(tmp_path):
    X, y = _data()
    est = fastgd.SGDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"save_model: the metadata, parameters and "
                                         r"loss curves take 5,\d{3},\d{3} bytes of "
                                         r"JSON; a model file of 6 features keeps "
                                         r"at most 4,195,840: keep less metadata."):
        fastgd.save_model(est, tmp_path / "m.npz", metadata={"x": "y" * 5_000_000})
    assert not (tmp_path / "m.npz").exists()
    # per-feature lists of the command line fit: names, means and scales
    X, y = _data(d=3000)
    est = fastgd.SGDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
    rng = np.random.default_rng(0)
    metadata = dict(names=[f"feature_{i:06d}_long_name" for i in range(3000)],
                    mean=(rng.standard_normal(3000) * 1e-7).tolist(),
                    scale=(rng.standard_normal(3000) * 1e-7).tolist(),
                    curve=rng.standard_normal(100_000).tolist())
    fastgd.save_model(est, tmp_path / "m.npz", metadata=metadata)
    assert fastgd.load_model(tmp_path / "m.npz", with_metadata=True)[1] == metadata


# --------------------------------------------------------------------- fuzz

def _fit_models():
    X, y = _data()
    labels = np.array(["a", "b", "c"])
    models = dict(
        regressor=fastgd.SGDRegressor(average=True, max_iter=2, tol=None,
                                      random_state=0).fit(X, y),
        binary=fastgd.SGDClassifier(loss="log_loss", class_weight={"a": 2.0},
                                    max_iter=2, tol=None, random_state=0).fit(
            X, labels[_labels(y, 2)]),
        ovr=fastgd.SGDClassifier(loss="modified_huber", optimizer="adam",
                                 batch_size=8, penalty="l1", max_iter=2, tol=None,
                                 random_state=0).fit(X.astype(np.float32),
                                                     _labels(y, 3)),
        softmax=fastgd.SGDClassifier(loss="log_loss", multi_class="multinomial",
                                     max_iter=2, tol=None, random_state=0).fit(
            X, labels[_labels(y, 2)]),
        one_class=fastgd.SGDOneClassSVM(max_iter=2, tol=None,
                                        random_state=0).fit(X))
    return models


@functools.lru_cache(maxsize=None)
def _model_blobs():
    import warnings

    blobs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, est in _fit_models().items():
            out = io.BytesIO()
            fastgd.save_model(est, out)
            blobs[name] = out.getvalue()
    return blobs


def _members(blob):
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _zip(members, compress_type=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data, compress_type=compress_type)
    return out.getvalue()


_NAMES = ["meta.npy", "coef_.npy", "intercept_.npy", "classes_.npy",
          "class_weight_.npy", "state_coef.npy", "state_scalars.npy",
          "state_avg_sum.npy", "state_l1_received.npy",
          "state_optimizer_state.npy", "evil.npy", "coef_", "a/../meta.npy"]
_DTYPES = ["<f8", "<f4", ">f8", "<i8", "|b1", "<U3", "|S2", "<c16", "|u1", "|V8",
           "<M8[s]", "<U0", "|S0", "|V0", "<f2"]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6)


@st.composite
def _arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 7), max_size=3)))
    return np.zeros(shape, dtype=dtype)


@st.composite
def _member_bytes(draw):
    kind = draw(st.sampled_from(["array", "bytes", "header"]))
    if kind == "array":
        return _npy(draw(_arrays()))
    if kind == "bytes":
        return draw(st.binary(max_size=80))
    shape = tuple(draw(st.lists(st.integers(0, 2**62), min_size=1, max_size=3)))
    return (_npy_header(draw(st.sampled_from(_DTYPES)), shape)
            + draw(st.binary(max_size=64)))


def _paths(value, at=()):
    """Every place in a JSON value: (path of keys and indices)."""
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, at + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value[:4]):
            yield from _paths(item, at + (i,))


# n_jobs is left alone: a huge n_jobs crashes OpenMP in any estimator, a file's or
# not (reported: _config.effective_n_threads takes a positive n_jobs as is)
_UNTOUCHED = {("params", "n_jobs")}


def _npy_bytes(member):
    """The data of an .npy member of bytes (np.load would trust a huge shape)."""
    stream = io.BytesIO(member)
    np.lib.format.read_magic(stream)
    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    data = stream.read()
    if dtype != np.uint8 or shape != (len(data),):
        raise ValueError("not the bytes of a text")
    return data


@st.composite
def _meta_changed(draw, members):
    meta = json.loads(_npy_bytes(members["meta.npy"]))
    places = [p for p in _paths(meta) if p and p not in _UNTOUCHED]
    place = draw(st.sampled_from(places))
    parent = meta
    for key in place[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["set", "remove", "add"]))
    if action == "remove":
        del parent[place[-1]]
    elif action == "set":
        parent[place[-1]] = draw(_json_values)
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=6))] = draw(_json_values)
    else:
        parent.append(draw(_json_values))
    text = json.dumps(meta).encode()
    return dict(members, **{"meta.npy": _npy(np.frombuffer(text, np.uint8))})


@st.composite
def _tampered(draw):
    """(model name, the bytes of its file tampered with one way or several)."""
    name = draw(st.sampled_from(sorted(_model_blobs())))
    blob = _model_blobs()[name]
    for _ in range(draw(st.integers(1, 2))):
        way = draw(st.sampled_from(["flip", "truncate", "replace", "add", "remove",
                                    "meta", "deep", "declared size", "deflate"]))
        if not blob:
            break
        if way == "flip":
            data = bytearray(blob)
            for at in draw(st.lists(st.integers(0, len(data) - 1), min_size=1,
                                    max_size=8)):
                data[at] ^= draw(st.integers(1, 255))
            blob = bytes(data)
            continue
        if way == "truncate":
            blob = blob[:draw(st.integers(0, len(blob) - 1))]
            continue
        try:
            members = _members(blob)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError,
                NotImplementedError):  # zipfile: "zip file version 10.9"
            continue
        if not members:
            continue
        names = sorted(members)
        if way == "replace":
            members[draw(st.sampled_from(names))] = draw(_member_bytes())
        elif way == "add":
            members[draw(st.sampled_from(_NAMES))] = draw(_member_bytes())
        elif way == "remove":
            del members[draw(st.sampled_from(names))]
        elif way == "meta" and "meta.npy" in members:
            try:
                members = draw(_meta_changed(members))
            except (ValueError, EOFError, OSError, RecursionError):  # damaged
                pass
        elif way == "deep" and "meta.npy" in members:
            depth = draw(st.integers(1, 3000))
            text = b'{"metadata": ' + b"[" * depth + b"]" * depth + b"}"
            members["meta.npy"] = _npy(np.frombuffer(text, np.uint8))
        blob = _zip(members, zipfile.ZIP_DEFLATED if way == "deflate"
                    else zipfile.ZIP_STORED)
        if way == "declared size":
            blob = _set_declared_size(blob, draw(st.sampled_from(names)),
                                      draw(st.integers(0, 2**32 - 2)))
    return name, blob


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "model.npz"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.data_too_large])
@given(case=_tampered())
def test_tampered_files_load_and_predict_or_fail_with_one_value_error(fuzz_file,
                                                                       case):
    name, blob = case
    fuzz_file.write_bytes(blob)
    tracemalloc.start()
    try:
        estimator = fastgd.load_model(fuzz_file)
    except ValueError as error:
        assert str(error).startswith(f"{fuzz_file} ")
        assert "\n" not in str(error)
        return
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 16 * 2**20
    X = np.random.default_rng(0).standard_normal((5, estimator.n_features_in_))
    assert estimator.predict(X).shape == (5,)
    if hasattr(estimator, "decision_function"):
        estimator.decision_function(X)
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        assert proba.shape == (5, len(estimator.classes_))
