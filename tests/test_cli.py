"""``fastgd train`` / ``fastgd predict`` and the file readers under them: the libsvm
parser against scikit-learn's, blocks and line numbers, bad files, and the command
line end to end in a subprocess."""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

import fastgd
from fastgd._files import _libsvm
from fastgd._files.formats import FileFormatError
from fastgd._files.lines import line_blocks
from fastgd._files.readers import DataFile
from realdata import diamonds, diamonds_unscaled


def run_cli(*args, check=True, warnings="ignore", **popen):
    """``python -m fastgd ARGS`` in a subprocess: (exit code, stdout, stderr).  It
    runs in the temporary folder: from the repository's top folder, ``-m fastgd``
    would import the source folder, whose extensions a clean clone has not built."""
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    if warnings:
        env["PYTHONWARNINGS"] = warnings
    if env.get("PYTHONPATH"):  # as seen from here, not from the temporary folder
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep) if p)
    done = subprocess.run([sys.executable, "-m", "fastgd", *map(str, args)],
                          capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          env=env, timeout=300, **popen)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done.returncode, done.stdout, done.stderr


def parsed(block, n_threads=1):
    data, indices, indptr, labels, bad = _libsvm.parse(block, n_threads)
    width = int(indices.max()) + 1 if indices.size else 0
    return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, width)), \
        labels, bad


def classification_file(path, n=3000, d=20, seed=0, zero_based=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.5)
    y = (X @ rng.standard_normal(d) > 0).astype(int)
    dump_svmlight_file(X, y, str(path), zero_based=zero_based)
    return X, y


# ------------------------------------------------------------------ the parser
@pytest.mark.parametrize("n_threads", [1, 2, 4])
def test_parser_equals_scikit_learn(tmp_path, n_threads):
    rng = np.random.default_rng(1)
    X = sp.random(5000, 300, density=0.05, random_state=2, format="csr")
    X.data = rng.standard_normal(X.nnz) * 10.0 ** rng.integers(-8, 8, X.nnz)
    y = rng.standard_normal(5000)
    path = tmp_path / "r.svm"
    dump_svmlight_file(X, y, str(path), zero_based=True)
    expected, y_expected = load_svmlight_file(str(path), zero_based=True,
                                              n_features=300)
    ours, labels, bad = parsed(path.read_bytes(), n_threads)
    assert bad == -1
    ours.resize(expected.shape)
    assert (ours != expected).nnz == 0
    np.testing.assert_array_equal(labels, y_expected)


def test_parser_numbers_are_pythons_floats():
    # Clinger's fast path and strtod: the double nearest to the text, every time
    rng = np.random.default_rng(5)
    values = rng.standard_normal(20000) * 10.0 ** rng.integers(-30, 30, 20000)
    texts = [f"{v:.{k}g}" for v, k in zip(values, rng.integers(1, 18, values.size))]
    texts += ["1e5", "-0.0", "00012.5000", ".5", "5.", "1E-3", "+2", "nan", "inf",
              "123456789012345", "1234567890123456", "1e-400", "1e400"]
    block = "".join(f"0 1:{t}\n" for t in texts).encode()
    data, _, _, _, bad = _libsvm.parse(block, 2)
    assert bad == -1
    expected = np.array([float(t) for t in texts])
    same = (data == expected) | (np.isnan(data) & np.isnan(expected))
    assert same.all(), [t for t, ok in zip(texts, same) if not ok][:5]
    # what Python's float refuses (hex, NaN payloads), as scikit-learn's reader does
    for token in (b".", b"-", b"1e", b"1e+", b"--1", b"0x1p3", b"nan(1)"):
        assert _libsvm.parse(b"1 1:" + token + b"\n", 1)[4] == 0


