"""The data-file readers (``fastgd._files.readers`` and the format readers under it,
the libsvm parser ``fastgd._files._libsvm``): the edges of issue 18, each with its
message, and fuzz tests (hypothesis).

The fuzz tests generate files, valid and damaged, and read each at 1 and 2 threads
and at several block sizes: libsvm files give exactly scikit-learn's
``load_svmlight_file`` arrays or a ``FileFormatError`` naming the file and a line
(the same whatever the threads and blocks); CSV files give exactly what a plain
Python reader (below: the csv module and ``float``) gives, or the error at the line
where it fails.  They run the ``HYPOTHESIS_PROFILE`` profile of ``conftest.py``
(``ci`` unless told).
"""
import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_svmlight_file

from fastgd._files import _libsvm
from fastgd._files.formats import FileFormatError, detect_format
from fastgd._files.libsvm import libsvm_line_error, read_libsvm_line
from fastgd._files.readers import DataFile

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
BOM = b"\xef\xbb\xbf"
THREADS = (1, 2)
CHUNKS = (5, 64, 1 << 20)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path, file_format=None, **kwargs):
    """``DataFile(path, file_format, **kwargs).read_all()``'s rows, warnings made
    errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (X, y), _, summary = DataFile(path, file_format, **kwargs).read_all()
    return X, y, summary


def same_floats(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def same_csr(a, b):
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr)
            and np.array_equal(a.indices, b.indices) and same_floats(a.data, b.data))


# ------------------------------------------------------------------ threads
def test_a_huge_thread_count_does_not_crash_the_parser():
    # it made OpenMP start a million threads: a segmentation fault
    code = ("from fastgd._files import _libsvm; "
            "print(_libsvm.parse(b'1 1:2\\n' * 20000, 1_000_000)[3].sum())")
    # in the temporary folder: from a clean clone's top folder, Python would import
    # the source folder, whose extensions are not built there
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "20000.0"
    assert _libsvm.usable_threads(1_000_000) == (os.cpu_count() or 1)
    assert _libsvm.usable_threads(0) == 1


@pytest.mark.parametrize("n_threads", [0, -1, 1.5, True, "2", None])
def test_data_file_wants_a_positive_number_of_threads(tmp_path, n_threads):
    path = write(tmp_path, "d.svm", b"1 1:2\n")
    with pytest.raises(ValueError, match=re.escape(
            f"The number of threads to read {path} must be a positive integer; got "
            f"{n_threads!r}.")):
        DataFile(path, n_threads=n_threads)


# ------------------------------------------------------------------- libsvm
def test_a_nul_byte_in_a_line_is_refused(tmp_path):
    # the NUL ended the line: 5:9 was dropped without a word
    path = write(tmp_path, "nul.svm", b"0 2:1\n1 1:2.5 3:4 \x00 5:9\n")
    with pytest.raises(FileFormatError, match=re.escape(
            f"{path}, line 2: the line holds a NUL byte (\\x00); expected text, "
            f"'label index:value ...'.")):
        read(path)
    # in a comment it is a comment's byte, as in scikit-learn
    path = write(tmp_path, "comment.svm", b"1 1:2.5 # \x00\n")
    X, y, _ = read(path)
    assert X.toarray().tolist() == [[2.5]] and y.tolist() == [1.0]


@pytest.mark.parametrize("blank", [b"\v", b"\f", b"\r", b"\t", b" \v\f "])
def test_every_blank_of_bytes_split_separates_and_never_crosses_a_line(tmp_path,
                                                                      blank):
    # \v and \f made the parser read the next line: an extra row, or its label as
    # a value, depending on the block size
    data = b"1 1:2" + blank + b"\n2 3:4" + blank + b"5:6\n" + blank + b"\n3 2:1\n"
    path = write(tmp_path, "blanks.svm", data)
    expected, y = load_svmlight_file(str(path), zero_based="auto")
    assert expected.shape == (3, 5) and y.tolist() == [1, 2, 3]
    for n_threads in THREADS:
        for chunk in (1, 7, 1 << 20):
            X, labels, _ = read(path, n_threads=n_threads, chunk_bytes=chunk)
            assert same_csr(X, expected) and labels.tolist() == [1, 2, 3]


@pytest.mark.parametrize("line, message", [
    (b"1 3:1 1:2", "the index of '1:2' is not above the index before it (3); expected "
                   "the indices of a line sorted and unique, as scikit-learn reads "
                   "them"),
    (b"1 1:1 1:2", "the index of '1:2' is not above the index before it (1); expected "
                   "the indices of a line sorted and unique, as scikit-learn reads "
                   "them"),
    (b"1 1:0x1p3", "the value of '1:0x1p3' is not a number; expected 'label "
                   "index:value ...'"),
    (b"0x1 1:1", "the label '0x1' is not a number; expected 'label index:value ...'"),
    (b"1 1:nan(12)", "the value of '1:nan(12)' is not a number; expected 'label "
                     "index:value ...'"),
    (b"1 1:.", "the value of '1:.' is not a number; expected 'label index:value ...'"),
    (b"1 1:.inf", "the value of '1:.inf' is not a number; expected 'label index:value "
                  "...'"),
    (b"1 1:1e", "the value of '1:1e' is not a number; expected 'label index:value "
                "...'"),
    (b"1 1:2:3", "the value of '1:2:3' is not a number; expected 'label index:value "
                 "...'"),
    (b"1 2:", "the value of '2:' is not a number; expected 'label index:value ...'"),
    (b"1 3", "'3' is not index:value; expected 'label index:value ...'"),
    (b"1 -1:2", "the index of '-1:2' is not an integer from 0 to 2**31 - 1; expected "
                "'label index:value ...'"),
    (b"1 2147483648:2", "the index of '2147483648:2' is not an integer from 0 to "
                        "2**31 - 1; expected 'label index:value ...'"),
    (b"1 a:0.5", "the index of 'a:0.5' is not an integer from 0 to 2**31 - 1; "
                 "expected 'label index:value ...'"),
    (b"1 1:2 qid:3", "the index of 'qid:3' is not an integer from 0 to 2**31 - 1; "
                     "expected 'label index:value ...'"),
    (b"x 1:2", "the label 'x' is not a number; expected 'label index:value ...'"),
    (b"1 1:\xc3\xa9", "the value of '1:\u00e9' is not a number; expected 'label "
                      "index:value ...'"),
])
def test_what_scikit_learn_refuses_is_refused_with_the_line(tmp_path, line, message):
    path = write(tmp_path, "bad.svm", b"1 1:1\n\n# c\n" + line + b"\n0 2:2\n")
    with pytest.raises((ValueError, OverflowError)):
        load_svmlight_file(str(path))
    with pytest.raises(FileFormatError, match=re.escape(f"{path}, line 4: {message}.")):
        read(path)
    assert _libsvm.parse(path.read_bytes(), 2)[4] == 3  # the fast path leaves it
    assert libsvm_line_error(line) == message


@pytest.mark.parametrize("value", [b"inf", b"-Infinity", b"NaN", b"-nan", b"1e5",
                                   b"+.5", b"5.", b"1_000.5", b"1E+05", b"1e-400",
                                   b"1e400", b"00012.5000", b"123456789012345678901"])
def test_what_float_reads_is_read_as_scikit_learn_reads_it(tmp_path, value):
    path = write(tmp_path, "ok.svm", b"+1_0 qid:x 1:" + value + b" +3:1 04:2\n")
    expected, y = load_svmlight_file(str(path), zero_based="auto")
    X, labels, _ = read(path)
    assert same_csr(X, expected) and labels.tolist() == y.tolist() == [10.0]
    assert same_floats(X.data[:1], [float(value)])


def test_a_file_of_labels_has_one_column_as_in_scikit_learn(tmp_path):
    path = write(tmp_path, "labels.svm", b"1\n2\n# c\n3\n")
    expected, _ = load_svmlight_file(str(path))
    assert expected.shape == (3, 1)
    X, y, summary = read(path)
    assert X.shape == (3, 1) and X.nnz == 0 and y.tolist() == [1, 2, 3]
    data = DataFile(path, chunk_bytes=4)
    summary = data.scan()
    assert (summary.n_features, summary.zero_based) == (1, True)
    shapes = [X.shape for X, _ in data.blocks(summary.zero_based, summary.n_features)]
    assert len(shapes) > 1 and {width for _, width in shapes} == {1}
    assert sum(n for n, _ in shapes) == 3


@pytest.mark.parametrize("line", [
    b"1 1:0.5 3:x", b"1 a:0.5", b"x 1:2", b"1 1:2:3", b"1 -1:2", b"1 99999999999:2",
    b"1 3", b"1 2:", b"1 1:2\x00", b"\x00", b"1 2:1 1:1", b"1 1:0x10", b"1 :2",
    b"qid:1 1:2", b"1 qid:1 qid:2", b"1 1:2 \x0c3",
])
def test_every_line_the_parser_leaves_out_is_read_or_explained(line):
    # "it does not parse" said neither what is wrong nor what was expected
    assert _libsvm.parse(b"1 1:1\n" + line + b"\n", 1)[4] == 1
    why = libsvm_line_error(line)
    assert why is not None and "; expected " in why
    with pytest.raises(ValueError):
        read_libsvm_line(line)


def test_a_file_of_comments_holds_no_rows(tmp_path):
    path = write(tmp_path, "comments.svm", b"# only\n\n   # comments\n")
    message = re.escape(f"{path} holds no rows; expected at least one line of data "
                        f"after any header, comments and blank lines.")
    with pytest.raises(FileFormatError, match=message):
        DataFile(path).scan()
    with pytest.raises(FileFormatError, match=message):
        DataFile(path).read_all()


# ---------------------------------------------------------------------- CSV
@pytest.mark.parametrize("first, column, shown", [
    (b"1,,3", "column 2", "''"),
    (b"1,NA,3", "column 2", "'NA'"),
    (b"NA,2,3", "column 1", "'NA'"),
    (b"1,\x00,3", "column 2", "'\\x00'"),
    (b"1,2,\x01", "column 3", "'\\x01'"),
    (b"1, null ,3", "column 2", "'null'"),
])
def test_a_first_row_with_a_bad_field_is_data_not_a_header(tmp_path, first, column,
                                                          shown):
    # it was taken as the header: one row lost, exit 0
    path = write(tmp_path, "d.csv", b"# made by hand\n" + first + b"\n4,5,6\n")
    with pytest.raises(FileFormatError, match=re.escape(
            f"{path}, line 2, {column}: {shown} is not a number (line 2 is read as "
            f"data: a header needs a name in every column; header=True or --header "
            f"reads it as one).")):
        read(path)


@pytest.mark.parametrize("header", [b"", b"y,a,b\n"])
def test_a_byte_order_mark_is_dropped(tmp_path, header):
    path = write(tmp_path, "bom.csv", BOM + header + b"1,2,3\n4,5,6\n")
    X, y, summary = read(path)
    assert X.tolist() == [[2, 3], [5, 6]] and y.tolist() == [1, 4]
    assert summary.feature_names == (["a", "b"] if header else None)


def test_header_can_be_told(tmp_path):
    path = write(tmp_path, "d.csv", b"1,2,3\n4,5,6\n")
    X, y, summary = read(path, header=True)
    assert X.tolist() == [[5, 6]] and summary.feature_names == ["2", "3"]
    X, y, summary = read(path, header=False)
    assert X.tolist() == [[2, 3], [5, 6]]
    names = write(tmp_path, "names.csv", b"y,a\n1,2\n")
    with pytest.raises(FileFormatError, match=re.escape(
            f"{names}, line 1, column 1: 'y' is not a number.")):
        read(names, header=False)
    with pytest.raises(ValueError, match=re.escape(
            f"The header of {path} must be True (its first line is one), False (none) "
            f"or None (detect it); got 'yes'.")):
        DataFile(path, header="yes")


def test_csv_errors_name_the_file_the_line_and_the_column(tmp_path):
    rows = ["price,cut,carat,depth"] + [f"{k},1,0.{k},60" for k in range(1, 8)]
    rows[6] = "6,1,a,60"  # line 7
    path = write(tmp_path, "data.csv", ("\n".join(rows) + "\n").encode())
    for chunk in (16, 1 << 20):
        with pytest.raises(FileFormatError, match=re.escape(
                f"{path}, line 7, column 'carat' (3): 'a' is not a number.")):
            read(path, chunk_bytes=chunk)
    path = write(tmp_path, "plain.csv", b"1,2,3\n4,5,x\n")
    with pytest.raises(FileFormatError, match=re.escape(
            f"{path}, line 2, column 3: 'x' is not a number.")):
        read(path)


def test_a_streamed_csv_whose_first_block_is_comments(tmp_path):
    # lines[skip] raised IndexError
    data = b"# " + b"x" * 40 + b"\n\n# more\n" + b"a,b\n" + b"1,2\n3,4\n"
    path = write(tmp_path, "c.csv", data)
    for chunk in (1, 8, 1 << 20):
        X, y, summary = read(path, chunk_bytes=chunk)
        assert X.tolist() == [[2], [4]] and summary.feature_names == ["b"]


def test_a_header_only_csv_holds_no_rows_and_warns_nothing(tmp_path):
    # numpy's "input contained no data" warning leaked, and a streamed file reached
    # the estimator ("not fitted yet")
    path = write(tmp_path, "h.csv", b"a,b\n# nothing else\n")
    message = re.escape(f"{path} holds no rows; expected at least one line of data "
                        f"after any header, comments and blank lines.")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FileFormatError, match=message):
            DataFile(path, chunk_bytes=2).scan()
        with pytest.raises(FileFormatError, match=message):
            DataFile(path).read_all()


# ------------------------------------------------------------------ Parquet
@pytest.mark.parametrize("column", ["struct", "list", "string"])
def test_a_parquet_column_not_of_numbers_is_named(tmp_path, column):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    values = {"struct": [{"a": 1}, {"a": 2}], "list": [[1.0], [2.0, 3.0]],
              "string": ["x", "y"]}[column]
    path = tmp_path / "d.parquet"
    table = pa.table({"y": [0.0, 1.0], "x": [1, 2], column: values})
    pq.write_table(table, path)
    kind = pq.read_schema(path).field(column).type  # e.g. struct<a: int64>
    with pytest.raises(FileFormatError, match=re.escape(
            f"{path}: column {column!r} is of type {kind}; expected numbers "
            f"(integer, float, boolean or decimal columns).")):
        DataFile(path).read_all()


def test_a_parquet_null_is_named_not_read_as_nan(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"y": [0.0, 1.0, 0.0, 1.0, 1.0],
                             "x": [1.0, 2.0, 3.0, None, 5.0]}), path)
    for chunk_bytes in (16, 1 << 20):  # in a later batch, and in the first
        data = DataFile(path, chunk_bytes=chunk_bytes)
        with pytest.raises(FileFormatError, match=re.escape(
                f"{path}, row 4, column 'x': a missing value (null); expected a "
                f"number.")):
            data.read_all()


# ------------------------------------------------------------- the format
def test_the_format_is_read_from_the_content(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"y": [1.0]}), tmp_path / "p.data")
    assert detect_format(tmp_path / "p.data") == "parquet"
    assert detect_format(write(tmp_path, "l.csv", b"# c\n1 qid:1 3:1\n")) == "libsvm"
    assert detect_format(write(tmp_path, "c.svm", b"\n" + BOM + b"a,b\n")) == "csv"
    # no evidence either way: the suffix
    assert detect_format(write(tmp_path, "one.csv", b"1\n2\n")) == "csv"
    assert detect_format(write(tmp_path, "one.txt", b"1\n2\n")) == "libsvm"
    assert detect_format(write(tmp_path, "empty.parquet", b"")) == "parquet"


def test_a_model_file_is_not_data(tmp_path):
    import fastgd

    model = fastgd.SGDRegressor(max_iter=2, tol=None).fit([[0.0], [1.0]], [0.0, 1.0])
    fastgd.save_model(model, tmp_path / "m.npz")
    for file_format in (None, "libsvm", "csv"):
        with pytest.raises(FileFormatError, match=re.escape(
                f"{tmp_path / 'm.npz'} looks like a zip archive (a fastgd model file, "
                f".npz?), not a data file; fastgd reads libsvm, CSV and Parquet "
                f"files.")):
            DataFile(tmp_path / "m.npz", file_format)


@pytest.mark.parametrize("name, data, given, found, evidence", [
    ("t.svm", b"2 1:2.04 3:1\n", "csv", "libsvm", "index:value tokens on line 1"),
    ("t.csv", b"# c\n1,2\n", "libsvm", "csv", "commas on line 2"),
    ("t.txt", b"1,2\n", "parquet", "csv", "commas on line 1"),
])
def test_a_format_the_content_contradicts_is_refused(tmp_path, name, data, given,
                                                     found, evidence):
    # a model read a libsvm file as CSV: "line 2: '2 1:2.04 ...' is not a number"
    path = write(tmp_path, name, data)
    with pytest.raises(FileFormatError, match=re.escape(
            f"{path} looks like a {found} file ({evidence}), not a {given} file; "
            f"read it with --format {found} (file_format={found!r}) or leave the "
            f"format out.")):
        DataFile(path, given)


def test_text_read_as_parquet_is_refused(tmp_path):
    path = write(tmp_path, "t.txt", b"1\n2\n")
    with pytest.raises(FileFormatError, match=re.escape(
            f"{path} is not a Parquet file: it does not start with Parquet's magic "
            f"bytes PAR1.")):
        DataFile(path, "parquet")


# --------------------------------------------------------------- scan(visit)
@pytest.mark.parametrize("name, data", [
    ("v.svm", b"".join(b"%d %d:1.5\n" % (k % 2, 1 + k % 5) for k in range(40))),
    ("v.csv", b"y,a\n" + b"".join(b"%d,%d\n" % (k % 2, k) for k in range(40))),
])
def test_scan_shows_every_block_to_a_visitor(tmp_path, name, data):
    path = write(tmp_path, name, data)
    seen = []
    summary = DataFile(path, chunk_bytes=64).scan(
        lambda X, y, first_row: seen.append((first_row, X.shape[0], y.copy())))
    assert len(seen) > 3
    assert [first for first, _, _ in seen] == list(np.cumsum(
        [0] + [n for _, n, _ in seen])[:-1])
    assert np.concatenate([y for _, _, y in seen]).tolist() == [k % 2 for k in
                                                               range(40)]
    plain = DataFile(path, chunk_bytes=64).scan()
    assert (summary.n_rows, summary.n_features, summary.zero_based,
            summary.feature_names) == (plain.n_rows, plain.n_features,
                                       plain.zero_based, plain.feature_names)
    assert summary.labels.tolist() == plain.labels.tolist() == [0, 1]


# ============================================================== fuzz: libsvm
SPECIAL_NUMBERS = [b"inf", b"-inf", b"+Infinity", b"nan", b"NaN", b"-NAN", b"iNf",
                   b"1_000", b"1_0.5", b".5", b"5.", b"+.5", b"-0", b"1e5", b"1E+05",
                   b"1e-400", b"1e400", b"0001.2500", b"123456789012345678901234",
                   b"4.9e-324", b"1.7976931348623157e308"]
BAD_NUMBERS = [b"0x1p3", b"nan(1)", b".", b"-", b"1e", b"--1", b"1__0", b"_1",
               b"1.2.3", b"a", b"\xd9\xa1", b"infinit", b"\x00", b"1,5", b"1:2",
               b".inf", b"-.nan", b"1.inf", b"+-1", b"1e+-2", b"infinityy", b"nann"]


@st.composite
def numbers(draw, damage=False):
    """A number as a file may spell it (or, now and then if ``damage``, not a
    number)."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from(SPECIAL_NUMBERS))
    if kind == 1 and damage and draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(BAD_NUMBERS))
    value = draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
    digits = draw(st.integers(1, 18))
    spelling = draw(st.sampled_from(["repr", "g", "e", "E", "f", "int"]))
    text = {"repr": repr(value), "g": f"{value:.{digits}g}",
            "e": f"{value:.{digits}e}", "E": f"{value:.{digits}E}",
            "f": f"{value:.{min(digits, 6)}f}" if abs(value) < 1e20 else repr(value),
            "int": str(int(value)) if abs(value) < 1e20 else repr(value)}[spelling]
    if draw(st.booleans()) and not text.startswith("-"):
        text = "+" + text
    return text.encode()


