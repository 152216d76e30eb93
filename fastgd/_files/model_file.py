"""Model files that load without running code: ``save_model`` and ``load_model``.

A model file is NumPy's ``.npz`` (a zip of ``.npy`` arrays): numbers and strings
only, so loading a file from someone else cannot execute anything (pickle, and so
joblib, runs code on load).  One member, ``meta``, holds JSON: the format and its
version, the estimator's class and parameters, and the fitted scalars; the other
members are the fitted arrays (``coef_``, ``intercept_``, ``classes_``) and the
training state that ``partial_fit`` continues from.  NumPy's format was chosen over
skops because it needs no extra package and its safety is one flag, not a list of
trusted types; the files are read by anything that reads ``.npz``.

``save_model`` writes whole files or nothing (``_atomic_file``: a temporary file
beside the target, renamed onto it once complete).

``load_model`` treats the file as hostile: every failure is one ``ValueError``
naming the file, and memory stays within what the metadata implies.  The archive is
read with ``zipfile``, not ``np.load``: the member names are checked against the
layout before anything is inflated; ``meta`` may take a base size plus a few hundred
bytes per feature (the command line keeps feature names and a standardization);
every other member's shape and dtype follow from ``n_features_in_`` and the rows of
``coef_``, and its ``.npy`` header is read and checked against them and against the
member's declared size before its data is read, in bounded chunks, to exactly that
size (a member that inflates to more or less than it declares is refused).  The
JSON's types are checked, and the arrays' values (finite weights, sorted unique
classes) before the estimator is built, so a file that loads predicts.
"""
import contextlib
import errno
import json
import math
import os
import re
import reprlib
import struct
import zipfile
import zlib

import numpy as np
import scipy.sparse as sp

FORMAT = "fastgd-model"
FORMAT_VERSION = 1

# the fitted scalars and lists kept in the JSON part
_SCALARS = ("n_iter_", "t_", "loss_curve_", "validation_loss_curve_",
            "n_features_in_")
_STATE_ARRAYS = ("scalars", "avg_sum", "l1_received", "optimizer_state")
_META_KEYS = {"format", "version", "estimator", "params", "attributes", "coef_sparse",
              "epochs_done", "auto_eta", "state_coef", "metadata",
              "feature_names_in_"}
_MEMBERS = ({"meta", "coef_", "intercept_", "classes_", "class_weight_",
             "state_coef"} | {f"state_{name}" for name in _STATE_ARRAYS})

# what a file may take: ``meta`` a base (parameters, scalars, loss curves of about
# 100,000 epochs) and, per feature, room for three lists of numbers or short names
_META_BASE_BYTES = 4 * 2**20
_META_BYTES_PER_FEATURE = 256
_META_MAX_DEPTH = 64            # nesting of the JSON's lists and mappings
_LABEL_MAX_BYTES = 1024         # one class label (the itemsize of classes_)
_NPY_HEADER_MAX = 10_000        # NumPy's own limit on an .npy header
_READ_CHUNK = 2**20             # bytes inflated at a time
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_FLOAT64 = (np.dtype(np.float64),)

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlevel = 2


class _Unreadable(ValueError):
    """What is wrong with a model file; ``load_model`` adds the file's name."""


class _NewerVersion(Exception):
    """The file's format version is newer than this fastgd reads."""


def _classes():
    from fastgd import SGDClassifier, SGDOneClassSVM, SGDRegressor

    return {cls.__name__: cls for cls in (SGDClassifier, SGDRegressor, SGDOneClassSVM)}


# ------------------------------------------------------------------------- saving

def _json_params(estimator):
    params = estimator.get_params(deep=False)
    if params.get("random_state") is not None and not isinstance(
            params["random_state"], (int, np.integer)):
        raise ValueError("save_model keeps random_state as an int or None; got "
                         f"{type(params['random_state']).__name__}: set an int "
                         "first.")
    weights = params.get("class_weight")
    if isinstance(weights, dict):  # keys may be ints: keep them as pairs
        params["class_weight"] = {"pairs": [[_plain(k), float(v)]
                                            for k, v in weights.items()]}
    return {k: _plain(v) for k, v in params.items()}