def test_parser_comments_blank_lines_qid_crlf():
    block = (b"# a comment line\n"
             b"1 1:0.5 3:1.5 # trailing comment\n"
             b"\n"
             b"   \n"
             b"0 qid:7 2:1e-3\r\n"
             b"-1\t1:2.0\n"
             b"2.5\n"
             b"3 4:-7")  # the last line without its end
    X, y, bad = parsed(block)
    assert bad == -1
    np.testing.assert_array_equal(y, [1, 0, -1, 2.5, 3])
    np.testing.assert_array_equal(X.toarray(), [[0, .5, 0, 1.5, 0], [0, 0, 1e-3, 0, 0],
                                                [0, 2, 0, 0, 0], [0, 0, 0, 0, 0],
                                                [0, 0, 0, 0, -7]])


@pytest.mark.parametrize("line", [b"1 1:0.5 3:x", b"1 a:0.5", b"x 1:2", b"1 1:2:3",
                                  b"1 -1:2", b"1 99999999999:2", b"1 3", b"1 2:"])
def test_parser_names_the_bad_line(line):
    _, _, bad = parsed(b"1 1:1\n\n# c\n" + line + b"\n0 2:2\n")
    assert bad == 3


def test_parser_same_arrays_at_every_thread_count():
    rng = np.random.default_rng(3)
    lines = [f"{rng.integers(2)} " + " ".join(
        f"{j}:{rng.standard_normal():.6g}" for j in sorted(rng.choice(
            1000, rng.integers(0, 40), replace=False))) for _ in range(20000)]
    block = ("\n".join(lines) + "\n").encode()
    one = parsed(block, 1)
    for n_threads in (2, 3, 8):
        other = parsed(block, n_threads)
        assert (one[0] != other[0]).nnz == 0
        np.testing.assert_array_equal(one[1], other[1])


# --------------------------------------------------------------- file blocks
def test_line_blocks_hold_whole_lines(tmp_path):
    path = tmp_path / "lines.txt"
    text = b"".join(b"%d %s\n" % (k, b"x" * (k % 37)) for k in range(2000))
    path.write_bytes(text + b"last line without end")
    blocks = list(line_blocks(path, 1000))
    assert len(blocks) > 10
    assert b"".join(b for _, b in blocks) == path.read_bytes()
    for first_line, block in blocks[:-1]:
        assert block.endswith(b"\n")
        assert block.split(b" ", 1)[0] == b"%d" % (first_line - 1)


@pytest.mark.parametrize("zero_based", [True, False])
def test_base_is_decided_for_the_whole_file(tmp_path, zero_based):
    # index 0 appears only in the last block: a zero-based file all the same
    path = tmp_path / "base.svm"
    rows = ["1 5:1 7:2"] * 500 + (["0 0:3 2:1"] if zero_based else ["0 1:3 2:1"])
    path.write_text("\n".join(rows) + "\n")
    data = DataFile(path, chunk_bytes=512)
    summary = data.scan()
    assert summary.zero_based is zero_based
    assert summary.n_features == (8 if zero_based else 7)
    X = sp.vstack([X for X, _ in data.blocks(summary.zero_based,
                                             summary.n_features)])
    expected, _ = load_svmlight_file(str(path), zero_based="auto")
    assert X.shape == expected.shape
    assert (X != expected).nnz == 0
    (X_all, _), (X_held, _), all_summary = DataFile(path).read_all(
        lambda start, n: np.arange(start, start + n) % 3 == 0)
    assert all_summary.zero_based is zero_based
    assert X_all.shape[1] == X_held.shape[1] == expected.shape[1]
    rows = np.arange(expected.shape[0]) % 3 == 0
    assert (X_all != expected[~rows]).nnz == 0
    assert (X_held != expected[rows]).nnz == 0


def test_bad_token_names_file_and_line_in_a_later_block(tmp_path):
    path = tmp_path / "bad.svm"
    lines = ["1 1:0.5 2:1"] * 300
    lines[237] = "0 1:0.5 2:oops"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match=r"bad.svm, line 238: the value of "
                                              r"'2:oops' is not a number"):
        DataFile(path, chunk_bytes=256).scan()