BLANKS = st.sampled_from([b" ", b" ", b" ", b"\t", b"\r", b"\v", b"\f", b"  ", b" \t",
                          b"\f\v"])


@st.composite
def index_texts(draw, previous, base, damage):
    """The text of an index after ``previous``: mostly the next ones up, now and then
    spelled oddly, huge, or (``damage``) unsorted, repeated or not an index."""
    kind = draw(st.integers(0, 19))
    if kind == 0 and previous < 2:
        return draw(st.sampled_from([b"+2", b"02", b"0_2"])), 2
    if kind == 0 and damage:
        return draw(st.sampled_from([b"-1", b"-0", b"a", b"", b"2147483648",
                                     b"99999999999"])), previous
    if kind == 0:
        text = draw(st.sampled_from([b"2147483646", b"2147483647"]))
        return text, int(text)
    if kind == 1 and damage:
        index = draw(st.integers(base, previous + 1))  # unsorted or repeated
    else:
        index = previous + 1 + draw(st.integers(0, 6))
    return str(index).encode(), index


@st.composite
def libsvm_lines(draw, base, damage=True):
    """One line (without its end): a row, a blank or comment line, or (``damage``)
    anything."""
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return draw(st.sampled_from([b"", b"   ", b"\t", b"\v\f", b"\r"]))
    if kind == 1:
        return b"# " + draw(st.binary(max_size=8)).replace(b"\n", b"")
    tokens = [draw(numbers(damage))]
    if draw(st.integers(0, 5)) == 0:
        tokens.append(b"qid:" + draw(st.sampled_from([b"1", b"7", b"x", b""])))
    previous = base - 1
    for _ in range(draw(st.integers(0, 5))):
        if previous >= 2**31 - 1:
            break
        text, previous = draw(index_texts(previous, base, damage))
        tokens.append(text + b":" + draw(numbers(damage)))
    line = tokens[0]
    for token in tokens[1:]:
        line += draw(BLANKS) + token
    if draw(st.booleans()):
        line = draw(BLANKS) + line
    if draw(st.integers(0, 3)) == 0:
        line += draw(BLANKS)
    if draw(st.integers(0, 5)) == 0:
        line += draw(st.sampled_from([b"#", b" # c", b"# \x00", b"#1 2:3"]))
    if damage and draw(st.integers(0, 15)) == 0:  # a few bytes anywhere
        at = draw(st.integers(0, len(line)))
        junk = draw(st.binary(min_size=1, max_size=2)).replace(b"\n", b"")
        line = line[:at] + junk + line[at:]
    return line