def _plain(value):
    """NumPy scalars as Python numbers, for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _meta_cap(n_features):
    """The most bytes ``meta`` may take in a model of ``n_features`` features."""
    return _META_BASE_BYTES + _META_BYTES_PER_FEATURE * n_features


def _npz_path(path):
    """Where ``np.savez`` writes ``path``: with ``.npz`` added unless it ends so."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else f"{path}.npz"


def save_model(estimator, path, metadata=None):
    """Write a fitted SGDRegressor, SGDClassifier or SGDOneClassSVM to ``path`` (an
    ``.npz`` file), whole or not at all.

    Parameters
    ----------
    estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
        Fitted.
    path : str, path-like or file object
        Where to write (``.npz`` is added to a name without it, as NumPy does).  A
        name is written through a temporary file beside it, renamed onto it once
        complete: a failed write leaves no partial file, and a file that was there
        stays as it was.
    metadata : dict, default=None
        Anything JSON can hold, kept with the model (``load_model(...,
        with_metadata=True)`` gives it back); the command line keeps how it read the
        training file.

    Raises
    ------
    ValueError
        For an estimator that is not fitted, or whose classes or parameters are
        not numbers or strings, or metadata larger than a model file keeps.
    OSError
        When the file cannot be written (a folder, a missing or unwritable folder, a
        full disk); the message names the path.
    """
    from sklearn.utils.validation import check_is_fitted

    if type(estimator).__name__ not in _classes():
        raise TypeError(f"save_model writes fastgd's estimators; got "
                        f"{type(estimator).__name__}.")
    check_is_fitted(estimator)
    meta_bytes = _meta_bytes(estimator, metadata)
    arrays = _fitted_arrays(estimator)
    if hasattr(path, "write"):
        np.savez(path, meta=meta_bytes, **arrays)
    else:
        _write_whole(_npz_path(path), meta=meta_bytes, **arrays)


def _meta_bytes(estimator, metadata):
    """The ``meta`` member: the JSON of the format, parameters and fitted scalars,
    within the size ``load_model`` accepts."""
    state = estimator._train_state
    meta = dict(format=FORMAT, version=FORMAT_VERSION,
                estimator=type(estimator).__name__,
                params=_json_params(estimator),
                attributes={name: getattr(estimator, name) for name in _SCALARS
                            if hasattr(estimator, name)},
                coef_sparse=bool(sp.issparse(estimator.coef_)),
                epochs_done=int(state.epochs_done),
                auto_eta=None if state.auto_eta is None else float(state.auto_eta),
                state_coef=state.coef is not None,
                metadata={} if metadata is None else metadata)
    if hasattr(estimator, "feature_names_in_"):
        meta["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    text = json.dumps(meta).encode("utf-8")
    cap = _meta_cap(estimator.n_features_in_)
    if len(text) > cap:
        raise ValueError(f"save_model: the metadata, parameters and loss curves take "
                         f"{len(text):,} bytes of JSON; a model file of "
                         f"{estimator.n_features_in_:,} features keeps at most "
                         f"{cap:,}: keep less metadata.")
    return np.frombuffer(text, dtype=np.uint8)


def _fitted_arrays(estimator):
    """The fitted arrays and the training state, by member name."""
    state = estimator._train_state
    coef = estimator.coef_
    arrays = dict(coef_=coef.toarray() if sp.issparse(coef) else coef,
                  intercept_=np.asarray(estimator.intercept_))
    if hasattr(estimator, "classes_"):
        classes = np.asarray(estimator.classes_)
        if classes.dtype == object:
            classes = classes.astype(str) if all(
                isinstance(c, str) for c in classes) else classes
        if classes.dtype == object:
            raise ValueError("save_model keeps classes that are numbers or strings; "
                             f"got {classes!r}.")
        arrays["classes_"] = classes
        arrays["class_weight_"] = np.asarray(estimator._class_weight)
    if state.coef is not None:
        arrays["state_coef"] = state.coef
    for name in _STATE_ARRAYS:
        arrays[f"state_{name}"] = getattr(state, name)
    return arrays


def _write_whole(path, **arrays):
    """``np.savez`` to ``path`` through a temporary file renamed onto it; an
    ``OSError`` names ``path``."""
    from fastgd._files.atomic import atomic_output

    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"cannot write the model file {path}: "
                                              f"it is a folder")
    try:
        with atomic_output(path, "wb") as stream:
            np.savez(stream, **arrays)
    except OSError as error:
        message = f"cannot write the model file {path}: {error.strerror or error}"
        if error.errno is None:
            raise type(error)(message) from None
        raise type(error)(error.errno, message) from None


