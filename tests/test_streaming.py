"""``fastgd.fit_stream``: ``partial_fit`` over blocks with a holdout, from a list, a
callable, an iterator or a file, against the same calls made by hand; the holdout's
scores against their hand computation; bad inputs and their messages; the command
line's streamed training is the same function."""
import doctest
import io
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier as ScikitSGDClassifier
from sklearn.metrics import r2_score

import fastgd
from fastgd import SGDClassifier, SGDOneClassSVM, SGDRegressor, fit_stream
from fastgd._cli import commands
from fastgd._files import streaming
from fastgd._files.readers import DataFile

# steps too large for a block are the subject of one test only
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def classification_blocks(n_blocks=5, rows=200, d=8, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d)
    blocks = []
    for _ in range(n_blocks):
        X = rng.standard_normal((rows, d))
        y = np.where(X @ w + 0.3 * rng.standard_normal(rows) > 0, 3, -1)
        blocks.append((sp.csr_matrix(X) if sparse else X, y))
    return blocks


def regression_blocks(n_blocks=4, rows=250, d=5, seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d)
    blocks = []
    for _ in range(n_blocks):
        X = rng.standard_normal((rows, d)) * scale
        blocks.append((X, X @ w + 0.2 * rng.standard_normal(rows)))
    return blocks


def by_hand(estimator, blocks, passes, stride=0, **fit_args):
    """The ``partial_fit`` calls ``fit_stream`` makes, written out: every
    ``stride``-th row of the stream (from 0) left out; and each pass's
    row-weighted objective."""
    objectives = []
    for _ in range(passes):
        start, rows, weighted = 0, 0, 0.0
        for block in blocks:
            X, y, w = (*block, None)[:3]
            keep = (np.arange(start, start + X.shape[0]) % stride != stride - 1
                    if stride else np.ones(X.shape[0], dtype=bool))
            start += X.shape[0]
            estimator.partial_fit(X[keep], y[keep],
                                  sample_weight=None if w is None else w[keep],
                                  **fit_args)
            rows += keep.sum()
            weighted += estimator.loss_curve_[-1] * keep.sum()
        objectives.append(weighted / rows)
    return estimator, objectives


def held_rows(blocks, stride):
    X = np.vstack([sp.csr_matrix(b[0]).toarray() for b in blocks])
    y = np.concatenate([b[1] for b in blocks])
    held = np.arange(len(y)) % stride == stride - 1
    return X, y, held


# ------------------------------------------------------------ the same calls
@pytest.mark.parametrize("sparse", [False, True])
def test_a_list_of_blocks_is_partial_fit_by_hand(sparse):
    blocks = classification_blocks(sparse=sparse)
    model, record = fit_stream(SGDClassifier(random_state=0), blocks, passes=3,
                               classes=[-1, 3], return_record=True)
    reference, objectives = by_hand(SGDClassifier(random_state=0), blocks, 3,
                                    classes=[-1, 3])
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.intercept_, reference.intercept_)
    assert record.passes == 3 and record.rows_per_pass == 1000
    assert record.holdout_stride == 0 and record.holdout.n_rows == 0
    assert np.isnan(record.holdout.score)
    np.testing.assert_allclose(record.objective, objectives, rtol=1e-12)


def test_holdout_rows_and_sample_weights_are_left_out_as_by_hand():
    rng = np.random.default_rng(3)
    blocks = [(X, y, rng.uniform(0.5, 2.0, len(y)))
              for X, y in regression_blocks(n_blocks=3, rows=137)]
    model, record = fit_stream(SGDRegressor(random_state=2), blocks, passes=2,
                               holdout=0.25, return_record=True)
    reference, objectives = by_hand(SGDRegressor(random_state=2), blocks, 2,
                                    stride=4)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.intercept_, reference.intercept_)
    # rows 3, 7, ... of 411 held out: 102 of them
    assert record.holdout_stride == 4 and record.holdout.n_rows == 102
    assert record.rows_per_pass == 411 - 102
    np.testing.assert_allclose(record.objective, objectives, rtol=1e-12)


def test_a_callable_and_a_single_pass_iterator_give_the_list_s_model():
    blocks = classification_blocks(seed=4)
    from_list = fit_stream(SGDClassifier(random_state=1), blocks, passes=2,
                           classes=[-1, 3], holdout=0.1)
    from_callable = fit_stream(SGDClassifier(random_state=1),
                               lambda: (b for b in blocks), passes=2,
                               classes=[-1, 3], holdout=0.1)
    np.testing.assert_array_equal(from_list.coef_, from_callable.coef_)
    once = fit_stream(SGDClassifier(random_state=1), iter(blocks), classes=[-1, 3])
    by_list = fit_stream(SGDClassifier(random_state=1), blocks, classes=[-1, 3])
    np.testing.assert_array_equal(once.coef_, by_list.coef_)


