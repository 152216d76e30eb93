"""LossCurveDisplay: the curves it draws are the estimator's, in scikit-learn's
Display style."""
import numpy as np
import pytest

import fastgd

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _fitted(**kw):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = X @ rng.standard_normal(4) + 0.1 * rng.standard_normal(300)
    return fastgd.SGDRegressor(max_iter=8, tol=None, random_state=0, **kw).fit(X, y)


def test_draws_the_training_and_validation_curves():
    est = _fitted(early_stopping=True, n_iter_no_change=20)
    display = fastgd.LossCurveDisplay.from_estimator(est, log_scale=True)
    train, val = display.lines_
    np.testing.assert_array_equal(train.get_xdata(), np.arange(1, 9))
    np.testing.assert_allclose(train.get_ydata(), est.loss_curve_)
    np.testing.assert_allclose(val.get_ydata(), est.validation_loss_curve_)
    assert display.ax_.get_yscale() == "log"
    assert display.figure_ is display.ax_.figure
    assert "SGDRegressor" in train.get_label()
    plt.close("all")


def test_into_given_axes_and_from_the_curves():
    fig, ax = plt.subplots()
    est = _fitted()
    display = fastgd.LossCurveDisplay.from_estimator(est, ax=ax, name="mine",
                                                     color="red")
    assert display.ax_ is ax and len(display.lines_) == 1
    assert display.lines_[0].get_label() == "training objective (mine)"
    assert display.lines_[0].get_color() == "red"
    assert ax.get_yscale() == "linear"
    again = fastgd.LossCurveDisplay(loss_curve=[3.0, 2.0, 1.5]).plot()
    np.testing.assert_array_equal(again.lines_[0].get_ydata(), [3.0, 2.0, 1.5])
    plt.close("all")


def test_needs_a_fitted_fastgd_estimator():
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import Ridge

    with pytest.raises(NotFittedError):
        fastgd.LossCurveDisplay.from_estimator(fastgd.SGDRegressor())
    with pytest.raises(TypeError, match="Ridge has no loss_curve_"):
        fastgd.LossCurveDisplay.from_estimator(Ridge().fit([[0.0], [1.0]], [0, 1]))