# ------------------------------------------------------------------------ loading

def _bad(path, why):
    why = " ".join(str(why).split())  # one line, whatever the file held
    return ValueError(f"{path} is not a fastgd model file fastgd can read: {why}.")


def load_model(path, with_metadata=False):
    """Read a model written by ``save_model``, without running any code from it.

    Parameters
    ----------
    path : str, path-like or file object
    with_metadata : bool, default=False
        Return the ``metadata`` saved with the model too.

    Returns
    -------
    estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
        Fitted: it predicts as the saved one did, and ``partial_fit`` continues from
        its training state.
    metadata : dict
        With ``with_metadata`` only.

    Raises
    ------
    ValueError
        For a file that is not a fastgd model (text, a pickle, a damaged archive),
        holds anything but numbers and strings, comes from a newer version of the
        format, or whose members were changed: one error naming the file.
    OSError
        When the file cannot be opened (it does not exist, say).
    """
    try:
        with _opened(path) as stream:
            meta, arrays = _read_archive(stream)
        estimator = _estimator(meta, arrays)
    except _NewerVersion as newer:
        raise ValueError(f"{path} was written in format version {newer} of fastgd "
                         f"model files, by a newer fastgd; this fastgd "
                         f"reads version {FORMAT_VERSION} and older: upgrade "
                         f"fastgd.") from None
    except _Unreadable as problem:
        raise _bad(path, problem) from None
    if with_metadata:
        return estimator, dict(meta["metadata"])
    return estimator


@contextlib.contextmanager
def _opened(path):
    """The file as a binary stream at its start, once its first bytes say it is a
    zip archive."""
    if hasattr(path, "read"):
        stream, owned = path, False
    else:
        stream, owned = open(path, "rb"), True
    try:
        start = stream.tell()
        head = stream.read(1024)
        stream.seek(start)
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise _Unreadable(_what_it_is(head))
        yield stream
    finally:
        if owned:
            stream.close()


_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\r\f\b\x1b"


def _what_it_is(head):
    """Why a file that starts with ``head`` is not an ``.npz`` archive."""
    if not head:
        return "it is empty"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not an .npz archive (save_model)"
    if head[:1] == b"\x80":
        return ("it is a pickle, not an .npz archive: it holds Python objects, which "
                "load only by running code")
    if not head.translate(None, _TEXT_BYTES):
        return ("not an .npz file: it looks like a text file, not a model (a zip "
                "archive written by save_model or fastgd train): did you swap the "
                "model and the data?")
    return "not an .npz file: it is not a zip archive"


# the errors zipfile, zlib and reading the file raise on a damaged archive
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
                   OSError, NotImplementedError, RuntimeError, struct.error,
                   ValueError, OverflowError)


@contextlib.contextmanager
def _archive_errors(what):
    """Turn the errors of reading ``what`` from a damaged zip into ``_Unreadable``."""
    try:
        yield
    except _Unreadable:
        raise
    except _ARCHIVE_ERRORS as error:
        raise _Unreadable(f"{what} is damaged ({error})") from None


