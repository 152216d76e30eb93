"""Model files that load without running code: ``save_model`` and ``load_model``.

A model file is NumPy's ``.npz`` (a zip of ``.npy`` arrays): numbers and strings
only, so loading a file from someone else cannot execute anything (pickle, and so
joblib, runs code on load).  One member, ``meta``, holds JSON: the format and its
version, the estimator's class and parameters, and the fitted scalars; the other
members are the fitted arrays (``coef_``, ``intercept_``, ``classes_``) and the
training state that ``partial_fit`` continues from.  NumPy's format was chosen over
skops because it needs no extra package and its safety is one flag, not a list of
trusted types; the files are read by anything that reads ``.npz``.

This module is the schema: what is saved for which estimator and what a file may
hold.  ``save_model`` writes whole files or nothing (``atomic``: a temporary file
beside the target, renamed onto it once complete).  ``load_model`` treats the file as
hostile and reads it through ``model_archive``, within limits set here before
anything is inflated: every failure is one ``ValueError`` naming the file, and memory
stays within what the metadata implies.  ``meta`` may take a base size plus a few
hundred bytes per feature (the command line keeps feature names and a
standardization); every other member's shape and dtype follow from
``n_features_in_`` and the rows of ``coef_`` (``_layout``).  The JSON's types are
checked, and the arrays' values (finite weights, sorted unique classes) before the
estimator is built, so a file that loads predicts.
"""
import errno
import json
import math
import os

import numpy as np
import scipy.sparse as sp

from fastgd._files.model_archive import (
    Slot, Unreadable, check_types, is_int, is_number, is_numbers, member_infos,
    opened_archive, parsed_json, peek_shape, read_array, read_text, short)

FORMAT = "fastgd-model"
FORMAT_VERSION = 1

# the fitted scalars and lists kept in the JSON part
_SCALARS = ("n_iter_", "n_passes_", "t_", "loss_curve_", "validation_loss_curve_",
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
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_FLOAT64 = (np.dtype(np.float64),)


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
        with opened_archive(path) as archive:
            meta, arrays = _read_archive(archive)
        estimator = _estimator(meta, arrays)
    except _NewerVersion as newer:
        raise ValueError(f"{path} was written in format version {newer} of fastgd "
                         f"model files, by a newer fastgd; this fastgd "
                         f"reads version {FORMAT_VERSION} and older: upgrade "
                         f"fastgd.") from None
    except Unreadable as problem:
        raise _bad(path, problem) from None
    if with_metadata:
        return estimator, dict(meta["metadata"])
    return estimator


def _read_archive(archive):
    """``meta`` (checked JSON) and the arrays of ``archive``, each checked against
    the layout ``meta`` implies before it is inflated."""
    infos = member_infos(archive, _MEMBERS, ("meta", "coef_"))
    coef_shape = peek_shape(archive, infos["coef_"], "coef_")
    if len(coef_shape) not in (1, 2):
        raise Unreadable(f"coef_ has shape {short.repr(coef_shape)}; it must be a "
                         f"vector or a matrix")
    n_features = coef_shape[-1]
    text = read_text(archive, infos["meta"], "meta", _meta_cap(n_features),
                     f"a model of {n_features:,} features")
    meta = _checked_meta(parsed_json(text, "meta", _META_MAX_DEPTH))
    layout = _layout(meta, coef_shape)
    missing = sorted(set(layout) - set(infos))
    extra = sorted(set(infos) - set(layout) - {"meta"})
    if missing:
        raise Unreadable(f"member {missing[0]!r} is missing")
    if extra:
        raise Unreadable(f"unexpected members {extra} for this "
                         f"{meta['estimator']}")
    arrays = {name: read_array(archive, infos[name], name, slot)
              for name, slot in layout.items()}
    return meta, arrays


# the JSON types of ``meta``'s entries and of its fitted attributes
_META_TYPES = {
    "estimator": (str, "a string"),
    "params": (dict, "a mapping"),
    "attributes": (dict, "a mapping"),
    "coef_sparse": (bool, "true or false"),
    "state_coef": (bool, "true or false"),
    "epochs_done": (lambda v: is_int(v) and v >= 0, "a count"),
    "auto_eta": (lambda v: v is None or is_number(v) and 0 < v < math.inf,
                 "null or a positive number"),
    "metadata": (dict, "a mapping"),
    "feature_names_in_": (lambda v: isinstance(v, list) and all(
        isinstance(n, str) for n in v), "a list of strings"),
}
_ATTRIBUTE_TYPES = {
    "n_iter_": (lambda v: is_int(v) and v >= 0, "a count"),
    "n_passes_": (lambda v: is_int(v) and v >= 0, "a count"),
    "t_": (lambda v: is_number(v) and 0 <= v < math.inf, "a non-negative number"),
    "loss_curve_": (is_numbers, "a list of numbers"),
    "validation_loss_curve_": (is_numbers, "a list of numbers"),
    "n_features_in_": (lambda v: is_int(v) and v > 0, "a positive integer"),
}


def _checked_meta(meta):
    """``meta`` once its format, version, entries and their types are right."""
    if not isinstance(meta, dict):
        raise Unreadable("its 'meta' is not a mapping")
    if meta.get("format") != FORMAT:
        raise Unreadable(f"its format is {short.repr(meta.get('format'))}, not "
                         f"{FORMAT!r}")
    version = meta.get("version")
    if not is_int(version) or version < 1:
        raise Unreadable(f"its format version {short.repr(version)} is not a "
                         f"version")
    if version > FORMAT_VERSION:
        raise _NewerVersion(version)
    entries = {k: v for k, v in meta.items() if k not in ("format", "version")}
    check_types(entries, _META_TYPES, "meta entry",
                sorted(_META_KEYS - {"format", "version", "feature_names_in_"}))
    check_types(meta["attributes"], _ATTRIBUTE_TYPES, "attribute",
                ("n_iter_", "t_", "loss_curve_", "n_features_in_"))
    if meta["estimator"] not in _classes():
        raise Unreadable(f"unknown estimator {short.repr(meta['estimator'])}")
    n_features = meta["attributes"]["n_features_in_"]
    names = meta.get("feature_names_in_")
    if names is not None and len(names) != n_features:
        raise Unreadable(f"it names {len(names)} features, but the model has "
                         f"{n_features}")
    return meta


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
        coef_=Slot(coef_shapes, _FLOATS),
        intercept_=Slot([(rows,)], _FLOATS))
    if classifier:
        layout["classes_"] = Slot([(n_classes,)], fits=_label_dtype,
                                  description=f"numbers or strings of at most "
                                              f"{_LABEL_MAX_BYTES} bytes",
                                  itemsize=_LABEL_MAX_BYTES)
        layout["class_weight_"] = Slot([(n_classes,)], _FLOAT64)
    layout.update(
        state_scalars=Slot([(n_models,)], (MODEL_SCALARS,),
                           description="fastgd's model scalars"),
        state_avg_sum=Slot([(n_models, 0), (n_models, n)], _FLOAT64),
        state_l1_received=Slot([(n_models, 0), (n_models, n)], _FLOAT64),
        state_optimizer_state=Slot([(n_models, n + 1, s)
                                    for s in range(most_slots + 1)], _FLOAT64))
    if meta["state_coef"]:
        layout["state_coef"] = Slot([(n_models, n)], _FLOATS)
    return layout