def test_a_trained_classifier_goes_on_without_classes():
    blocks = classification_blocks(seed=5)
    model = fit_stream(SGDClassifier(random_state=0), blocks[:2], classes=[-1, 3])
    model = fit_stream(model, blocks[2:])
    reference, _ = by_hand(SGDClassifier(random_state=0), blocks, 1, classes=[-1, 3])
    np.testing.assert_array_equal(model.coef_, reference.coef_)


# --------------------------------------------------------------------- files
def test_a_file_path_gives_the_model_of_its_blocks(tmp_path):
    blocks = classification_blocks(n_blocks=1, rows=3000, d=12, seed=6)
    X, y = blocks[0]
    path = tmp_path / "train.svm"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    chunk = path.stat().st_size // 6
    model, record = fit_stream(SGDClassifier(random_state=0), path, passes=2,
                               holdout=0.1, chunk_bytes=chunk, return_record=True)
    # the same rows, split where the reader splits the file
    sizes = [b.shape[0] for b, _ in DataFile(path, chunk_bytes=chunk).blocks()]
    assert len(sizes) >= 6 and sum(sizes) == 3000
    X_read, y_read = load_svmlight_file(str(path), n_features=12)
    ends = np.cumsum(sizes)
    listed = [(X_read[end - size:end], y_read[end - size:end])
              for size, end in zip(sizes, ends)]
    from_list = fit_stream(SGDClassifier(random_state=0), listed, passes=2,
                           holdout=0.1, classes=[-1, 3])
    np.testing.assert_array_equal(model.coef_, from_list.coef_)
    np.testing.assert_array_equal(model.classes_, [-1, 3])  # found by the scan
    assert record.holdout.n_rows == 300 and record.rows_per_pass == 2700


def test_a_csv_file_by_label_name(tmp_path):
    blocks = regression_blocks(n_blocks=1, rows=600, d=3, seed=7)
    X, y = blocks[0]
    path = tmp_path / "train.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,target",
               comments="", fmt="%.17g")
    model = fit_stream(SGDRegressor(random_state=0), str(path), label_column="target",
                       chunk_bytes=4000, passes=2)
    sizes = [b.shape[0] for b, _ in DataFile(path, chunk_bytes=4000,
                                             label_column="target").blocks()]
    assert len(sizes) > 3
    cuts = np.cumsum(sizes)[:-1]
    reference, _ = by_hand(SGDRegressor(random_state=0),
                           list(zip(np.split(X, cuts), np.split(y, cuts))), 2)
    np.testing.assert_array_equal(model.coef_, reference.coef_)


def test_the_command_line_trains_with_fit_stream(tmp_path):
    blocks = classification_blocks(n_blocks=1, rows=2000, d=10, seed=8)
    path = tmp_path / "big.svm"
    dump_svmlight_file(*blocks[0], str(path), zero_based=False)
    chunk_mb = path.stat().st_size / 2**20 / 5
    out = io.StringIO()
    commands.train([str(path), "--chunk-mb", f"{chunk_mb:.6f}", "--passes", "2",
                    "--random-state", "0", "-q", "-o", str(tmp_path / "m")], out=out)
    model, record = fit_stream(SGDClassifier(random_state=0), path, passes=2,
                               holdout=0.1, chunk_bytes=int(chunk_mb * 2**20),
                               return_record=True)
    saved = fastgd.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(saved.coef_, model.coef_)
    printed = re.search(r"(\d+) rows\): accuracy (\S+)", out.getvalue())
    assert int(printed[1]) == record.holdout.n_rows == 200
    assert float(printed[2]) == pytest.approx(record.holdout.score, abs=5e-5)


# ------------------------------------------------------------------ holdout
def test_classifier_holdout_scores_are_the_hand_computation():
    blocks = classification_blocks(n_blocks=4, rows=250, seed=9)
    model, record = fit_stream(SGDClassifier(random_state=0), blocks, passes=2,
                               holdout=0.2, classes=[-1, 3], return_record=True)
    X, y, held = held_rows(blocks, 5)
    labels, counts = np.unique(y[~held], return_counts=True)
    constant = labels[np.argmax(counts)]
    assert record.holdout.metric == "accuracy"
    assert record.holdout.n_rows == held.sum() == 200
    assert record.holdout.score == np.mean(model.predict(X[held]) == y[held])
    assert record.holdout.constant_score == np.mean(y[held] == constant)
    assert record.holdout.worse_than_constant is (
        record.holdout.score < record.holdout.constant_score)
    assert record.holdout.score > 0.9