def _read_archive(stream):
    """``meta`` (checked JSON) and the arrays of the archive in ``stream``, each
    checked against the layout ``meta`` implies before it is inflated."""
    with _archive_errors("not an .npz file: its zip archive"):
        archive = zipfile.ZipFile(stream)
    with archive:
        infos = _member_infos(archive)
        coef_shape = _peek_shape(archive, infos["coef_"])
        meta = _read_meta(archive, infos["meta"], coef_shape)
        layout = _layout(meta, coef_shape)
        missing = sorted(set(layout) - set(infos))
        extra = sorted(set(infos) - set(layout) - {"meta"})
        if missing:
            raise _Unreadable(f"member {missing[0]!r} is missing")
        if extra:
            raise _Unreadable(f"unexpected members {extra} for this "
                              f"{meta['estimator']}")
        arrays = {name: _read_array(archive, infos[name], name, slot)
                  for name, slot in layout.items()}
    return meta, arrays


def _member_infos(archive):
    """The archive's members by array name, once their names, methods and number
    are those of a model file."""
    infos = {}
    for info in archive.infolist():
        name = info.filename[:-len(".npy")]
        if not info.filename.endswith(".npy") or name not in _MEMBERS:
            raise _Unreadable(f"unexpected member {_short.repr(info.filename)}")
        if name in infos:
            raise _Unreadable(f"member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise _Unreadable(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Unreadable(f"member {name!r} is compressed by method "
                              f"{info.compress_type}; model files are stored or "
                              f"deflated")
        infos[name] = info
    for name in ("meta", "coef_"):
        if name not in infos:
            raise _Unreadable(f"no {name!r} member")
    return infos


def _dtype_text(dtype):
    """A dtype for a message: a record's fields are not listed."""
    return str(dtype) if dtype.names is None else f"a record of {len(dtype)} fields"


def _npy_header(stream, name, info):
    """Shape, Fortran order and dtype of the ``.npy`` member ``name`` (``stream`` at
    its start), checked against the member's declared size."""
    try:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f".npy version {version[0]}.{version[1]} is not read")
        shape, fortran_order, dtype = read_header(stream,
                                                  max_header_size=_NPY_HEADER_MAX)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError,
            OverflowError) as error:
        raise _Unreadable(f"member {name!r} is damaged: its .npy header cannot be "
                          f"read ({_short.repr(str(error))})") from None
    if dtype.hasobject:
        raise _Unreadable(f"member {name!r} holds Python objects, which load only by "
                          f"running code")
    if any(d < 0 for d in shape):
        raise _Unreadable(f"member {name!r} is damaged: its .npy header gives the "
                          f"shape {_short.repr(shape)}")
    n_bytes = math.prod(shape) * dtype.itemsize
    held = info.file_size - stream.tell()
    if n_bytes != held:
        raise _Unreadable(f"member {name!r} is damaged: its .npy header gives shape "
                          f"{_short.repr(shape)} of {_dtype_text(dtype)} "
                          f"({n_bytes:,} bytes), but the member holds {held:,} bytes")
    return shape, fortran_order, dtype


def _peek_shape(archive, info):
    """The shape in the ``.npy`` header of a member, reading only the header."""
    with _archive_errors("member 'coef_'"), archive.open(info) as stream:
        shape, _, _ = _npy_header(stream, "coef_", info)
    if len(shape) not in (1, 2):
        raise _Unreadable(f"coef_ has shape {_short.repr(shape)}; it must be a "
                          f"vector or a matrix")
    return shape


def _read_data(stream, n_bytes, name):
    """Exactly ``n_bytes`` from ``stream``, inflated a chunk at a time, and nothing
    after them."""
    data = bytearray(n_bytes)
    view = memoryview(data)
    filled = 0
    while filled < n_bytes:
        piece = stream.read(min(_READ_CHUNK, n_bytes - filled))
        if not piece:
            raise _Unreadable(f"member {name!r} is damaged: it ends after {filled:,} "
                              f"of {n_bytes:,} bytes")
        view[filled:filled + len(piece)] = piece
        filled += len(piece)
    if stream.read(1):
        raise _Unreadable(f"member {name!r} is damaged: it holds more than the "
                          f"{n_bytes:,} bytes it declares")
    return data


