"""fastgd: gradient-descent training of linear models on Cython + OpenMP kernels."""

from fastgd._config import show_config
from fastgd._display import LossCurveDisplay
from fastgd._estimators import SGDClassifier, SGDOneClassSVM, SGDRegressor
from fastgd._model_file import load_model, save_model
from fastgd._onnx import to_onnx
from fastgd._params import expected_failed_checks

__version__ = "0.1.0"
__all__ = ["LossCurveDisplay", "SGDClassifier", "SGDOneClassSVM", "SGDRegressor",
           "expected_failed_checks", "load_model", "save_model", "show_config",
           "to_onnx",
           "__version__"]