def _check_values(arrays):
    """Raise unless the weights and the state are finite and the classes sorted,
    unique, with non-negative weights."""
    for name, array in arrays.items():
        if name == "classes_":
            continue
        fields = ([array[f] for f in array.dtype.names] if array.dtype.names
                  else [array])
        if not all(np.isfinite(f).all() for f in fields):
            raise Unreadable(f"{name} holds NaN or infinity")
    if "classes_" in arrays:
        classes = arrays["classes_"]
        if not np.all(classes[1:] > classes[:-1]):
            raise Unreadable(f"its classes_ {short.repr(classes.tolist())} are "
                             f"not sorted and unique")
        if np.any(arrays["class_weight_"] < 0):
            raise Unreadable("class_weight_ holds a negative weight")


def _parameters(meta):
    """The estimator ``meta`` names, with its parameters set and checked."""
    from fastgd._params import validate_parameters

    params = dict(meta["params"])
    estimator = _classes()[meta["estimator"]]()
    unknown = sorted(set(params) - set(estimator.get_params(deep=False)))
    if unknown:
        raise Unreadable(f"{meta['estimator']} has no parameter "
                         f"{short.repr(unknown[0])}")
    weights = params.get("class_weight")
    if isinstance(weights, dict):
        pairs = weights.get("pairs")
        if not (len(weights) == 1 and isinstance(pairs, list) and all(
                isinstance(p, list) and len(p) == 2
                and isinstance(p[0], (int, float, str)) and is_number(p[1])
                for p in pairs)):
            raise Unreadable(f"its class_weight {short.repr(weights)} is not a "
                             f"list of [class, weight] pairs")
        params["class_weight"] = {k: v for k, v in pairs}
    try:
        estimator.set_params(**params)
        validate_parameters(estimator, False)
    except (ValueError, TypeError) as error:
        raise Unreadable(f"its parameters are not valid ({error})") from None
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
