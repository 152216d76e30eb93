"""The plan a fit runs (``_params.resolve_plan``) and the epoch factory's promise: a
solver of the whole objective added to ``SOLVERS`` trains with nothing else changed."""
import ast
import pathlib
import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification

import fastgd
from fastgd._params import resolve_plan
from fastgd._training import epochs
from fastgd._training.plan import MINIBATCH, PER_SAMPLE, WHOLE_OBJECTIVE
from reference import FixedStepGradientDescent

PACKAGE = pathlib.Path(fastgd.__file__).parent


@pytest.mark.parametrize("params, algorithm, solver", [
    (dict(), PER_SAMPLE, None),
    (dict(multi_class="multinomial", loss="log_loss"), MINIBATCH, None),
    (dict(batch_size=32), MINIBATCH, None),
    (dict(optimizer="adam"), MINIBATCH, None),
    (dict(batch_size="full"), WHOLE_OBJECTIVE, "sgd"),
    (dict(batch_size="full", optimizer="nesterov"), WHOLE_OBJECTIVE, "nesterov"),
    (dict(batch_size="full", optimizer="lbfgs", loss="log_loss"), WHOLE_OBJECTIVE,
     "lbfgs"),
    # a full batch of an optimizer with a state per step is mini-batch SGD
    (dict(batch_size="full", optimizer="adam"), MINIBATCH, None),
])
def test_the_plan_names_the_algorithm(params, algorithm, solver):
    plan = resolve_plan(fastgd.SGDClassifier(**params))
    assert (plan.algorithm, plan.solver) == (algorithm, solver)
    assert plan.batch_size == (None if params.get("batch_size") == "full"
                               else params.get("batch_size", 1))


def test_the_plan_resolves_auto_and_the_penalty():
    plan = resolve_plan(fastgd.SGDClassifier(penalty="elasticnet", alpha=0.1,
                                             l1_ratio=0.25))
    assert plan.learning_rate == "optimal"  # scikit-learn's, on per-sample SGD
    assert (plan.lam1, plan.lam2) == pytest.approx((0.025, 0.075))
    assert resolve_plan(fastgd.SGDRegressor()).learning_rate == "invscaling"
    assert resolve_plan(fastgd.SGDRegressor(batch_size=8)).learning_rate == "auto"
    one_class = resolve_plan(fastgd.SGDOneClassSVM(nu=0.3), intercept_drift=0.3)
    assert one_class.intercept_drift == 0.3 and one_class.lam2 == pytest.approx(0.15)


def test_the_plan_is_frozen_and_pickles():
    plan = resolve_plan(fastgd.SGDRegressor(random_state=3))
    assert pickle.loads(pickle.dumps(plan)) == plan
    with pytest.raises(AttributeError):
        plan.alpha = 1.0


FACADE = {"fastgd._base", "fastgd._classifier", "fastgd._regressor", "fastgd._one_class",
          "fastgd._cluster", "fastgd._params", "fastgd._docs", "fastgd._display",
          "fastgd.__main__"}


@pytest.mark.parametrize("layer", ["_training", "_solvers", "_dask", "_kernels"])
def test_no_layer_below_the_facade_imports_it(layer):
    for path in (PACKAGE / layer).glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            above = {n for n in names if n in FACADE or n.startswith(
                ("fastgd._cli", "fastgd._files", "fastgd.bench"))}
            assert not above, f"{path.name} imports {above}"
            assert "fastgd" not in names  # the public names are the estimators


def test_a_solver_added_to_the_table_trains_with_nothing_else(monkeypatch):
    # the estimators reach the solver of optimizer='sgd' under batch_size='full'
    # through SOLVERS alone: put another one there, and the fit runs it
    X, y = make_classification(600, 8, random_state=0)
    kw = dict(loss="log_loss", batch_size="full", alpha=0.1, tol=None,
              max_iter=300)
    best = fastgd.SGDClassifier(optimizer="lbfgs", **kw).fit(X, y)
    FixedStepGradientDescent.made.clear()
    monkeypatch.setitem(epochs.SOLVERS, "sgd",
                        epochs.Solver(FixedStepGradientDescent.of))
    fitted = fastgd.SGDClassifier(optimizer="sgd", **kw).fit(X, y)
    assert len(FixedStepGradientDescent.made) == 1
    solver = FixedStepGradientDescent.made[0]
    np.testing.assert_array_equal(fitted.coef_.ravel(), solver.w.ravel())
    assert fitted.loss_curve_[-1] == solver.F
    gap = fitted.objective(X, y) - best.objective(X, y)
    assert 0 <= gap < 1e-6 * best.objective(X, y)