def _read_meta(archive, info, coef_shape):
    """The ``meta`` member's JSON, within the size a model of ``coef_shape``'s
    features may have, its types checked."""
    cap = _meta_cap(coef_shape[-1])
    if info.file_size > cap + _NPY_HEADER_MAX:
        raise _Unreadable(f"member 'meta' declares {info.file_size:,} bytes; a model "
                          f"of {coef_shape[-1]:,} features keeps at most {cap:,}")
    with _archive_errors("member 'meta'"), archive.open(info) as stream:
        shape, _, dtype = _npy_header(stream, "meta", info)
        if dtype != np.uint8 or len(shape) != 1:
            raise _Unreadable(f"member 'meta' has shape {_short.repr(shape)} and "
                              f"dtype {_dtype_text(dtype)}, not the bytes of a text")
        text = _read_data(stream, shape[0], "meta")
    return _checked_meta(_parsed_json(bytes(text)))


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = np.frombuffer(b"[]{}", dtype=np.uint8)


def _nesting(text):
    """How deep the lists and mappings of the JSON ``text`` nest (counted without
    recursion: Python's parser would recurse as deep)."""
    bare = np.frombuffer(_JSON_STRING.sub(b"", text), dtype=np.uint8)
    brackets = bare[np.isin(bare, _BRACKETS)]
    opens = (brackets == ord("[")) | (brackets == ord("{"))
    return int(np.cumsum(np.where(opens, 1, -1), dtype=np.int32).max(initial=0))


def _parsed_json(text):
    depth = _nesting(text)
    if depth > _META_MAX_DEPTH:
        raise _Unreadable(f"its 'meta' member nests {depth} levels deep (at most "
                          f"{_META_MAX_DEPTH})")
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _Unreadable(f"its 'meta' member is not JSON ({error})") from None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_numbers(value):
    return isinstance(value, list) and all(_is_number(v) for v in value)


# the JSON types of ``meta``'s entries and of its fitted attributes
_META_TYPES = {
    "estimator": (str, "a string"),
    "params": (dict, "a mapping"),
    "attributes": (dict, "a mapping"),
    "coef_sparse": (bool, "true or false"),
    "state_coef": (bool, "true or false"),
    "epochs_done": (lambda v: _is_int(v) and v >= 0, "a count"),
    "auto_eta": (lambda v: v is None or _is_number(v) and 0 < v < math.inf,
                 "null or a positive number"),
    "metadata": (dict, "a mapping"),
    "feature_names_in_": (lambda v: isinstance(v, list) and all(
        isinstance(n, str) for n in v), "a list of strings"),
}
_ATTRIBUTE_TYPES = {
    "n_iter_": (lambda v: _is_int(v) and v >= 0, "a count"),
    "t_": (lambda v: _is_number(v) and 0 <= v < math.inf, "a non-negative number"),
    "loss_curve_": (_is_numbers, "a list of numbers"),
    "validation_loss_curve_": (_is_numbers, "a list of numbers"),
    "n_features_in_": (lambda v: _is_int(v) and v > 0, "a positive integer"),
}


def _check_types(mapping, types, where, required):
    """Raise unless every entry of ``mapping`` is one of ``types`` (a type or a
    test, and its description) and the ``required`` ones are there."""
    unknown = sorted(set(mapping) - set(types))
    if unknown:
        raise _Unreadable(f"unexpected {where} {_short.repr(unknown[0])}")
    for name in required:
        if name not in mapping:
            raise _Unreadable(f"its {where} {name!r} is missing")
    for name, value in mapping.items():
        test, description = types[name]
        ok = isinstance(value, test) if isinstance(test, type) else test(value)
        if not ok:
            raise _Unreadable(f"its {where} {name!r} must be {description}; got "
                              f"{_short.repr(value)}")


