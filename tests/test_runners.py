"""Runners on slices of the rows, combined by the caller: what the workers holding the
slices will do.  Summed gradients equal the gradient over all rows."""
import numpy as np
import pytest
import scipy.sparse as sp
from fastgd._kernels._structs import Rows
from kernels import class_targets, loss, regression_targets

from fastgd._training.runners import GradientRunner


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("name", ["squared_error", "log_loss", "multinomial"])
def test_gradients_of_slices_add_up(name, sparse):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6)) * (rng.random((500, 6)) < 0.7)
    Xf = sp.csr_matrix(X) if sparse else X
    y = rng.integers(3, size=500)
    if name == "squared_error":
        targets, n_models = regression_targets(X @ np.ones(6)), 1
    elif name == "log_loss":
        targets, n_models = class_targets(y, np.arange(3), np.ones(3)), 3
    else:
        targets, n_models = class_targets(y, np.arange(3), [1.0, 2.0, 0.5]), 3
    runner = GradientRunner(loss(name), Rows(Xf), targets, n_threads=2)
    coef, b = rng.normal(size=(n_models, 6)), rng.normal(size=n_models)
    total, grad, grad_b = runner.run(coef, b)
    parts = [runner.run(coef, b, rows) for rows in
             np.array_split(rng.permutation(500).astype(np.int32), 3)]
    np.testing.assert_allclose(sum(p[0] for p in parts), total, rtol=1e-12)
    np.testing.assert_allclose(sum(p[1] for p in parts), grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sum(p[2] for p in parts), grad_b, rtol=1e-10,
                               atol=1e-12)
