"""Loss point functions against their definitions and finite differences, and the
loss table against what is built from it."""
import numpy as np
import pytest

from fastgd._kernels import _losses
from fastgd._params import CLASSIFICATION_LOSSES, REGRESSION_LOSSES
from fastgd._kernels._tables import LOSSES as TABLE
from kernels import CLASSIFY, SCALAR_LOSSES, loss
from reference import naive_dloss, naive_loss

LOSSES = SCALAR_LOSSES


def loss_and_derivative(name, p, y, epsilon=0.1):
    return loss(name, epsilon).value_and_derivative(p, y)


def _points(name, rng):
    p = rng.uniform(-4, 4, 400)
    y = rng.choice([-1.0, 1.0], 400) if name in CLASSIFY else rng.normal(0, 2, 400)
    return p, y


@pytest.mark.parametrize("name", LOSSES)
def test_loss_values_match_definition(name):
    p, y = _points(name, np.random.default_rng(0))
    value, deriv = loss_and_derivative(name, p, y, 0.3)
    np.testing.assert_allclose(value, naive_loss(name, p, y, 0.3), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(deriv, naive_dloss(name, p, y, 0.3), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("name", LOSSES)
def test_derivative_matches_finite_differences(name):
    p, y = _points(name, np.random.default_rng(1))
    h = 1e-6
    lo, _ = loss_and_derivative(name, p - h, y, 0.3)
    hi, _ = loss_and_derivative(name, p + h, y, 0.3)
    _, deriv = loss_and_derivative(name, p, y, 0.3)
    numeric = (hi - lo) / (2 * h)
    # away from the kinks the derivative is the slope
    kinks = {"huber": [y - 0.3, y + 0.3], "epsilon_insensitive": [y - 0.3, y + 0.3],
             "squared_epsilon_insensitive": [y - 0.3, y + 0.3], "hinge": [y],
             "squared_hinge": [y], "perceptron": [0 * y],
             "modified_huber": [y, -y]}.get(name, [])
    smooth = np.ones(len(p), bool)
    for k in kinks:
        smooth &= np.abs(p - k) > 1e-3
    assert smooth.sum() > 300
    np.testing.assert_allclose(deriv[smooth], numeric[smooth], rtol=1e-5, atol=1e-6)


def test_log_loss_is_stable_for_large_margins():
    p = np.array([-1e4, -800.0, -40.0, 40.0, 800.0, 1e4])
    y = np.ones_like(p)
    value, deriv = loss_and_derivative("log_loss", p, y)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(deriv))
    np.testing.assert_allclose(value[:3], -p[:3], rtol=1e-12)
    np.testing.assert_allclose(value[3], np.exp(-40.0), rtol=1e-12)
    assert value[4] == value[5] == 0.0 or value[4] < 1e-300
    np.testing.assert_allclose(deriv[:3], -1.0)
    np.testing.assert_allclose(deriv[3], -np.exp(-40.0), rtol=1e-12)


def test_every_row_of_the_table_is_a_loss_type():
    # the types, the fused types' versions and the Python tables come from the table
    assert [spec.name for spec in TABLE] == list(_losses.LOSS_TYPES)
    for spec in TABLE:
        f = _losses.LOSS_TYPES[spec.name](0.25)
        assert type(f).__name__ == spec.type_name and f.name == spec.name
        assert f.epsilon == 0.25 and isinstance(f, _losses.LossFunction)
        assert hasattr(f, "value_and_derivative") == (spec.task != "multiclass")
    assert set(REGRESSION_LOSSES) == {s.name for s in TABLE if s.task == "regression"}
    assert set(CLASSIFICATION_LOSSES) == {s.name for s in TABLE
                                          if s.task != "multiclass"}
    assert CLASSIFY == {s.name for s in TABLE if s.task == "classification"}


def test_loss_objects_pickle_and_bad_input():
    import pickle

    f = pickle.loads(pickle.dumps(loss("huber", 0.7)))
    assert type(f) is _losses.Huber and f.epsilon == 0.7
    with pytest.raises(ValueError, match="same length"):
        loss("hinge").value_and_derivative([1.0, 2.0], [1.0])