def test_csv_header_label_by_name_comments_and_blank_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("# made by hand\nf0,target,f1\n\n1.5,1,2\n# mid\n-1,0,3.5\n\n")
    data = DataFile(path, label_column="target")
    (X, y), _, summary = data.read_all()
    np.testing.assert_array_equal(X, [[1.5, 2], [-1, 3.5]])
    np.testing.assert_array_equal(y, [1, 0])
    assert summary.feature_names == ["f0", "f1"]


def test_csv_bad_field_and_ragged_line_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,c\n1,2,3\n4,five,6\n")
    with pytest.raises(FileFormatError, match=r"bad.csv, line 3, column 'b' \(2\): "
                                              r"'five' is not a number"):
        DataFile(path).read_all()
    path.write_text("1,2,3\n4,5\n")
    with pytest.raises(FileFormatError, match=r"bad.csv, line 2: 2 fields where the "
                                              r"file has 3"):
        DataFile(path).read_all()


def test_parquet_blocks(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 4))
    y = (X[:, 0] > 0).astype(float)
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"y": y, **{f"x{j}": X[:, j] for j in range(4)}}), path)
    data = DataFile(path, chunk_bytes=4000, label_column="y")
    blocks = list(data.blocks())
    assert len(blocks) > 1
    np.testing.assert_array_equal(np.vstack([b[0] for b in blocks]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in blocks]), y)
    assert data.feature_names == ["x0", "x1", "x2", "x3"]


# ------------------------------------------------------------ the command line
def test_train_and_predict_libsvm_end_to_end(tmp_path):
    X, y = classification_file(tmp_path / "train.svm")
    code, out, err = run_cli("train", tmp_path / "train.svm", "-o", tmp_path / "m",
                             "--loss", "log_loss", "--alpha", "1e-4",
                             "--random-state", "0")
    assert "read into memory, fit" in out
    assert "holdout (every 10th row, 300 rows): accuracy" in out
    accuracy = float(out.split("accuracy ")[1].split()[0])
    assert accuracy > 0.9
    assert "fit: 2,700 rows" in err  # progress: rows, time, rows/s, objective
    assert "objective" in err
    model, metadata = fastgd.load_model(tmp_path / "m.npz", with_metadata=True)
    assert metadata["data"]["zero_based"] is False
    assert model.get_params()["alpha"] == 1e-4
    held = np.arange(3000) % 10 == 9
    X, y = load_svmlight_file(str(tmp_path / "train.svm"))  # as the file is read
    reference = fastgd.SGDClassifier(loss="log_loss", alpha=1e-4,
                                     random_state=0).fit(X[~held], y[~held])
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12, atol=1e-14)
    code, out, err = run_cli("predict", tmp_path / "m.npz", tmp_path / "train.svm",
                             "--proba")
    proba = np.loadtxt(out.splitlines())
    np.testing.assert_allclose(proba, reference.predict_proba(X), rtol=1e-8)
    assert "accuracy on the file's labels" in err
    run_cli("predict", tmp_path / "m.npz", tmp_path / "train.svm", "-o",
            tmp_path / "pred.txt")
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "pred.txt"),
                                  reference.predict(X))


def test_streams_a_file_larger_than_the_chunk(tmp_path):
    X, y = classification_file(tmp_path / "big.svm", n=6000, seed=1)
    chunk_mb = f"{os.path.getsize(tmp_path / 'big.svm') / 2**20 / 7:.4f}"
    code, out, err = run_cli("train", tmp_path / "big.svm", "-o", tmp_path / "s",
                             "--chunk-mb", chunk_mb, "--passes", "3",
                             "--random-state", "0")
    assert "streamed in blocks" in out and "3 passes" in out
    for k in (1, 2, 3):
        assert f"pass {k}/3: 5,400 rows" in err
    accuracy = float(out.split("accuracy ")[1].split()[0])
    assert accuracy > 0.9
    # the same as partial_fit on the blocks, in file order, without the held-out rows
    model = fastgd.load_model(tmp_path / "s.npz")
    data = DataFile(tmp_path / "big.svm", chunk_bytes=int(float(chunk_mb) * 2**20))
    assert len(list(data.blocks())) >= 7
    summary = data.scan()
    reference = fastgd.SGDClassifier(random_state=0)
    for _ in range(3):
        start = 0
        for Xb, yb in data.blocks(summary.zero_based, summary.n_features):
            keep = (np.arange(start, start + Xb.shape[0]) % 10) != 9
            start += Xb.shape[0]
            if keep.any():
                reference.partial_fit(Xb[keep], yb[keep], classes=summary.labels)
    np.testing.assert_array_equal(model.coef_, reference.coef_)


