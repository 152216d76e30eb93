"""A good model by default: the model does not depend on n_jobs, learning_rate='auto'
reaches least squares on real data with every optimizer and batch size, and a
diverging run is an error or a warning, never a silent model."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from fastgd import SGDClassifier, SGDRegressor
from fastgd.bench.synthetic import sparse_classification
from realdata import diamonds, txhousing


@pytest.fixture(scope="module")
def sparse_data():
    return sparse_classification(6000, 3000, 30, np.random.default_rng(0))


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_per_sample_model_is_the_same_at_every_n_jobs(sparse_data, layout, average):
    # the reduced version of perf.py's replicas case: per-sample SGD of one model is
    # one sequence of steps, whatever the number of threads
    X, y = sparse_data
    X = X if layout == "csr" else X.toarray()
    kw = dict(loss="log_loss", alpha=1e-6, max_iter=5, tol=None, random_state=0,
              average=average)
    models = [SGDClassifier(n_jobs=j, **kw).fit(X, y) for j in (1, 2, 16, 32)]
    for m in models[1:]:
        np.testing.assert_array_equal(m.coef_, models[0].coef_)
        np.testing.assert_array_equal(m.intercept_, models[0].intercept_)
        assert m.loss_curve_ == models[0].loss_curve_


@pytest.mark.parametrize("params", [dict(batch_size=64), dict(optimizer="adam"),
                                    dict(batch_size="full")])
def test_other_algorithms_differ_by_rounding_only(sparse_data, params):
    X, y = sparse_data
    kw = dict(loss="log_loss", max_iter=5, tol=None, random_state=0, **params)
    one = SGDClassifier(n_jobs=1, **kw).fit(X, y)
    many = SGDClassifier(n_jobs=16, **kw).fit(X, y)
    np.testing.assert_allclose(many.coef_, one.coef_, rtol=1e-7, atol=1e-9)


SETTINGS = [dict(optimizer="momentum"), dict(optimizer="nesterov"),
            dict(optimizer="adagrad"), dict(optimizer="rmsprop"),
            dict(optimizer="adam"), dict(batch_size=32), dict(batch_size=256),
            dict(batch_size=32, optimizer="adam"),
            dict(batch_size=256, optimizer="momentum")]


def _least_squares_gap(data, params):
    X, y = data
    best = LinearRegression().fit(X, y).score(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = SGDRegressor(max_iter=10, tol=None, random_state=0, **params).fit(X, y)
    return best - m.score(X, y)


@pytest.mark.parametrize("params", SETTINGS, ids=str)
def test_defaults_reach_least_squares_on_diamonds(params):
    # ggplot2's diamonds (54k rows, ordered by price), 10 epochs, defaults otherwise
    assert _least_squares_gap(diamonds(), params) < 0.01


@pytest.mark.parametrize("params", [s for s in SETTINGS if s not in (
    dict(batch_size=256), dict(batch_size=256, optimizer="momentum"))], ids=str)
def test_defaults_reach_least_squares_on_txhousing(params):
    # ggplot2's txhousing (7k rows ordered by city and date, 46 cities one-hot).  Not
    # here: batch size 256, 28 steps per epoch on an ill-conditioned problem (R^2 0.835
    # and 0.836 against least squares' 0.878)
    assert _least_squares_gap(txhousing(), params) < 0.01


def test_momentum_with_a_large_step_is_an_error_not_a_model():
    X, y = diamonds()
    est = SGDRegressor(optimizer="momentum", learning_rate="constant", eta0=0.01,
                       max_iter=10, tol=None, random_state=0)
    with pytest.raises(ValueError, match="diverged at epoch .*grew.*momentum"):
        est.fit(X, y)
    assert not hasattr(est, "coef_")


def test_a_model_worse_than_the_constant_one_gets_a_warning():
    X, y = txhousing()
    with pytest.warns(ConvergenceWarning, match="worse|constant model"):
        m = SGDRegressor(learning_rate="constant", eta0=0.1, max_iter=3, tol=None,
                         random_state=0).fit(X, y)
    assert m.score(X, y) < 0


@pytest.mark.parametrize("est, default", [(SGDRegressor, "invscaling"),
                                          (SGDClassifier, "optimal")])
def test_auto_is_scikit_learns_default_on_its_algorithm(est, default):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = X @ np.arange(5.0) + rng.normal(size=300)
    if est is SGDClassifier:
        y = (y > np.median(y)).astype(int)
    kw = dict(max_iter=5, tol=None, random_state=0)
    auto = est(**kw).fit(X, y)
    explicit = est(learning_rate=default, **kw).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, explicit.coef_)
    assert auto.loss_curve_ == explicit.loss_curve_


def test_partial_fit_keeps_the_auto_step():
    X, y = diamonds()
    m = SGDRegressor(batch_size=32, random_state=0)
    m.partial_fit(X[:5000], y[:5000])
    first = m._train_state.auto_eta
    m.partial_fit(X[5000:10000], y[5000:10000])
    assert m._train_state.auto_eta == first > 0


def test_averaged_sgd_reaches_scikit_learns_ridge_gap_on_ordered_rows():
    # diamonds' rows come ordered by price; the default shuffle is uniform at this
    # size (windows of rows left a gap twice scikit-learn's)
    from sklearn import linear_model

    X, y = diamonds()
    alpha = 1e-3
    exact = linear_model.Ridge(alpha=alpha * len(y)).fit(X, y)

    def objective(m):
        r = X @ np.ravel(m.coef_) + np.ravel(m.intercept_)[0] - y
        return 0.5 * np.mean(r ** 2) + alpha / 2 * np.sum(np.ravel(m.coef_) ** 2)

    best = objective(exact)
    kw = dict(alpha=alpha, average=True, max_iter=50, tol=None)
    ours = np.mean([objective(SGDRegressor(random_state=s, **kw).fit(X, y)) - best
                    for s in range(3)])
    theirs = np.mean([objective(linear_model.SGDRegressor(random_state=s, **kw)
                                .fit(X, y)) - best for s in range(3)])
    assert ours <= 1.1 * theirs


def test_auto_shuffle_window_follows_the_size_of_x():
    from fastgd._params import resolve_plan
    from fastgd._training.runners import UNIFORM_SHUFFLE_MAX_BYTES, shuffle_window

    plan = resolve_plan(SGDRegressor())
    assert shuffle_window(plan, np.zeros((10, 10))) == 1
    big = np.zeros((UNIFORM_SHUFFLE_MAX_BYTES // 800 + 1, 100))
    assert shuffle_window(plan, big) == 32
    assert shuffle_window(resolve_plan(SGDRegressor(shuffle_window=4)), big) == 4


def test_auto_starts_again_with_a_smaller_step_when_its_steps_diverge(capsys):
    # AdaGrad's first full-batch step moves every weight by the learning rate: 0.4
    # on 30 correlated features overshoots the squared error; 'auto' starts over
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    from fastgd._training.loop import AUTO_BACKOFF

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    m = SGDClassifier(loss="squared_error", batch_size="full", optimizer="adagrad",
                      max_iter=10, tol=None, verbose=1).fit(X, y)
    assert "starting again with learning_rate='auto'" in capsys.readouterr().out
    first = 0.1 * 256 ** 0.25
    assert m._train_state.auto_eta < first
    assert np.isclose(np.log(m._train_state.auto_eta / first) / np.log(AUTO_BACKOFF),
                      round(np.log(m._train_state.auto_eta / first)
                            / np.log(AUTO_BACKOFF)))
    assert len(m.loss_curve_) == 10 and m.score(X, y) > 0.9
    # a step given by the user is not changed: the fit fails
    with pytest.raises(ValueError, match="diverged"):
        SGDClassifier(loss="squared_error", batch_size="full", optimizer="adagrad",
                      learning_rate="constant", eta0=0.4, max_iter=10,
                      tol=None).fit(X, y)


def test_softmax_defaults_are_not_over_confident():
    # per-sample softmax SGD, defaults, 30 epochs: the test log loss within 0.05 of
    # scikit-learn's LogisticRegression (with 'optimal' steps, as before: 1.0)
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    ref = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    ours = SGDClassifier(loss="log_loss", multi_class="multinomial", max_iter=30,
                         tol=None, random_state=0).fit(X_train, y_train)
    best = log_loss(y_test, ref.predict_proba(X_test))
    assert log_loss(y_test, ours.predict_proba(X_test)) < best + 0.05
