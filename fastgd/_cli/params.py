"""The estimators' parameters as command-line options, checked before any data is read.

Every parameter of ``SGDClassifier`` / ``SGDRegressor`` / ``SGDOneClassSVM`` is an
option (``--alpha 1e-5``).  Its help is the first sentence of the parameter's
description in the estimators' docstrings, its default(s) and, for a parameter of
named choices, the choices, all read off the estimators themselves (their docstrings
and scikit-learn's ``_parameter_constraints``), so the command line cannot drift from
the Python API.  A value is read as the parameter's type asks: the usual spellings
of a boolean (``1``/``0``, ``yes``/``no``, ``true``/``false``, ``on``/``off``) for a
boolean parameter, else ``none``, an int, a float, a JSON mapping
(``class_weight``) or the string itself.

``check_parameters`` validates the given values on the estimator(s) the file may
get before the file is read, so ``--loss log_los`` fails at once, not after minutes
of reading.  ``pick_estimator`` says which estimator the labels ask for.
"""
import argparse
import json

import numpy as np

KINDS = ("auto", "classifier", "regressor", "oneclass")
# --estimator auto picks a classifier for integer labels with at most this many
# distinct values (and at most one per AUTO_ROWS_PER_CLASS rows): integer targets
# with more values (prices, counts) are quantities to predict, not classes.
AUTO_MAX_CLASSES = 100
AUTO_ROWS_PER_CLASS = 5
# a classifier with more classes than this is refused unless --max-classes allows it
MAX_CLASSES = 1000

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


def estimator_classes():
    """``{kind: class}`` of the estimators (imports scikit-learn: call it late)."""
    from fastgd import SGDClassifier, SGDOneClassSVM, SGDRegressor

    return {"classifier": SGDClassifier, "regressor": SGDRegressor,
            "oneclass": SGDOneClassSVM}


def _constraints(name):
    found = []
    for cls in estimator_classes().values():
        found += cls._parameter_constraints.get(name, [])
    return found


def _takes_boolean(name):
    return "boolean" in _constraints(name)


def value_reader(name):
    """The ``type=`` of the option of parameter ``name``."""
    boolean = _takes_boolean(name)

    def read(text):
        lowered = text.strip().lower()
        if boolean and lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        return parameter_value(text)

    read.__name__ = name  # argparse names the type in its errors
    return read


def parameter_value(text):
    """An option's value as a parameter: None, a bool, an int, a float, a JSON
    mapping (``class_weight``), or the string itself."""
    lowered = text.strip().lower()
    if lowered == "none":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.strip().startswith("{"):
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as error:
            raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
        return {parameter_value(str(k)): v for k, v in mapping.items()}
    return text


def _descriptions():
    """``{parameter: first sentence of its description}`` from the docstrings."""
    from sklearn.externals._numpydoc.docscrape import NumpyDocString

    found = {}
    for cls in estimator_classes().values():
        for parameter in NumpyDocString(cls.__doc__ or "")["Parameters"]:
            text = " ".join(" ".join(parameter.desc).split()).replace("``", "")
            sentence = text.split(". ")[0].rstrip(".")
            found.setdefault(parameter.name, sentence)
    return found


def _choices(name):
    options = set()
    for constraint in _constraints(name):
        options |= set(getattr(constraint, "options", ()))
    return sorted(options)


def _defaults(name):
    """``"0.0001"`` or ``"classifier 'hinge', regressor 'squared_error'"``."""
    values = {}
    for kind, cls in estimator_classes().items():
        params = cls().get_params(deep=False)
        if name in params:
            values[kind] = params[name]
    if len(set(map(repr, values.values()))) == 1:
        return repr(next(iter(values.values())))
    return ", ".join(f"{kind} {value!r}" for kind, value in values.items())