def test_full_batch_on_a_streamed_file_is_refused(tmp_path):
    classification_file(tmp_path / "big.svm", n=2000)
    code, out, err = run_cli("train", tmp_path / "big.svm", "--chunk-mb", "0.01",
                             "--batch-size", "full", "-o", tmp_path / "m",
                             check=False)
    assert code != 0
    assert "batch_size='full' needs the whole data in memory" in err
    assert not (tmp_path / "m.npz").exists()


def test_zero_based_file_and_csv_regression_on_real_data(tmp_path):
    X, y = diamonds()
    X, y = X[::5], y[::5]  # 10,788 rows
    dump_svmlight_file(X, y, str(tmp_path / "d.svm"), zero_based=True)
    header = ",".join(["price"] + [f"x{j}" for j in range(X.shape[1])])
    np.savetxt(tmp_path / "d.csv", np.column_stack([y, X]), delimiter=",",
               header=header, comments="", fmt="%.17g")
    scores = {}
    for name in ("d.svm", "d.csv"):
        extra = ["--label-column", "price"] if name.endswith(".csv") else []
        code, out, err = run_cli("train", tmp_path / name, "-o", tmp_path / name,
                                 "--random-state", "0", *extra)
        assert "SGDRegressor" in out  # labels that are not integers
        scores[name] = float(out.split("R^2 ")[1].split()[0])
    assert scores["d.svm"] == pytest.approx(scores["d.csv"], abs=1e-9)
    held = np.arange(len(y)) % 10 == 9
    reference = fastgd.SGDRegressor(random_state=0).fit(sp.csr_matrix(X[~held]),
                                                        y[~held])
    assert scores["d.svm"] == pytest.approx(
        reference.score(sp.csr_matrix(X[held]), y[held]), abs=6e-5)
    assert scores["d.svm"] > 0.85
    _, metadata = fastgd.load_model(tmp_path / "d.svm.npz", with_metadata=True)
    assert metadata["data"]["zero_based"] is True


@pytest.mark.parametrize("args, message", [
    (["--proba"], "has no predict_proba"),
    (["--format", "csv"], "looks like a libsvm file"),
])
def test_predict_errors_are_clear(tmp_path, args, message):
    classification_file(tmp_path / "t.svm", n=500)
    run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q")
    code, out, err = run_cli("predict", tmp_path / "m.npz", tmp_path / "t.svm", *args,
                             check=False)
    assert code != 0
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["--alpha", "-1"], "'alpha' parameter"),
    (["--no-such-param", "1"], "unrecognized arguments"),
    (["--holdout-fraction", "0.9"], "--holdout-fraction must be in [0, 0.5]"),
    (["--chunk-mb", "0"], "--chunk-mb must be a positive number"),
])
def test_train_errors_are_clear(tmp_path, args, message):
    classification_file(tmp_path / "t.svm", n=300)
    code, out, err = run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", *args,
                             check=False)
    assert code != 0
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "m.npz").exists()


def test_missing_file_is_a_clear_error(tmp_path):
    code, out, err = run_cli("train", tmp_path / "none.svm", check=False)
    assert code != 0 and "No such data file" in err and "Traceback" not in err


