"""fastgd: gradient-descent training of linear models on Cython + OpenMP kernels.

The public names are imported when first used (PEP 562's module ``__getattr__``):
``import fastgd`` itself is cheap, so ``fastgd --help`` and the commands that need
no estimator do not pay for importing scikit-learn (about a second).
"""
import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_WHERE = {
    "LossCurveDisplay": "fastgd._display",
    "PathDisplay": "fastgd._path_display",
    "SGDClassifierCV": "fastgd._cv",
    "SGDRegressorCV": "fastgd._cv",
    "SGDClassifier": "fastgd._classifier",
    "SGDOneClassSVM": "fastgd._one_class",
    "SGDRegressor": "fastgd._regressor",
    "expected_failed_checks": "fastgd._params",
    "fit_stream": "fastgd._files.streaming",
    "load_model": "fastgd._files.model_file",
    "save_model": "fastgd._files.model_file",
    "sgd_path": "fastgd._path",
    "show_config": "fastgd._config",
    "shuffle_rows": "fastgd._dask.shuffle",
    "to_onnx": "fastgd._files.onnx",
}
__all__ = sorted(_WHERE) + ["__version__"]


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'fastgd' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