def test_regressor_holdout_scores_are_the_hand_computation():
    blocks = regression_blocks(n_blocks=3, rows=300, seed=10)
    model, record = fit_stream(SGDRegressor(random_state=0), blocks, passes=3,
                               holdout=0.1, return_record=True)
    X, y, held = held_rows(blocks, 10)
    assert record.holdout.metric == "R^2" and record.holdout.n_rows == 90
    assert record.holdout.score == pytest.approx(
        r2_score(y[held], model.predict(X[held])), rel=1e-12)
    assert record.holdout.constant_score == pytest.approx(
        r2_score(y[held], np.full(held.sum(), y[~held].mean())), rel=1e-12)
    assert record.holdout.score > 0.95 and not record.holdout.worse_than_constant


def test_one_class_holdout_is_the_share_inside_the_boundary():
    rng = np.random.default_rng(11)
    blocks = [(rng.standard_normal((300, 4)) + 2.0, None) for _ in range(3)]
    model, record = fit_stream(SGDOneClassSVM(nu=0.2, random_state=0), blocks,
                               passes=2, holdout=0.5, return_record=True)
    X = np.vstack([b[0] for b in blocks])
    held = np.arange(900) % 2 == 1
    assert record.holdout.metric == "share inside the boundary"
    assert record.holdout.n_rows == 450 and record.holdout.constant_score is None
    assert record.holdout.score == np.mean(model.predict(X[held]) == 1)
    assert not record.holdout.worse_than_constant


def test_progress_lines_and_one_warning_for_the_last_pass(capsys):
    blocks = regression_blocks(n_blocks=3, rows=200, seed=12, scale=1e3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_stream(SGDRegressor(random_state=0, eta0=1.0), blocks, passes=2,
                   holdout=0.1, progress=True)
    repeated = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(repeated) == 1
    assert re.match(r"in the last pass, [123] block\(s\) warned; the last: ",
                    str(repeated[0].message))
    assert repeated[0].filename == __file__  # the caller's line
    err = capsys.readouterr().err
    assert "pass 1/2: 540 rows" in err and "pass 2/2: 540 rows" in err
    assert "holdout pass: 60 rows" in err


# --------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("data, error, message", [
    ([], ValueError, "pass 1 found no rows to train on"),
    (42, TypeError, "got int"),
    ([np.ones((3, 2))], TypeError, r"block 1 is of type ndarray; expected a tuple \(X, y\)"),
    ([(np.ones((3, 2)), np.ones(3))] * 2 + [(np.ones((3, 5)), np.ones(3))],
     ValueError, "X of block 3 has 5 columns where block 1 had 2"),
    ([(np.ones(3), np.ones(3))], ValueError, r"X of block 1 has shape \(3,\)"),
    ([(np.ones((3, 2)), np.ones(4))], ValueError,
     r"y of block 1 has shape \(4,\); expected one value per row of X \(3,\)"),
    ([(np.ones((3, 2)), np.ones(3), np.ones(2))], ValueError,
     r"sample_weight of block 1 has shape \(2,\)"),
    ([(np.ones((3, 2)), None)], ValueError, r"block 1 has no labels"),
    (lambda: 7, TypeError, r"data\(\) returned int, not an iterable of blocks"),
])
def test_bad_data_is_a_clear_error(data, error, message):
    with pytest.raises(error, match=message):
        fit_stream(SGDRegressor(), data)


def test_a_generator_for_several_passes_or_a_holdout_is_refused():
    blocks = regression_blocks()
    for kwargs in ({"passes": 2}, {"holdout": 0.1}):
        with pytest.raises(ValueError, match="data is an iterator .* can be gone "
                                             "over once"):
            fit_stream(SGDRegressor(), (b for b in blocks), **kwargs)
    exhausted = (b for b in blocks)
    with pytest.raises(ValueError, match="pass 2 found no rows .* fresh iterator"):
        fit_stream(SGDRegressor(), lambda: exhausted, passes=2)


@pytest.mark.parametrize("estimator, message", [
    (ScikitSGDClassifier(), "trains fastgd's SGDClassifier, SGDRegressor or "
                            "SGDOneClassSVM; got SGDClassifier"),
    (SGDRegressor, "got the class SGDRegressor: pass an instance, e.g. "
                   r"SGDRegressor\(\)"),
    ("model.npz", "got str"),
])
def test_a_non_estimator_is_refused(estimator, message):
    with pytest.raises(TypeError, match=message):
        fit_stream(estimator, regression_blocks())


@pytest.mark.parametrize("kwargs, message", [
    ({"passes": 0}, "passes must be an integer of at least 1; got 0"),
    ({"passes": 2.0}, "passes must be an integer"),
    ({"holdout": 0.6}, r"holdout must be a number in \[0, 0.5\]"),
    ({"holdout": True}, "holdout must be a number"),
])
def test_bad_counts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_stream(SGDRegressor(), regression_blocks(), **kwargs)


def test_a_classifier_needs_its_classes():
    with pytest.raises(ValueError, match="pass classes="):
        fit_stream(SGDClassifier(), classification_blocks())


def test_the_docstring_examples_run():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(streaming.fit_stream, "fit_stream",
                            globs={"fit_stream": fit_stream}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 10