def _checked_meta(meta):
    """``meta`` once its format, version, entries and their types are right."""
    if not isinstance(meta, dict):
        raise _Unreadable("its 'meta' is not a mapping")
    if meta.get("format") != FORMAT:
        raise _Unreadable(f"its format is {_short.repr(meta.get('format'))}, not "
                          f"{FORMAT!r}")
    version = meta.get("version")
    if not _is_int(version) or version < 1:
        raise _Unreadable(f"its format version {_short.repr(version)} is not a "
                          f"version")
    if version > FORMAT_VERSION:
        raise _NewerVersion(version)
    entries = {k: v for k, v in meta.items() if k not in ("format", "version")}
    _check_types(entries, _META_TYPES, "meta entry",
                 sorted(_META_KEYS - {"format", "version", "feature_names_in_"}))
    _check_types(meta["attributes"], _ATTRIBUTE_TYPES, "attribute",
                 ("n_iter_", "t_", "loss_curve_", "n_features_in_"))
    if meta["estimator"] not in _classes():
        raise _Unreadable(f"unknown estimator {_short.repr(meta['estimator'])}")
    n_features = meta["attributes"]["n_features_in_"]
    names = meta.get("feature_names_in_")
    if names is not None and len(names) != n_features:
        raise _Unreadable(f"it names {len(names)} features, but the model has "
                          f"{n_features}")
    return meta


class _Slot:
    """What one member must hold: one of ``shapes``, a dtype ``fits`` accepts."""

    def __init__(self, shapes, dtypes=None, fits=None, description=None):
        self.shapes = shapes
        self.fits = fits if fits is not None else (
            lambda dtype: dtype.newbyteorder("=") in dtypes)
        self.description = description or " or ".join(str(d) for d in dtypes)
        self.most_bytes = max(math.prod(shape) for shape in shapes) * (
            _LABEL_MAX_BYTES if dtypes is None else max(d.itemsize for d in dtypes))


def _label_dtype(dtype):
    return dtype.kind in "biufSU" and 0 < dtype.itemsize <= _LABEL_MAX_BYTES


def _layout(meta, coef_shape):
    """Each member's slot, from ``n_features_in_``, the estimator and the rows of
    ``coef_``."""
    from fastgd._kernels._structs import MODEL_SCALARS
    from fastgd._kernels._tables import OPTIMIZERS

    n = meta["attributes"]["n_features_in_"]
    classifier = meta["estimator"] == "SGDClassifier"
    if classifier:
        rows = coef_shape[0] if len(coef_shape) == 2 else 0
        coef_shapes = [(rows, n)] if rows >= 1 else [(1, n)]
    else:
        rows = 1
        coef_shapes = [(1, n)] if meta["coef_sparse"] else [(n,)]
    softmax = meta["params"].get("multi_class") == "multinomial"
    n_classes = 2 if rows == 1 else rows
    n_models = 2 if classifier and softmax and rows == 1 else rows
    most_slots = max(len(spec.slots) for spec in OPTIMIZERS)
    layout = dict(
        coef_=_Slot(coef_shapes, _FLOATS),
        intercept_=_Slot([(rows,)], _FLOATS))
    if classifier:
        layout["classes_"] = _Slot([(n_classes,)], fits=_label_dtype,
                                   description=f"numbers or strings of at most "
                                               f"{_LABEL_MAX_BYTES} bytes")
        layout["class_weight_"] = _Slot([(n_classes,)], _FLOAT64)
    layout.update(
        state_scalars=_Slot([(n_models,)], (MODEL_SCALARS,),
                            description="fastgd's model scalars"),
        state_avg_sum=_Slot([(n_models, 0), (n_models, n)], _FLOAT64),
        state_l1_received=_Slot([(n_models, 0), (n_models, n)], _FLOAT64),
        state_optimizer_state=_Slot([(n_models, n + 1, s)
                                     for s in range(most_slots + 1)], _FLOAT64))
    if meta["state_coef"]:
        layout["state_coef"] = _Slot([(n_models, n)], _FLOATS)
    return layout