def test_console_script(tmp_path):
    script = shutil.which("fastgd", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("fastgd is not installed as a console script here")
    classification_file(tmp_path / "t.svm", n=300)
    done = subprocess.run([script, "train", str(tmp_path / "t.svm"), "-o",
                           str(tmp_path / "m"), "-q"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "model written to" in done.stdout


def test_one_class_from_the_command_line(tmp_path):
    X, y = classification_file(tmp_path / "t.svm", n=2000)
    code, out, err = run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "oc",
                             "--estimator", "oneclass", "--nu", "0.2",
                             "--random-state", "0")
    assert "SGDOneClassSVM" in out and "share inside the boundary" in out
    model = fastgd.load_model(tmp_path / "oc.npz")
    assert model.get_params()["nu"] == 0.2
    code, out, err = run_cli("predict", tmp_path / "oc.npz", tmp_path / "t.svm", "-q")
    X, _ = load_svmlight_file(str(tmp_path / "t.svm"))
    np.testing.assert_array_equal(np.loadtxt(out.splitlines()), model.predict(X))


# ------------------------------------------- the command line's edges (issue 18)
def _bytes(path):
    with open(path, "rb") as f:
        return f.read()


def _no_partial_files(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".partial")]


def test_huge_n_jobs_is_an_error_not_a_crash(tmp_path):
    classification_file(tmp_path / "t.svm", n=300)
    code, out, err = run_cli("train", tmp_path / "t.svm", "--n-jobs", "1000000",
                             "-o", tmp_path / "m", check=False)
    assert code == 1, err  # was a segfault (139) in the parser's threads
    assert "fastgd train: error:" in err and "'n_jobs' parameter" in err
    assert "Traceback" not in err


def test_an_output_that_is_an_input_is_refused(tmp_path):
    classification_file(tmp_path / "t.svm", n=300)
    run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q")
    data, model = _bytes(tmp_path / "t.svm"), _bytes(tmp_path / "m.npz")
    os.symlink(tmp_path / "t.svm", tmp_path / "link.svm")
    os.symlink(tmp_path / "t.svm", tmp_path / "link.npz")
    shutil.copy(tmp_path / "t.svm", tmp_path / "data.npz")
    for args in (["predict", tmp_path / "m.npz", tmp_path / "t.svm", "-o",
                  tmp_path / "t.svm"],
                 ["predict", tmp_path / "m.npz", tmp_path / "t.svm", "-o",
                  tmp_path / "m.npz"],
                 ["predict", tmp_path / "m.npz", tmp_path / "t.svm", "-o",
                  tmp_path / "link.svm"],
                 ["train", tmp_path / "data.npz", "-o", tmp_path / "data.npz"],
                 ["train", tmp_path / "t.svm", "-o", tmp_path / "link.npz"]):
        code, out, err = run_cli(*args, check=False)
        assert code == 1, args
        assert "writing there would destroy it" in err, err
        assert "Traceback" not in err
    assert _bytes(tmp_path / "t.svm") == data and _bytes(tmp_path / "m.npz") == model
    assert _no_partial_files(tmp_path) == []


@pytest.mark.parametrize("where, message", [
    ("folder", "is a folder; give a file name"),
    ("under_a_file", "is not a folder"),
    ("missing_folder", "does not exist"),
])
def test_an_output_that_cannot_be_written_is_one_line(tmp_path, where, message):
    classification_file(tmp_path / "t.svm", n=300)
    target = {"folder": tmp_path, "under_a_file": tmp_path / "t.svm" / "m",
              "missing_folder": tmp_path / "none" / "m"}[where]
    for command in (["train", tmp_path / "t.svm", "-o", target],
                    ["predict", tmp_path / "m.npz", tmp_path / "t.svm", "-o",
                     target]):
        if command[0] == "predict":
            run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q")
        code, out, err = run_cli(*command, check=False)
        assert code == 1 and message in err and "Traceback" not in err, err
    assert not (tmp_path.parent / f"{tmp_path.name}.npz").exists()


def _limit_file_size(limit):
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_write_that_fails_part_way_leaves_the_old_file(tmp_path):
    classification_file(tmp_path / "t.svm", n=2000)
    run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q")
    run_cli("predict", tmp_path / "m.npz", tmp_path / "t.svm", "-o",
            tmp_path / "p.txt")
    model, predictions = _bytes(tmp_path / "m.npz"), _bytes(tmp_path / "p.txt")
    small = _limit_file_size(1024)  # as `ulimit -f 1`: a full disk, a quota
    code, out, err = run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m",
                             "--alpha", "0.01", "-q", check=False,
                             preexec_fn=small)
    assert code == 1 and "Traceback" not in err, err
    code, out, err = run_cli("predict", tmp_path / "m.npz", tmp_path / "t.svm",
                             "--decision", "-o", tmp_path / "p.txt", check=False,
                             preexec_fn=small)
    assert code == 1 and "Traceback" not in err, err
    assert _bytes(tmp_path / "m.npz") == model
    assert _bytes(tmp_path / "p.txt") == predictions
    assert _no_partial_files(tmp_path) == []


