"""From a classifier's y to the kernels' targets: ``classes_``, class indices, class
weights, and soft labels (rows of class probabilities) for the softmax."""
import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets


def set_classes(estimator, y, partial, classes):
    """``classes_`` from ``classes``, y (or the columns of soft labels), or the
    previous call of ``partial_fit``."""
    soft = np.ndim(y) == 2
    if not soft:
        check_classification_targets(y)
    if not partial:
        if classes is not None:
            estimator.classes_ = np.unique(classes)
        else:
            estimator.classes_ = np.arange(y.shape[1]) if soft else np.unique(y)
    elif not hasattr(estimator, "classes_"):
        if classes is None:
            raise ValueError("classes must be passed on the first call to "
                             "partial_fit.")
        estimator.classes_ = np.unique(classes)
    elif classes is not None and not np.array_equal(estimator.classes_,
                                                    np.unique(classes)):
        raise ValueError(f"`classes={classes!r}` is not the same as on last call "
                         f"to partial_fit, was: {estimator.classes_!r}")
    if partial and estimator.class_weight == "balanced":
        raise ValueError(
            "class_weight 'balanced' is not supported for partial_fit. In order "
            "to use 'balanced' weights, use compute_class_weight('balanced', "
            "classes=classes, y=y) on a large enough sample of the targets and "
            "pass the resulting weights as the class_weight parameter.")
    if len(estimator.classes_) < 2:
        raise ValueError("The number of classes has to be greater than one; got "
                         f"{len(estimator.classes_)} class")

def soft_targets(estimator, Y, dtype):
    """Validate soft labels: the multinomial model's ``Targets`` arguments."""
    if estimator.multi_class != "multinomial":
        raise ValueError("Soft labels (a 2D y of class probabilities) need "
                         "multi_class='multinomial'.")
    if estimator.class_weight is not None:
        raise ValueError("class_weight is not used with soft labels: weight the "
                         "samples (sample_weight) or the probabilities instead.")
    Y = np.ascontiguousarray(Y, dtype=dtype)
    n_classes = len(estimator.classes_)
    if Y.shape[1] != n_classes:
        raise ValueError(f"Soft labels have {Y.shape[1]} columns but there are "
                         f"{n_classes} classes {estimator.classes_!r}.")
    if np.any(Y < 0):
        raise ValueError("Soft labels must be probabilities: got negative values.")
    sums = Y.sum(axis=1, dtype=np.float64)
    bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-4)
    if bad.size:
        raise ValueError(f"Each row of soft labels must sum to 1; row {bad[0]} "
                         f"sums to {sums[bad[0]]:.6g}.")
    return dict(pos_class=np.arange(n_classes), w_pos=np.ones(n_classes),
                w_neg=1.0, soft=Y, n_classes=n_classes), np.argmax(Y, axis=1)

def class_counts(classes, labels, counts):
    """The counts of ``labels`` (with ``counts``) as counts of ``classes`` (0 for a
    class not found; labels that are not classes are left out: the targets' encoding
    reports them)."""
    out = np.zeros(len(classes), dtype=np.int64)
    known = np.isin(labels, classes)
    out[np.searchsorted(classes, labels[known])] = counts[known]
    return out


def class_weights(estimator, y=None, counts=None):
    """The weight of every class of ``classes_``: ``class_weight`` resolved, from y
    or (for ``'balanced'`` on data that is not in one place) the classes' counts."""
    if counts is not None and estimator.class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        if np.any(counts == 0):
            missing = estimator.classes_[counts == 0]
            raise ValueError(f"classes should have valid labels that are in y; "
                             f"{missing!r} are not.")
        weights = counts.sum() / (len(counts) * counts)
    else:
        y = estimator.classes_ if y is None else y
        weights = compute_class_weight(estimator.class_weight,
                                       classes=estimator.classes_, y=y)
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"class_weight must give every class a finite "
                         f"weight; got {dict(zip(estimator.classes_, weights))!r}.")
    return weights


def classifier_targets(estimator, y, dtype, fitting):
    """Keyword arguments of ``Targets`` for y (class indices, and the model rows:
    one binary model, one per class, or the softmax's classes), and the rows'
    classes for a stratified split.  ``fitting``: the class weights are found
    from y (``class_weights``) and kept; otherwise the kept ones are used."""
    if np.ndim(y) == 2:
        return soft_targets(estimator, y, dtype)
    y_class = np.searchsorted(estimator.classes_, y)
    y_class = np.minimum(y_class, len(estimator.classes_) - 1)
    unknown = estimator.classes_[y_class] != y
    if np.any(unknown):
        raise ValueError(f"y contains labels not in classes_ {estimator.classes_!r}: "
                         f"{np.unique(np.asarray(y)[unknown])!r}")
    y_class = y_class.astype(np.int32)
    n_classes = len(estimator.classes_)
    if fitting:
        weights = class_weights(estimator, y)
    else:
        weights = getattr(estimator, "_class_weight", np.ones(n_classes))
    estimator._class_weight = weights
    targets = dict(y_class=y_class, n_classes=n_classes)
    if estimator.multi_class == "multinomial":
        targets.update(pos_class=np.arange(n_classes), w_pos=weights, w_neg=1.0)
    elif n_classes == 2:
        targets.update(pos_class=[1], w_pos=[weights[1]], w_neg=weights[0])
    else:
        targets.update(pos_class=np.arange(n_classes), w_pos=weights, w_neg=1.0)
    return targets, y_class