def _read_array(archive, info, name, slot):
    """The array in member ``name``, once its header fits ``slot``."""
    if info.file_size > slot.most_bytes + _NPY_HEADER_MAX:
        raise _Unreadable(f"member {name!r} declares {info.file_size:,} bytes, more "
                          f"than the {slot.most_bytes:,} of its largest shape and a "
                          f"header")
    with _archive_errors(f"member {name!r}"), archive.open(info) as stream:
        shape, fortran_order, dtype = _npy_header(stream, name, info)
        if shape not in slot.shapes or not slot.fits(dtype):
            expected = " or ".join(str(s) for s in slot.shapes[:3])
            raise _Unreadable(f"{name} has shape {_short.repr(shape)} and dtype "
                              f"{_dtype_text(dtype)}; this model needs shape "
                              f"{expected} and dtype {slot.description}")
        data = _read_data(stream, math.prod(shape) * dtype.itemsize, name)
    array = np.frombuffer(data, dtype=dtype)
    if fortran_order:
        array = array.reshape(shape[::-1]).T
    array = array.reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _check_values(arrays):
    """Raise unless the weights and the state are finite and the classes sorted,
    unique, with non-negative weights."""
    for name, array in arrays.items():
        if name == "classes_":
            continue
        fields = ([array[f] for f in array.dtype.names] if array.dtype.names
                  else [array])
        if not all(np.isfinite(f).all() for f in fields):
            raise _Unreadable(f"{name} holds NaN or infinity")
    if "classes_" in arrays:
        classes = arrays["classes_"]
        if not np.all(classes[1:] > classes[:-1]):
            raise _Unreadable(f"its classes_ {_short.repr(classes.tolist())} are "
                              f"not sorted and unique")
        if np.any(arrays["class_weight_"] < 0):
            raise _Unreadable("class_weight_ holds a negative weight")


def _parameters(meta):
    """The estimator ``meta`` names, with its parameters set and checked."""
    from fastgd._params import check_params

    params = dict(meta["params"])
    estimator = _classes()[meta["estimator"]]()
    unknown = sorted(set(params) - set(estimator.get_params(deep=False)))
    if unknown:
        raise _Unreadable(f"{meta['estimator']} has no parameter "
                          f"{_short.repr(unknown[0])}")
    weights = params.get("class_weight")
    if isinstance(weights, dict):
        pairs = weights.get("pairs")
        if not (len(weights) == 1 and isinstance(pairs, list) and all(
                isinstance(p, list) and len(p) == 2
                and isinstance(p[0], (int, float, str)) and _is_number(p[1])
                for p in pairs)):
            raise _Unreadable(f"its class_weight {_short.repr(weights)} is not a "
                              f"list of [class, weight] pairs")
        params["class_weight"] = {k: v for k, v in pairs}
    try:
        estimator.set_params(**params)
        estimator._validate_params()
        check_params(estimator, False, estimator._pa_loss)
    except (ValueError, TypeError) as error:
        raise _Unreadable(f"its parameters are not valid ({error})") from None
    return estimator


def _estimator(meta, arrays):
    """The fitted estimator of a checked ``meta`` and its arrays."""
    from fastgd._training.state import TrainingState

    _check_values(arrays)
    estimator = _parameters(meta)
    for name, value in meta["attributes"].items():
        setattr(estimator, name, value)
    if "classes_" in arrays:
        estimator.classes_ = arrays["classes_"]
        estimator._class_weight = arrays["class_weight_"]
    coef = arrays["coef_"]
    estimator.coef_ = sp.csr_matrix(coef) if meta["coef_sparse"] else coef
    estimator.intercept_ = arrays["intercept_"]
    if "feature_names_in_" in meta:
        estimator.feature_names_in_ = np.asarray(meta["feature_names_in_"],
                                                 dtype=object)
    estimator._train_state = TrainingState(
        coef=arrays.get("state_coef"), scalars=arrays["state_scalars"],
        avg_sum=arrays["state_avg_sum"], l1_received=arrays["state_l1_received"],
        optimizer_state=arrays["state_optimizer_state"],
        epochs_done=meta["epochs_done"], auto_eta=meta["auto_eta"])
    return estimator
