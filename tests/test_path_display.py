"""PathDisplay: one line per feature along the path, named by the features, the
chosen alpha marked."""
import numpy as np
import pytest

import fastgd

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_from_estimator_names_the_features_and_marks_alpha():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((200, 3)), columns=["carat", "depth", "x"])
    y = 2.0 * X["carat"] - X["x"] + 0.1 * rng.standard_normal(200)
    est = fastgd.SGDRegressorCV(alphas=6, cv=3).fit(X, y)
    display = fastgd.PathDisplay.from_estimator(est)
    assert [line.get_label() for line in display.lines_] == ["carat", "depth", "x"]
    np.testing.assert_allclose(display.lines_[0].get_xdata(), est.alphas_)
    np.testing.assert_allclose(display.lines_[2].get_ydata(),
                               est.coefs_paths_[:, 0, :, 0, 2].mean(0))
    np.testing.assert_allclose(display.alpha_line_.get_xdata(), est.alpha_)
    assert display.ax_.get_xscale() == "log"
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend[:3] == ["carat", "depth", "x"]
    assert display.figure_ is display.ax_.figure
    plt.close("all")


def test_from_path_draws_sgd_path():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 4))
    alphas, coefs, _ = fastgd.sgd_path(X, X[:, 0] - X[:, 2], penalty="l1", alphas=5)
    _, ax = plt.subplots()
    display = fastgd.PathDisplay.from_path(alphas, coefs, feature_names=list("abcd"),
                                           ax=ax)
    assert display.ax_ is ax and len(display.lines_) == 4
    np.testing.assert_allclose(display.lines_[3].get_ydata(), coefs[3])
    assert display.alpha_line_ is None
    with pytest.raises(ValueError, match="feature_names"):
        fastgd.PathDisplay(alphas=alphas, coefs=coefs, feature_names=["a"]).plot()
    with pytest.raises(TypeError, match="coefs_paths_"):
        fastgd.PathDisplay.from_estimator(
            fastgd.SGDRegressor().fit(X, X[:, 0]))
    plt.close("all")