@pytest.mark.parametrize("args, message", [
    (["--chunk-mb", "inf"], "--chunk-mb must be a positive number"),
    (["--chunk-mb", "nan"], "--chunk-mb must be a positive number"),
    (["--loss", "log_los"], "'loss' parameter"),
    (["--estimator", "oneclass", "--nu", "2"], "'nu' parameter"),
    (["--max-classes", "1"], "--max-classes must be at least 2"),
])
def test_options_are_checked_before_the_file_is_read(tmp_path, args, message):
    (tmp_path / "bad.svm").write_text("this is not a libsvm file\n")
    code, out, err = run_cli("train", tmp_path / "bad.svm", "-o", tmp_path / "m",
                             *args, check=False)
    assert code == 1 and message in err and "Traceback" not in err, err
    assert "bad.svm" not in err  # the file was not read


def test_boolean_options_take_the_usual_spellings(tmp_path):
    classification_file(tmp_path / "t.svm", n=500)
    run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q",
            "--fit-intercept", "0", "--early-stopping", "yes", "--shuffle", "off")
    params = fastgd.load_model(tmp_path / "m.npz").get_params()
    assert params["fit_intercept"] is False and params["early_stopping"] is True
    assert params["shuffle"] is False
    code, out, err = run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m",
                             "--fit-intercept", "maybe", check=False)
    assert code == 1 and "'fit_intercept' parameter" in err


def test_help_names_defaults_and_choices():
    code, out, err = run_cli("train", "--help")
    loss = " ".join(out.split("--loss VALUE")[-1].split("--max-iter")[0].split())
    assert "Default: classifier 'hinge', regressor 'squared_error'" in loss
    assert "log_loss" in loss and "modified_huber" in loss
    assert "yes/no" in out.split("--fit-intercept VALUE")[-1][:200]
    code, out, err = run_cli("--help")
    assert out.startswith("usage: fastgd ") and "train" in out and "predict" in out


def test_commands_act_like_a_command():
    code, out, err = run_cli("trian", "x.svm", check=False)
    assert code == 2 and "did you mean 'train'?" in err and "Traceback" not in err
    for command in ("train", "predict", "compare", "bench"):
        code, out, err = run_cli(command, "--help")
        assert out.startswith(f"usage: fastgd {command}")


def test_the_console_script_without_a_command_prints_its_usage(capsys):
    from fastgd.__main__ import main

    main([], default=None)
    assert capsys.readouterr().out.startswith("usage: fastgd ")