@pytest.mark.parametrize("params, shape, stored, solver", [
    (dict(loss="log_loss"), (333, 4), 1332, "newton"),  # penguins
    (dict(loss="log_loss"), (20_000, 60), 1_200_000, "newton"),
    (dict(loss="log_loss"), (20_000, 200), 4_000_000, "lbfgs"),
    (dict(loss="log_loss"), (20_000, 60), 120_000, "lbfgs"),  # sparse: few stored
    (dict(loss="log_loss"), (500_000, 100), 50_000_000, "lbfgs"),  # a sample
    (dict(loss="log_loss"), (400_000, 50_000), 21_000_000, "lbfgs"),
    (dict(loss="log_loss", penalty="l1"), (1000, 10), 10_000, "newton"),  # proximal
    (dict(loss="log_loss", penalty="l1"), (500_000, 100), 50_000_000, "lbfgs"),
    # an L1 part on dense X of many rows: proximal Newton, its Hessian sampled
    (dict(loss="log_loss", penalty="elasticnet"), (100_000, 50), 5_000_000, "newton"),
    (dict(loss="log_loss", penalty="elasticnet"), (100_000, 50), 500_000, "lbfgs"),
    # squared error's Hessian is exact and read once, on any number of rows
    (dict(loss="squared_error"), (1_000_000, 40), 40_000_000, "newton"),
    (dict(loss="squared_error"), (1_000_000, 400), 400_000_000, "lbfgs"),
    (dict(loss="log_loss", multi_class="multinomial"), (1000, 10), 10_000, "lbfgs"),
    (dict(loss="hinge"), (1000, 10), 10_000, "sgd"),
])
def test_auto_picks_a_solver_for_the_data(params, shape, stored, solver):
    est = fastgd.SGDClassifier(batch_size="full", optimizer="auto", **params)
    plan = resolve_plan(est, shape=shape, stored=stored)
    assert (plan.algorithm, plan.solver) == (WHOLE_OBJECTIVE, solver)


def test_auto_fits_reach_the_optimum():
    X, y = make_classification(3000, 12, random_state=1)
    kw = dict(loss="log_loss", batch_size="full", alpha=1e-3, tol=None,
              max_iter=200)
    auto = fastgd.SGDClassifier(optimizer="auto", **kw).fit(X, y)
    best = fastgd.SGDClassifier(optimizer="lbfgs", **kw).fit(X, y)
    assert auto.objective(X, y) <= best.objective(X, y) * (1 + 1e-12)
    with pytest.raises(ValueError, match="needs batch_size='full'"):
        fastgd.SGDClassifier(optimizer="auto").fit(X, y)


def test_auto_warm_starts_lbfgs_on_many_rows_from_zero_only():
    est = fastgd.SGDClassifier(loss="log_loss", batch_size="full", optimizer="auto")
    big, small = (500_000, 100), (10_000, 100)
    assert resolve_plan(est, shape=big, stored=5_000_000,
                        fresh_start=True).sgd_warm_start
    assert not resolve_plan(est, shape=big, stored=5_000_000).sgd_warm_start
    assert resolve_plan(est, shape=big, stored=50_000_000,  # dense X too
                        fresh_start=True).sgd_warm_start
    softmax = fastgd.SGDClassifier(loss="log_loss", batch_size="full",
                                   optimizer="auto", multi_class="multinomial")
    assert not resolve_plan(softmax, shape=big, stored=50_000_000,
                            fresh_start=True).sgd_warm_start
    l1 = fastgd.SGDClassifier(loss="log_loss", batch_size="full", optimizer="auto",
                              penalty="l1")  # OWL-QN: from zero
    assert not resolve_plan(l1, shape=big, stored=50_000_000,
                            fresh_start=True).sgd_warm_start
    assert not resolve_plan(est, shape=small, stored=1_000_000,
                            fresh_start=True).sgd_warm_start  # Newton there
    lbfgs = fastgd.SGDClassifier(loss="log_loss", batch_size="full",
                                 optimizer="lbfgs")
    assert not resolve_plan(lbfgs, shape=big, stored=50_000_000,
                            fresh_start=True).sgd_warm_start


@pytest.mark.parametrize("scale", [1.0, 1e4], ids=["unit", "unscaled"])
def test_the_sgd_warm_start_reaches_the_same_optimum(scale):
    # a column 10,000 times the others: SciPy's line search fails there (it left
    # L-BFGS at the model of zeros with a LineSearchWarning); halving takes over
    import warnings

    import scipy.sparse as sp

    X, y = make_classification(30_000, 8, random_state=2)
    X = X * np.array([scale] + [1.0] * 7)
    # sparse X, where 'auto' warm-starts L-BFGS
    X = sp.csr_matrix(X * (np.random.default_rng(0).random(X.shape) < 0.7))
    kw = dict(loss="log_loss", batch_size="full", alpha=1e-3, tol=1e-9,
              max_iter=2000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = fastgd.SGDClassifier(optimizer="auto", **kw).fit(X, y)
        cold = fastgd.SGDClassifier(optimizer="lbfgs", **kw).fit(X, y)
    newton = fastgd.SGDClassifier(optimizer="newton", **kw).fit(X, y)
    assert auto.objective(X, y) <= newton.objective(X, y) * (1 + 1e-9)
    assert cold.objective(X, y) <= newton.objective(X, y) * (1 + 1e-9)