def add_parameter_options(parser):
    """One option per estimator parameter, with its help, default and choices."""
    group = parser.add_argument_group(
        "estimator parameters", "any parameter of SGDClassifier / SGDRegressor / "
        "SGDOneClassSVM, as in Python (--alpha 1e-5, --loss log_loss, --penalty none, "
        "--fit-intercept no, --class-weight balanced or a JSON mapping)")
    descriptions = _descriptions()
    names = sorted({name for cls in estimator_classes().values()
                    for name in cls().get_params(deep=False)})
    for name in names:
        text = descriptions.get(name, "")
        text += f"{'. ' if text else ''}Default: {_defaults(name)}"
        choices = _choices(name)
        if choices:
            text += f"; one of {', '.join(choices)}"
        if _takes_boolean(name):
            text += "; yes/no, true/false, 1/0"
        group.add_argument("--" + name.replace("_", "-"), dest="param_" + name,
                           type=value_reader(name), default=argparse.SUPPRESS,
                           metavar="VALUE", help=text.replace("%", "%%") + ".")


def given_parameters(args):
    """``{parameter: value}`` of the options given on the command line."""
    return {k[len("param_"):]: v for k, v in vars(args).items()
            if k.startswith("param_")}


def _kinds_for(kind, params):
    """The estimators a run with ``params`` may train: ``kind`` when given, else
    those whose parameters (and losses) admit ``params``."""
    if kind != "auto":
        return [kind]
    from fastgd._params import CLASSIFICATION_LOSSES, REGRESSION_LOSSES

    loss = params.get("loss")
    if loss in REGRESSION_LOSSES:
        return ["regressor"]
    if loss in CLASSIFICATION_LOSSES or {"class_weight", "multi_class"} & set(params):
        return ["classifier"]
    return ["classifier", "regressor"]


def make_estimator(kind, params, partial):
    """The estimator of ``kind`` with ``params`` set and checked (scikit-learn's
    errors); ``partial``: it will be trained by ``partial_fit``."""
    from fastgd._params import check_params

    estimator = estimator_classes()[kind]()
    unknown = set(params) - set(estimator.get_params(deep=False))
    if unknown:
        raise ValueError(f"{type(estimator).__name__} has no parameter "
                         f"{sorted(unknown)[0]!r}.")
    estimator.set_params(**params)
    estimator._validate_params()
    check_params(estimator, partial, estimator._pa_loss)
    return estimator


def check_parameters(kind, params, partial):
    """Raise the first error of ``params`` on every estimator ``kind`` may become
    (``auto``: the classifier and the regressor), before any data is read."""
    errors = []
    for candidate in _kinds_for(kind, params):
        try:
            make_estimator(candidate, params, partial)
        except ValueError as error:  # scikit-learn's InvalidParameterError too
            errors.append(error)
        else:
            return
    raise errors[0]


def pick_estimator(kind, params, labels, n_rows, max_classes):
    """The estimator for ``labels`` (the distinct training labels) and a line that
    says which and why.

    ``auto``: a classifier when every label is an integer and there are few of them
    (at most ``AUTO_MAX_CLASSES``, and at most one per ``AUTO_ROWS_PER_CLASS``
    rows), else a regressor.  A classifier of more than ``max_classes`` classes is
    refused: such labels are values to predict.
    """
    labels = np.asarray(labels)
    n_labels = labels.size
    if kind == "auto":
        kinds = _kinds_for(kind, params)
        integral = n_labels > 0 and bool(np.all(labels == np.round(labels)))
        few = n_labels <= min(AUTO_MAX_CLASSES,
                              max(2, n_rows // AUTO_ROWS_PER_CLASS))
        kind = kinds[0] if len(kinds) == 1 else (
            "classifier" if integral and few else "regressor")
    if kind == "classifier" and n_labels > max_classes:
        raise ValueError(
            f"the labels have {n_labels:,} distinct values, too many for a "
            f"classifier (one model per class; --max-classes is {max_classes:,}): "
            "if they are numbers to predict, pass --estimator regressor; to train "
            "that many classes, raise --max-classes.")
    estimator = make_estimator(kind, params, partial=False)
    name = type(estimator).__name__
    if kind == "classifier":
        shown = ", ".join(f"{v:g}" for v in labels[:10]) + (
            ", ..." if n_labels > 10 else "")
        why = f"{n_labels:,} classes ({shown})"
    elif kind == "regressor":
        why = f"labels of {n_labels:,} distinct values, predicted as numbers"
    else:
        why = "the labels are not used"
    return estimator, f"{name}: {why}"
