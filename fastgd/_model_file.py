"""Model files that load without running code: ``save_model`` and ``load_model``.

A model file is NumPy's ``.npz`` (a zip of ``.npy`` arrays) read with
``allow_pickle=False``: numbers and strings only, so loading a file from someone else
cannot execute anything (pickle, and so joblib, runs code on load).  One member,
``meta``, holds JSON: the format and its version, the estimator's class and
parameters, and the fitted scalars; the other members are the fitted arrays
(``coef_``, ``intercept_``, ``classes_``) and the training state that ``partial_fit``
continues from.  NumPy's format was chosen over skops because it needs no extra
package and its safety is one flag, not a list of trusted types; the files are read
by anything that reads ``.npz``.

A file from a newer format version, or one whose members or shapes were changed, gets
a clear error.
"""
import json
import zipfile

import numpy as np
import scipy.sparse as sp

FORMAT = "fastgd-model"
FORMAT_VERSION = 1

# the fitted scalars and lists kept in the JSON part
_SCALARS = ("n_iter_", "t_", "loss_curve_", "validation_loss_curve_",
            "n_features_in_")
_STATE_ARRAYS = ("scalars", "avg_sum", "l1_received", "optimizer_state")


def _classes():
    from fastgd._estimators import SGDClassifier, SGDOneClassSVM, SGDRegressor

    return {cls.__name__: cls for cls in (SGDClassifier, SGDRegressor, SGDOneClassSVM)}


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


def save_model(estimator, path, metadata=None):
    """Write a fitted SGDRegressor, SGDClassifier or SGDOneClassSVM to ``path`` (an
    ``.npz`` file).

    Parameters
    ----------
    estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
        Fitted.
    path : str or path-like
        Where to write (NumPy adds ``.npz`` to a name without it).
    metadata : dict, default=None
        Anything JSON can hold, kept with the model (``load_model(...,
        with_metadata=True)`` gives it back); the command line keeps how it read the
        training file.

    Raises
    ------
    ValueError
        For an estimator that is not fitted, or whose classes or parameters are
        not numbers or strings.
    """
    from sklearn.utils.validation import check_is_fitted

    if type(estimator).__name__ not in _classes():
        raise TypeError(f"save_model writes fastgd's estimators; got "
                        f"{type(estimator).__name__}.")
    check_is_fitted(estimator)
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
    meta_bytes = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    np.savez(path, meta=meta_bytes, **arrays)


def _bad(path, why):
    return ValueError(f"{path} is not a fastgd model file fastgd can read: {why}.")


def load_model(path, with_metadata=False):
    """Read a model written by ``save_model``, without running any code from it.

    Parameters
    ----------
    path : str or path-like
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
        For a file that is not a fastgd model, holds anything but numbers and strings
        (a pickle, say), comes from a newer version of the format, or whose members
        were changed.
    """
    from fastgd._state import TrainingState

    try:
        with np.load(path, allow_pickle=False) as members:
            arrays = {name: members[name] for name in members.files}
    except ValueError as error:  # object arrays: pickles
        raise _bad(path, f"it holds Python objects, which load only by running "
                         f"code ({error})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise _bad(path, f"not an .npz file ({error})") from None
    if "meta" not in arrays:
        raise _bad(path, "no 'meta' member")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _bad(path, f"its 'meta' member is not JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, f"its format is {meta.get('format')!r}, not {FORMAT!r}"
                   if isinstance(meta, dict) else "its 'meta' is not a mapping")
    version = meta.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{path} was written in format version {version} of fastgd "
                         f"model files, by a newer fastgd; this fastgd "
                         f"reads version {FORMAT_VERSION} and older: upgrade fastgd.")
    cls = _classes().get(meta.get("estimator"))
    if cls is None:
        raise _bad(path, f"unknown estimator {meta.get('estimator')!r}")
    params = dict(meta["params"])
    weights = params.get("class_weight")
    if isinstance(weights, dict):
        params["class_weight"] = {k: v for k, v in weights["pairs"]}
    estimator = cls()
    try:
        estimator.set_params(**params)
        estimator._validate_params()
    except (ValueError, TypeError) as error:
        raise _bad(path, f"its parameters are not valid ({error})") from None
    expected = {"coef_", "intercept_", "classes_", "class_weight_", "state_coef"} | {
        f"state_{name}" for name in _STATE_ARRAYS}
    unexpected = set(arrays) - expected
    if unexpected:
        raise _bad(path, f"unexpected members {sorted(unexpected)}")
    for name, value in meta["attributes"].items():
        if name not in _SCALARS:
            raise _bad(path, f"unexpected attribute {name!r}")
        setattr(estimator, name, value)
    try:
        _set_arrays(estimator, arrays, meta, TrainingState)
    except KeyError as error:
        raise _bad(path, f"member {error} is missing") from None
    except (ValueError, TypeError) as error:
        raise _bad(path, str(error)) from None
    if with_metadata:
        return estimator, dict(meta.get("metadata") or {})
    return estimator


def _set_arrays(estimator, arrays, meta, TrainingState):
    """The fitted arrays and the training state, their shapes checked."""
    n_features = int(meta["attributes"]["n_features_in_"])
    coef, intercept = arrays["coef_"], arrays["intercept_"]
    if coef.dtype not in (np.float32, np.float64) or coef.size % n_features:
        raise ValueError(f"coef_ of shape {coef.shape} and dtype {coef.dtype} does not "
                         f"fit {n_features} features")
    n_rows = coef.size // n_features
    if intercept.shape != (n_rows,):
        raise ValueError(f"intercept_ has shape {intercept.shape}, expected "
                         f"({n_rows},)")
    if "classes_" in arrays:
        estimator.classes_ = arrays["classes_"]
        estimator._class_weight = arrays["class_weight_"]
    scalars = arrays["state_scalars"]
    n_models = scalars.shape[0]
    state_coef = arrays.get("state_coef")
    if meta["state_coef"] != (state_coef is not None):
        raise ValueError("the training state's weights are missing")
    if state_coef is not None and state_coef.shape != (n_models, n_features):
        raise ValueError(f"the training state's weights have shape {state_coef.shape}, "
                         f"expected ({n_models}, {n_features})")
    state = TrainingState(coef=state_coef, scalars=scalars,
                          avg_sum=arrays["state_avg_sum"],
                          l1_received=arrays["state_l1_received"],
                          optimizer_state=arrays["state_optimizer_state"],
                          epochs_done=int(meta["epochs_done"]),
                          auto_eta=meta["auto_eta"])
    for name in ("avg_sum", "l1_received"):
        shape = getattr(state, name).shape
        if shape[0] != n_models or shape[1] not in (0, n_features):
            raise ValueError(f"the training state's {name} has shape {shape}")
    estimator.coef_ = sp.csr_matrix(coef) if meta["coef_sparse"] else coef
    estimator.intercept_ = intercept
    if "feature_names_in_" in meta:
        estimator.feature_names_in_ = np.asarray(meta["feature_names_in_"],
                                                 dtype=object)
    estimator._train_state = state
