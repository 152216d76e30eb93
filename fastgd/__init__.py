"""fastgd: gradient-descent training of linear models on Cython + OpenMP kernels."""

from fastgd._config import show_config
from fastgd._estimators import SGDClassifier, SGDRegressor
from fastgd._model_file import load_model, save_model

__version__ = "0.1.0"
__all__ = ["SGDClassifier", "SGDRegressor", "load_model", "save_model", "show_config",
           "__version__"]