def test_integer_quantities_are_regressed_and_the_choice_is_named_first(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 5))
    price = np.round(1000 + 300 * (X @ rng.standard_normal(5)))  # ~1,500 values
    dump_svmlight_file(X, price, str(tmp_path / "price.svm"))
    code, out, err = run_cli("train", tmp_path / "price.svm", "-o", tmp_path / "m",
                             "--max-iter", "1", "--keep-bad-model")
    first = err.splitlines()[1]  # after the reading line, before the fit
    assert first.startswith("SGDRegressor: labels of ") and "distinct values" in first
    assert err.index("SGDRegressor") < err.index("fit: ")
    code, out, err = run_cli("train", tmp_path / "price.svm", "-o", tmp_path / "m",
                             "--estimator", "classifier", check=False)
    assert code == 1 and "--estimator regressor" in err and "too many" in err
    X, y = classification_file(tmp_path / "c.svm", n=500)
    code, out, err = run_cli("train", tmp_path / "c.svm", "-o", tmp_path / "m")
    assert "SGDClassifier: 2 classes (0, 1)" in err


def test_standardize_fits_unscaled_real_data(tmp_path):
    X, y = diamonds_unscaled()
    X, y = X[::5], y[::5]  # 10,788 rows; prices in dollars, sizes in mm and carats
    np.savetxt(tmp_path / "d.csv", np.column_stack([y, X]), delimiter=",",
               fmt="%.17g")
    held = np.arange(len(y)) % 10 == 9
    # without: a useless model is not written, and the exit says why
    code, out, err = run_cli("train", tmp_path / "d.csv", "-o", tmp_path / "raw",
                             "--random-state", "0", check=False)
    assert code == 1 and "worse than the constant model" in err, (out, err)
    assert "--standardize" in err and not (tmp_path / "raw.npz").exists()
    code, out, err = run_cli("train", tmp_path / "d.csv", "-o", tmp_path / "raw",
                             "--random-state", "0", "--keep-bad-model")
    assert (tmp_path / "raw.npz").exists()
    # with: the scaled fit's score (StandardScaler on the training rows)
    code, out, err = run_cli("train", tmp_path / "d.csv", "-o", tmp_path / "s",
                             "--random-state", "0", "--standardize")
    score = float(out.split("R^2 ")[1].split()[0])
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X[~held])
    reference = fastgd.SGDRegressor(random_state=0).fit(scaler.transform(X[~held]),
                                                        y[~held])
    assert score == pytest.approx(
        reference.score(scaler.transform(X[held]), y[held]), abs=6e-5)
    assert score > 0.85
    model, metadata = fastgd.load_model(tmp_path / "s.npz", with_metadata=True)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6)
    stored = metadata["data"]["standardize"]
    np.testing.assert_allclose(stored["mean"], scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(stored["scale"], scaler.scale_, rtol=1e-12)
    # predict applies the same standardization
    code, out, err = run_cli("predict", tmp_path / "s.npz", tmp_path / "d.csv", "-q")
    np.testing.assert_allclose(np.loadtxt(out.splitlines()),
                               reference.predict(scaler.transform(X)), rtol=1e-6,
                               atol=1e-6 * np.abs(y).max())


def test_standardize_in_the_first_pass_of_a_streamed_file(tmp_path):
    X, y = diamonds_unscaled()
    X, y = X[::5], y[::5]
    np.savetxt(tmp_path / "d.csv", np.column_stack([y, X]), delimiter=",",
               fmt="%.17g")
    dump_svmlight_file(X, y, str(tmp_path / "d.svm"))
    held = np.arange(len(y)) % 10 == 9
    std = X[~held].std(0)
    for name in ("d.csv", "d.svm"):
        chunk_mb = f"{os.path.getsize(tmp_path / name) / 2**20 / 6:.4f}"
        code, out, err = run_cli("train", tmp_path / name, "-o", tmp_path / name,
                                 "--random-state", "0", "--standardize",
                                 "--chunk-mb", chunk_mb, "--keep-bad-model")
        assert "streamed in blocks" in out
        _, metadata = fastgd.load_model(tmp_path / f"{name}.npz", with_metadata=True)
        stored = metadata["data"]["standardize"]
        np.testing.assert_allclose(stored["scale"], np.where(std > 0, std, 1.0),
                                   rtol=1e-9)
        if name == "d.svm":  # sparse rows are scaled, not centred
            assert stored["mean"] is None
        else:
            np.testing.assert_allclose(stored["mean"], X[~held].mean(0), rtol=1e-9)
            assert float(out.split("R^2 ")[1].split()[0]) > 0.85


def test_proba_and_decision_name_their_columns(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 4))
    y = np.digitize(X[:, 0], [-0.5, 0.5]) * 2 + 1  # classes 1, 3, 5
    dump_svmlight_file(X, y, str(tmp_path / "t.svm"))
    run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q", "--loss",
            "log_loss")
    code, out, err = run_cli("predict", tmp_path / "m.npz", tmp_path / "t.svm",
                             "--proba", "-q")
    assert out.splitlines()[0] == "# probability of class: 1 3 5"
    assert np.loadtxt(out.splitlines()).shape == (600, 3)
    code, out, err = run_cli("predict", tmp_path / "m.npz", tmp_path / "t.svm",
                             "--decision", "-q")
    assert out.splitlines()[0] == "# decision function of class: 1 3 5"