@st.composite
def libsvm_files(draw):
    base = draw(st.integers(0, 1))
    damage = draw(st.booleans())
    lines = draw(st.lists(libsvm_lines(base, damage), min_size=0, max_size=12))
    end = draw(st.sampled_from([b"\n", b"\n", b"\r\n"]))
    data = end.join(lines)
    if lines and draw(st.booleans()):
        data += end  # else the last line has no end
    return data


def sklearn_svmlight(path):
    """scikit-learn's (X, y), or None where it refuses the file."""
    try:
        return load_svmlight_file(str(path), zero_based="auto")
    except Exception:  # ValueError, and OverflowError for a huge index
        return None


def ours_libsvm(path, n_threads, chunk):
    """Our (X, y) read in memory, or the message of the FileFormatError."""
    try:
        X, y, _ = read(path, "libsvm", n_threads=n_threads, chunk_bytes=chunk)
    except FileFormatError as error:
        return str(error)
    return X, y


def streamed_libsvm(path, chunk):
    """Our (X, y) streamed in blocks, as the command line reads a large file."""
    data = DataFile(path, "libsvm", n_threads=2, chunk_bytes=chunk)
    summary = data.scan()
    blocks = list(data.blocks(summary.zero_based, summary.n_features))
    return (sp.vstack([X for X, _ in blocks], format="csr"),
            np.concatenate([y for _, y in blocks]))


