"""ONNX export: a fitted estimator as an ONNX graph, so that its predictions run
outside Python (onnxruntime, ONNX's C, C++, C#, Java and JavaScript runtimes).

fastgd's models are linear models of scikit-learn's form, so the export hands
skl2onnx (``pip install "fastgd[onnx]"``) a scikit-learn twin holding the same
``coef_``, ``intercept_`` and ``classes_`` and uses skl2onnx's own converters: the
twin of ``SGDRegressor`` and ``SGDClassifier`` is scikit-learn's estimator of the same
name (the labels, and the probabilities of ``log_loss`` and binary ``modified_huber``;
the decision function otherwise); a multinomial ``SGDClassifier`` is a
``LogisticRegression`` (the softmax); ``SGDOneClassSVM`` is scikit-learn's
(``offset_``).  ``modified_huber`` with more than two classes exports its scores,
not its probabilities: skl2onnx would take the label from the probabilities, which
tie where ``predict``'s decision function does not.
"""
import numpy as np
import scipy.sparse as sp


def _twin(estimator):
    """The scikit-learn estimator whose prediction is ``estimator``'s."""
    from sklearn import linear_model
    from sklearn.utils.validation import check_is_fitted

    from fastgd import SGDClassifier, SGDOneClassSVM, SGDRegressor

    if not isinstance(estimator, (SGDClassifier, SGDRegressor, SGDOneClassSVM)):
        raise TypeError(f"to_onnx exports fastgd's estimators; got "
                        f"{type(estimator).__name__}.")
    check_is_fitted(estimator)
    coef = estimator.coef_.toarray() if sp.issparse(estimator.coef_) else np.asarray(
        estimator.coef_)
    coef = coef.astype(np.float64)
    if isinstance(estimator, SGDOneClassSVM):
        twin = linear_model.SGDOneClassSVM(nu=estimator.nu)
        twin.coef_ = coef.ravel()
        twin.offset_ = np.asarray(estimator.offset_, dtype=np.float64)
    elif isinstance(estimator, SGDRegressor):
        twin = linear_model.SGDRegressor(loss=estimator.loss)
        twin.coef_ = coef.ravel()
        twin.intercept_ = np.asarray(estimator.intercept_, dtype=np.float64)
    elif estimator.multi_class == "multinomial":
        twin = linear_model.LogisticRegression()
        twin.coef_, twin.classes_ = coef, np.asarray(estimator.classes_)
        twin.intercept_ = np.asarray(estimator.intercept_, dtype=np.float64)
    else:
        loss = estimator.loss
        if loss == "modified_huber" and len(estimator.classes_) > 2:
            # skl2onnx takes this loss's label from its clipped probabilities, which
            # tie at 0 and 1 where the decision function does not: export the label
            # as ``predict`` gives it, from the scores
            loss = "hinge"
        twin = linear_model.SGDClassifier(loss=loss)
        twin.coef_, twin.classes_ = coef, np.asarray(estimator.classes_)
        twin.intercept_ = np.asarray(estimator.intercept_, dtype=np.float64)
    twin.n_features_in_ = estimator.n_features_in_
    return twin


def to_onnx(estimator, dtype=np.float32, target_opset=None):
    """The fitted ``estimator`` as an ONNX model.

    Parameters
    ----------
    estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
        Fitted.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        The element type of the graph's input ``X`` (of shape ``(None,
        n_features_in_)``).
    target_opset : int or None, default=None
        skl2onnx's choice by default.

    Returns
    -------
    onnx.ModelProto
        Save it with ``onnx.save_model(model, "model.onnx")``.  A classifier's outputs
        are ``label`` and ``probabilities`` (skl2onnx's names; the decision function
        for the losses without probabilities), the regressor's ``variable``, the
        one-class model's ``label`` and ``scores``.

    Raises
    ------
    ImportError
        Without skl2onnx.
    """
    from sklearn.base import is_classifier

    try:
        from skl2onnx import to_onnx as convert
    except ImportError:
        raise ImportError("ONNX export needs skl2onnx: pip install "
                          "\"fastgd[onnx]\".") from None
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}.")
    twin = _twin(estimator)
    options = None
    if is_classifier(twin):  # scikit-learn's SGDClassifier or LogisticRegression
        options = {id(twin): {"zipmap": False}}  # probabilities as one array
    return convert(twin, np.zeros((1, estimator.n_features_in_), dtype=dtype),
                   target_opset=target_opset, options=options)