def test_a_model_trained_on_csv_predicts_a_libsvm_file(tmp_path):
    X, y = classification_file(tmp_path / "t.svm", n=800)
    np.savetxt(tmp_path / "t.csv", np.column_stack([y, X]), delimiter=",",
               fmt="%.17g")
    run_cli("train", tmp_path / "t.csv", "-o", tmp_path / "m", "-q")
    code, csv_out, err = run_cli("predict", tmp_path / "m.npz", tmp_path / "t.csv")
    code, svm_out, err = run_cli("predict", tmp_path / "m.npz", tmp_path / "t.svm")
    assert csv_out == svm_out and "Traceback" not in err


def test_swapped_model_and_data_is_a_clear_error(tmp_path):
    X, y = classification_file(tmp_path / "t.svm", n=300)
    run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q")
    code, out, err = run_cli("predict", tmp_path / "t.svm", tmp_path / "m.npz",
                             check=False)
    assert code == 1 and "Traceback" not in err
    assert "allow_pickle" not in err and "Python objects" not in err
    assert "t.svm" in err


def test_warnings_are_one_line_in_the_programs_words(tmp_path):
    classification_file(tmp_path / "t.svm", n=2000)
    code, out, err = run_cli("train", tmp_path / "t.svm", "-o", tmp_path / "m", "-q",
                             "--max-iter", "1", "--tol", "1e-9", warnings=None)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and all(line.startswith("fastgd train: warning: ") for line in lines)
    assert "warnings.warn(" not in err and ".py:" not in err


def test_an_interrupt_says_so_and_leaves_no_file(tmp_path):
    import signal

    classification_file(tmp_path / "big.svm", n=20000, d=50)
    env = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "fastgd", "train", str(tmp_path / "big.svm"), "-o",
         str(tmp_path / "m"), "--chunk-mb", "0.2", "--passes", "100000"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        cwd=tempfile.gettempdir())
    for line in process.stderr:  # interrupt once training is under way
        if line.startswith("pass 1/"):
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "fastgd train: interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "m.npz").exists() and _no_partial_files(tmp_path) == []


def test_a_streamed_file_without_rows_is_a_clear_error(tmp_path):
    (tmp_path / "empty.svm").write_text("# only a comment\n\n" * 5000)
    code, out, err = run_cli("train", tmp_path / "empty.svm", "-o", tmp_path / "m",
                             "--chunk-mb", "0.01", check=False)
    assert code == 1 and "holds no rows" in err and "Traceback" not in err
    assert not (tmp_path / "m.npz").exists()


def test_import_fastgd_does_not_import_scikit_learn():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, fastgd; fastgd.__version__; "
         "print('sklearn' in sys.modules)"], capture_output=True, text=True,
        cwd=tempfile.gettempdir(), check=True)
    assert done.stdout.strip() == "False"