@PROFILE
@given(libsvm_files())
def test_fuzz_libsvm_reads_as_scikit_learn_or_names_the_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.svm"
    path.write_bytes(data)
    expected = sklearn_svmlight(path)
    if expected is not None and expected[0].shape[0] == 0:
        expected = None  # a file without rows: refused here, not in scikit-learn
    results = [ours_libsvm(path, n_threads, chunk) for n_threads in THREADS
               for chunk in CHUNKS]
    if expected is not None:
        results.append(streamed_libsvm(path, CHUNKS[0]))
        assert detect_format(path) == "libsvm"
    for result in results:
        if expected is None:
            assert isinstance(result, str), (data, result)
            assert re.fullmatch(rf"{re.escape(str(path))}(, line \d+: .+; expected .+| "
                                rf"holds no rows; .+| looks like a csv file \(commas "
                                rf"on line \d+\), not a libsvm file; .+)\.", result,
                                re.S), result
        else:
            assert not isinstance(result, str), (data, result)
            assert same_csr(result[0], expected[0]), data
            assert same_floats(result[1], expected[1]), data
    assert all(isinstance(r, str) and r == results[0] for r in results) or not any(
        isinstance(r, str) for r in results)


@settings(PROFILE, max_examples=max(PROFILE.max_examples // 4, 1))  # 20 lines each
@given(st.lists(libsvm_lines(0), min_size=1, max_size=20))
def test_fuzz_the_fast_path_agrees_with_pythons_reading(lines):
    # a line is read by the fast path alone, or by read_libsvm_line; where both
    # read it, alike; and the fast path reads alike at 1 and 2 threads
    block = b"\n".join(lines) + b"\n"
    parsed = _libsvm.parse_block(block, 2, min_parallel_bytes=0)
    data, indices, indptr, labels, left_out, rows, starts = parsed
    alone = _libsvm.parse_block(block, 1)
    for k in (2, 4, 5, 6):  # indptr, the lines left out, their rows and starts
        assert np.array_equal(parsed[k], alone[k]), block
    kept = np.ones(len(data), dtype=bool)  # not in the places left to Python
    for row in rows:
        kept[indptr[row]:indptr[row + 1]] = False
    assert same_floats(data[kept], alone[0][kept]), block
    assert np.array_equal(indices[kept], alone[1][kept]), block
    rows_kept = np.setdiff1d(np.arange(len(labels)), rows)
    assert same_floats(labels[rows_kept], alone[3][rows_kept]), block
    row = 0
    for k, line in enumerate(lines):
        try:
            parsed = read_libsvm_line(line)
        except ValueError:
            assert k in left_out.tolist(), line
            row += 1
            continue
        if parsed is None:
            continue
        if k not in left_out.tolist():
            label, row_indices, values = parsed
            assert same_floats([labels[row]], [label]), line
            assert indices[indptr[row]:indptr[row + 1]].tolist() == row_indices, line
            assert same_floats(data[indptr[row]:indptr[row + 1]], values), line
        row += 1
    assert row == len(labels)


# ================================================================= fuzz: CSV
class RefusedLine(Exception):
    """Where the reference reader stops."""

    def __init__(self, line):
        super().__init__(line)
        self.line = line


def reference_csv(data, header):
    """A plain reader of fastgd's CSV: lines end at \\n, # starts a comment, blank
    lines are skipped, a byte-order mark at the start is dropped; the fields are the
    csv module's (no quoting; \\r a blank) and each a float().  Returns the table, or
    raises RefusedLine."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    rows, n_columns = [], None
    for number, line in enumerate(data.split(b"\n"), 1):
        text = line.split(b"#", 1)[0]
        if not text.strip():
            continue
        if header:
            header, n_columns = False, len(text.split(b","))
            continue
        text = text.replace(b"\r", b" ")  # a blank, as in the libsvm reader
        try:
            fields = next(csv.reader([text.decode("utf-8", errors="replace")],
                                     quoting=csv.QUOTE_NONE))
            n_columns = len(fields) if n_columns is None else n_columns
            if len(fields) != n_columns:
                raise ValueError
            rows.append([float(value) for value in fields])
        except (ValueError, csv.Error):
            raise RefusedLine(number) from None
    if not rows:
        raise RefusedLine(None)
    return np.array(rows)


CSV_GOOD = [b"1", b"-2.5", b" 3 ", b"\t4e-3", b"1_0", b"inf", b"-Infinity", b"nan",
            b"+.5", b"5.", b"1e400", b"00012", b"\v7\f", b"\xd9\xa1", b"4\r",
            b"\xc2\xa05"]
CSV_BAD = [b"", b"NA", b"a", b"\x00", b"\x01", b"\x1c", b"0x1p3", b'"1"', b"1 2",
           b"\xff", b"nan(1)", b"N/A", b"1\r2"]
NAMES = [b"y", b"price", b"carat", b"x_1", b"Sepal Length", b"\xc3\xa9t\xc3\xa9",
         b'"quoted"']
BAD_NAMES = [b"", b"NA", b"1", b"nan", b"a\x01", b"\xff"]


@st.composite
def csv_fields(draw, damage):
    kind = draw(st.integers(0, 24))
    if kind == 0 and damage:
        return draw(st.sampled_from(CSV_BAD))
    if kind <= 3:
        return draw(st.sampled_from(CSV_GOOD))
    return draw(numbers()).replace(b"\x00", b"0").replace(b",", b".").replace(b":", b"")


@st.composite
def csv_files(draw):
    n_columns = draw(st.integers(1, 4))
    header = draw(st.booleans())
    damage = draw(st.booleans())
    lines = []
    if header:
        names = draw(st.lists(st.sampled_from(NAMES + (BAD_NAMES if damage else [])),
                              min_size=n_columns, max_size=n_columns))
        lines.append(b",".join(names))
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.integers(0, 15))
        if kind == 0:
            lines.append(draw(st.sampled_from([b"", b"  ", b"# note", b" # x,y",
                                               b"\r", b"\v"])))
            continue
        width = n_columns + (draw(st.sampled_from([-1, 1])) if kind == 1 and damage
                             else 0)
        fields = draw(st.lists(csv_fields(damage), min_size=max(width, 1),
                               max_size=max(width, 1)))
        line = b",".join(fields)
        if draw(st.integers(0, 7)) == 0:
            line += b" # c"
        lines.append(line)
    if draw(st.integers(0, 7)) == 0:
        lines.insert(0, b"# a comment first")
    end = draw(st.sampled_from([b"\n", b"\n", b"\r\n"]))
    data = end.join(lines)
    if lines and draw(st.booleans()):
        data += end
    if draw(st.integers(0, 5)) == 0:
        data = BOM + data
    clean = header and all(name in NAMES for name in names)
    return data, header, clean


def ours_csv(path, header, n_threads, chunk):
    """Our table (labels first, as in the file) or the FileFormatError's message."""
    try:
        X, y, _ = read(path, header=header, n_threads=n_threads, chunk_bytes=chunk)
    except FileFormatError as error:
        return str(error)
    return np.column_stack([y, X])


@PROFILE
@given(csv_files())
def test_fuzz_csv_reads_as_a_plain_reader_or_names_the_line(tmp_path_factory, file):
    data, header, clean_header = file
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes(data)
    try:
        expected, refused = reference_csv(data, header), None
    except RefusedLine as error:
        expected, refused = None, error.line
    for n_threads in THREADS:
        for chunk in CHUNKS:
            result = ours_csv(path, header, n_threads, chunk)
            if expected is not None:
                assert not isinstance(result, str), (data, result)
                assert same_floats(result, expected), data
            elif refused is None:
                assert result == (f"{path} holds no rows; expected at least one line "
                                  f"of data after any header, comments and blank "
                                  f"lines."), (data, result)
            else:
                assert isinstance(result, str), (data, result)
                assert result.startswith(f"{path}, line {refused}: ") or \
                    result.startswith(f"{path}, line {refused}, column "), \
                    (data, result)
    # told nothing, the header is found, or the first line is data and its error
    detected = ours_csv(path, None, 1, 1 << 20)
    told = [ours_csv(path, flag, 1, 1 << 20) for flag in (True, False)]
    assert any(isinstance(detected, str) and isinstance(r, str)
               or not isinstance(detected, str) and not isinstance(r, str)
               and same_floats(detected, r) for r in told), (data, detected)
    if clean_header and not isinstance(told[0], str):
        assert not isinstance(detected, str) and same_floats(detected, told[0]), data


def test_reference_csv_reader_agrees_with_itself():
    # the reference reads a clean file as NumPy does
    data = b"y,a\n1,2.5\n# c\n3,-4e-3\n"
    assert reference_csv(data, True).tolist() == np.loadtxt(
        io.BytesIO(data), delimiter=",", skiprows=1).tolist()
    with pytest.raises(RefusedLine) as refused:
        reference_csv(b"1,2\n3,x\n", False)
    assert refused.value.line == 2
