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
from fastgd import _libsvm
from fastgd._files import DataFile, FileFormatError, line_blocks
from realdata import diamonds


def run_cli(*args, check=True):
    """``python -m fastgd ARGS`` in a subprocess: (exit code, stdout, stderr).  It
    runs in the temporary folder: from the repository's top folder, ``-m fastgd``
    would import the source folder, whose extensions a clean clone has not built."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if env.get("PYTHONPATH"):  # as seen from here, not from the temporary folder
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep) if p)
    done = subprocess.run([sys.executable, "-m", "fastgd", *map(str, args)],
                          capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          env=env, timeout=300)
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
              "123456789012345", "1234567890123456", "1e-400", "1e400", "0x1p3"]
    block = "".join(f"0 1:{t}\n" for t in texts).encode()
    data, _, _, _, bad = _libsvm.parse(block, 2)
    assert bad == -1
    expected = np.array([float.fromhex(t) if t.startswith("0x") else float(t)
                         for t in texts])
    same = (data == expected) | (np.isnan(data) & np.isnan(expected))
    assert same.all(), [t for t, ok in zip(texts, same) if not ok][:5]
    for token in (b".", b"-", b"1e", b"1e+", b"--1"):
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
    with pytest.raises(FileFormatError, match=r"bad.csv, line 3: 'five' is not a "
                                              r"number"):
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
    (["--format", "csv"], "is not a number"),
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
    (["--chunk-mb", "0"], "--chunk-mb must be positive"),
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
