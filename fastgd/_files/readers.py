"""Data files read in blocks of rows: libsvm / svmlight, CSV and Parquet.

A file is read a block at a time (about ``chunk_bytes`` of whole lines; Parquet: row
batches of about that size), so a file larger than memory is never held whole, and a
pass over it reads it again.  Every error is a ``FileFormatError`` (a ``ValueError``):
one sentence that names the file, the line (and the column) and what was expected.

* The format: from the file's first bytes (``detect_format``): Parquet's magic bytes,
  ``index:value`` tokens (libsvm) or commas (CSV) on the first line of data; an
  archive (a model's ``.npz``, a compressed file) is refused; the suffix only breaks
  a tie.  A format given that the content plainly contradicts is refused with the
  format the file looks like.
* libsvm: read as scikit-learn's ``load_svmlight_file`` reads it, or refused where it
  refuses (unsorted or repeated indices, a number ``float()`` does not read), and
  besides on a NUL byte in a line.  ``_libsvm`` parses a block in parallel by a fast
  path for the common spellings; each line it leaves out is read here by
  ``read_libsvm_line`` (scikit-learn's ``int()`` and ``float()``), which fills the
  line's places or says what is wrong.  Indices are parsed as written and shifted
  here: whether a file counts from one is decided once for the whole file (an index
  and no index 0 anywhere: one-based, scikit-learn's ``"auto"`` rule), not block by
  block; a file without any index has one column, as in scikit-learn.
* CSV: lines end at ``\\n``, ``#`` starts a comment, the fields of a line are split at
  commas and each is a number that Python's ``float()`` reads (blanks around it
  allowed).  A UTF-8 byte-order mark at the start is dropped.  The first line is a
  header when every field is a name (not empty, printable, not a number, not a
  missing-value marker such as NA), or when ``header=True``; a first line of numbers
  and anything else is data, and its bad field an error, never a lost row.  A block
  of plain ASCII text is parsed by NumPy's ``loadtxt``; any other block, or one
  ``loadtxt`` refuses, line by line in Python, which names the first bad field.
* Parquet: pyarrow's reader; the columns must be of a number type (integer, float,
  boolean or decimal) without nulls (a missing value is named, not read as NaN).
* A file with no rows (only comments, blank lines or a header) is refused by
  ``scan`` and ``read_all``.
"""
import csv
import io
import numbers
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import scipy.sparse as sp

FORMATS = ("libsvm", "csv", "parquet")
_SUFFIXES = {".svm": "libsvm", ".libsvm": "libsvm", ".svmlight": "libsvm",
             ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_BOM = b"\xef\xbb\xbf"
#: what the start of a file that is not data looks like, and what to do about it
_NOT_DATA = (
    (b"PK\x03\x04", "a zip archive (a fastgd model file, .npz?)",
     "fastgd reads libsvm, CSV and Parquet files"),
    (b"PK\x05\x06", "an empty zip archive",
     "fastgd reads libsvm, CSV and Parquet files"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip)"),
    (b"BZh", "a bzip2-compressed file", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (unxz)"),
    (b"\x93NUMPY", "a NumPy .npy file", "fastgd reads libsvm, CSV and Parquet files"),
)
_PARQUET_MAGIC = b"PAR1"
_INDEX_VALUE = re.compile(rb"^\d+:")
#: the bytes of plain CSV text, which NumPy's loadtxt reads as float() does
_PLAIN_TEXT = bytes(range(0x20, 0x7f)) + b"\t\n\v\f\r"
#: fields that mark a missing value: not a column's name
_MISSING = frozenset(["", "na", "n/a", "nan", "null", "none", "nil", "missing", "?"])
_LIBSVM_EXPECTED = "expected 'label index:value ...'"
_INDEX_LIMIT = 2**31 - 1


class FileFormatError(ValueError):
    """A data file that does not parse: names the file and the line."""


def guess_format(path):
    """The format of ``path`` from its suffix (``.csv``, ``.parquet``/``.pq``;
    anything else is read as libsvm, the format of ``.svm``, ``.txt`` and
    ``.libsvm`` files)."""
    return _SUFFIXES.get(os.path.splitext(str(path))[1].lower(), "libsvm")


def _first_data_line(head, complete):
    """The first line of ``head`` that is not blank or a comment (its number and its
    content), or ``(None, None)``; the last line counts only when ``complete``."""
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    lines = head.split(b"\n")
    if not complete:
        lines = lines[:-1]
    for number, line in enumerate(lines, 1):
        text = _content(line)
        if text:
            return number, text
    return None, None


def sniff_format(path, sample_bytes=1 << 16):
    """What the start of ``path`` says its format is.

    Parameters
    ----------
    path : str
    sample_bytes : int, default=65536
        How much of the file is read.

    Returns
    -------
    (format, evidence) : (str, str) or (None, None)
        The format and what shows it, or None where the content does not tell
        (an empty file, one column of numbers, neither or both of commas and
        ``index:value`` tokens).

    Raises
    ------
    FileFormatError
        An archive or other binary file that is not Parquet.
    """
    with open(path, "rb") as f:
        head = f.read(sample_bytes)
        complete = not f.read(1)
    if head.startswith(_PARQUET_MAGIC):
        return "parquet", "Parquet's magic bytes PAR1 at its start"
    for magic, what, advice in _NOT_DATA:
        if head.startswith(magic):
            raise FileFormatError(f"{path} looks like {what}, not a data file; "
                                  f"{advice}.")
    number, text = _first_data_line(head, complete)
    if text is None:
        return None, None
    pairs = any(_INDEX_VALUE.match(token) for token in text.split()[1:])
    commas = b"," in text
    if pairs and not commas:
        return "libsvm", f"index:value tokens on line {number}"
    if commas and not pairs:
        return "csv", f"commas on line {number}"
    return None, None


def detect_format(path):
    """The format of the data file ``path``, from its content (``sniff_format``);
    the suffix (``guess_format``) only where the content does not tell.

    Parameters
    ----------
    path : str

    Returns
    -------
    {"libsvm", "csv", "parquet"}

    Raises
    ------
    FileFormatError
        An archive (such as a model's ``.npz``) or a compressed file.
    """
    found, _ = sniff_format(path)
    return found or guess_format(path)


def _checked_format(path, file_format):
    """``file_format`` (None: ``detect_format``), refused where the content plainly
    says another format."""
    found, evidence = sniff_format(path)
    if file_format is None:
        return found or guess_format(path)
    if file_format not in FORMATS:
        raise ValueError(f"The file format must be one of {FORMATS}; got "
                         f"{file_format!r}.")
    if found is not None and found != file_format:
        raise FileFormatError(
            f"{path} looks like a {found} file ({evidence}), not a {file_format} "
            f"file; read it with --format {found} (file_format={found!r}) or leave "
            f"the format out.")
    if file_format == "parquet" and found is None:
        raise FileFormatError(f"{path} is not a Parquet file: it does not start with "
                              f"Parquet's magic bytes PAR1.")
    return file_format


@dataclass
class FileSummary:
    """What a first pass over a file found (``DataFile.scan``)."""

    n_rows: int = 0
    n_features: int = 0
    labels: np.ndarray = field(default_factory=lambda: np.empty(0))
    zero_based: Optional[bool] = None
    feature_names: Optional[list] = None


def line_blocks(path, chunk_bytes):
    """Yield ``(first line number, bytes)``: the file in blocks of whole lines of
    about ``chunk_bytes`` each (a longer line makes a longer block)."""
    with open(path, "rb") as f:
        # read() allocates what it is asked for: not more than the file
        chunk_bytes = max(1, min(chunk_bytes, os.fstat(f.fileno()).st_size + 1))
        line, rest = 1, b""
        while True:
            data = f.read(chunk_bytes)
            if not data:
                if rest.strip():
                    yield line, rest
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no line ends in it yet
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield line, block
            line += block.count(b"\n")


def _content(line):
    """A line without its comment and surrounding blanks."""
    return line.split(b"#", 1)[0].strip()


def _is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


def _shown(token):
    """A token of a line as an error message quotes it."""
    return token.decode("utf-8", errors="backslashreplace")


# ------------------------------------------------------------------- libsvm lines
class LineError(ValueError):
    """Why one line does not parse (without the file and line number)."""


def _libsvm_entry(token, previous):
    """The index and value of one ``index:value`` token of a libsvm line, whose
    previous index is ``previous`` (-1 for none)."""
    name, colon, value = token.partition(b":")
    if not colon:
        raise LineError(f"{_shown(token)!r} is not index:value; {_LIBSVM_EXPECTED}")
    try:
        index = int(name)
    except ValueError:
        index = -1
    if not 0 <= index <= _INDEX_LIMIT:
        raise LineError(f"the index of {_shown(token)!r} is not an integer from 0 to "
                        f"2**31 - 1; {_LIBSVM_EXPECTED}")
    if index <= previous:
        raise LineError(f"the index of {_shown(token)!r} is not above the index "
                        f"before it ({previous}); expected the indices of a line "
                        f"sorted and unique, as scikit-learn reads them")
    try:
        return index, float(value)
    except ValueError:
        raise LineError(f"the value of {_shown(token)!r} is not a number; "
                        f"{_LIBSVM_EXPECTED}") from None


def read_libsvm_line(line):
    """One libsvm line as scikit-learn's ``load_svmlight_file`` reads it.

    Parameters
    ----------
    line : bytes
        The line, without its ``\\n``.

    Returns
    -------
    (label, indices, values) : (float, list of int, list of float) or None
        None for a blank or comment line.

    Raises
    ------
    LineError
        What is wrong in the line and what was expected.
    """
    text = line.split(b"#", 1)[0]
    if b"\x00" in text:
        raise LineError("the line holds a NUL byte (\\x00); expected text, "
                        "'label index:value ...'")
    tokens = text.split()
    if not tokens:
        return None
    try:
        label = float(tokens[0])
    except ValueError:
        raise LineError(f"the label {_shown(tokens[0])!r} is not a number; "
                        f"{_LIBSVM_EXPECTED}") from None
    entries = tokens[1:]
    if entries and entries[0].startswith(b"qid:"):
        entries = entries[1:]
    indices, values = [], []
    for token in entries:
        index, value = _libsvm_entry(token, indices[-1] if indices else -1)
        indices.append(index)
        values.append(value)
    return label, indices, values


def _libsvm_line_error(line):
    """Why one libsvm line does not parse, or None."""
    try:
        read_libsvm_line(line)
    except LineError as error:
        return str(error)
    return None


def _line_at(block, start):
    """The line of ``block`` that starts at ``start``, without its end."""
    end = block.find(b"\n", start)
    return block[start:] if end < 0 else block[start:end]


def _span(path, first_line, block):
    """``"path, lines a-b"`` of a block."""
    newlines = block.count(b"\n")
    return f"{path}, lines {first_line}-{first_line + max(newlines - 1, 0)}"


# --------------------------------------------------------------------- CSV lines
def _is_name(field):
    """Whether a field of a CSV line can be a column's name."""
    return (bool(field) and field.isprintable() and field.lower() not in _MISSING
            and not _is_number(field))


def _header_names(text):
    """The fields of a CSV line as names (quotes as the csv module reads them), or
    None where the line is not text."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return [name.strip() for name in next(csv.reader([decoded]))]
    except csv.Error:
        return None


def _drop_lines(block, n_lines):
    """``block`` after its first ``n_lines`` lines (empty if it has no more)."""
    start = 0
    for _ in range(n_lines):
        start = block.find(b"\n", start) + 1
        if start == 0:
            return b""
    return block[start:]


def _loadtxt(block, dtype):
    """NumPy's parse of a block of CSV lines, or None where it refuses it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
        try:
            return np.loadtxt(io.BytesIO(block), delimiter=",", comments="#",
                              dtype=dtype, ndmin=2)
        except ValueError:
            return None


class DataFile:
    """A data file read in blocks of rows.

    Parameters
    ----------
    path : str
    file_format : {"libsvm", "csv", "parquet"} or None
        None: from the content (``detect_format``).  A format the content plainly
        contradicts is refused.
    chunk_bytes : int
        About how much of the file one block reads.
    label_column : int or str, default=0
        CSV and Parquet: the column of the labels (its index, or its name in the
        header); the other columns are the features.  libsvm: the first token.
    dtype : numpy dtype, default=float64
    n_threads : int, default=1
        libsvm: the threads that parse a block (a positive integer; at most the
        machine's cores are used).
    header : bool or None, default=None
        CSV: whether the first line that is not blank or a comment is a header.
        None: when every field of it is a name (not empty, printable, not a number,
        not a missing-value marker such as NA).
    """

    def __init__(self, path, file_format=None, chunk_bytes=256 << 20, label_column=0,
                 dtype=np.float64, n_threads=1, header=None):
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"No such data file: {self.path!r}.")
        if int(chunk_bytes) < 1:
            raise ValueError(f"The chunk size must be a positive number of bytes; "
                             f"got {chunk_bytes!r}.")
        if (isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral)
                or n_threads < 1):
            raise ValueError(f"The number of threads to read {self.path} must be a "
                             f"positive integer; got {n_threads!r}.")
        if header not in (None, True, False):
            raise ValueError(f"The header of {self.path} must be True (its first line "
                             f"is one), False (none) or None (detect it); got "
                             f"{header!r}.")
        self.format = _checked_format(self.path, file_format)
        self.chunk_bytes = int(chunk_bytes)
        self.label_column = label_column
        self.dtype = np.dtype(dtype)
        self.n_threads = int(n_threads)
        self.size = os.path.getsize(self.path)
        self.header = header
        self._header, self._n_columns = None, None
        self._header_line = self._first_data_line = 0  # line numbers; 0: none
        if self.format == "csv":
            self._read_csv_header(header)

    @property
    def fits_one_block(self):
        """Whether the whole file is one block (then it is read at once)."""
        return self.size <= self.chunk_bytes

    # ----------------------------------------------------------------- blocks
    def blocks(self, zero_based=None, n_features=None, labels=True):
        """Yield ``(X, y)`` block by block, in file order.

        Parameters
        ----------
        zero_based : bool or None
            libsvm: whether indices count from 0 (None: as written, unshifted).
        n_features : int or None
            libsvm: the number of columns of X (None: as many as the block uses); a
            larger index is an error.
        labels : bool
            CSV and Parquet: whether the file has a label column (``predict``'s
            data may not); y is None otherwise.
        """
        if self.format == "libsvm":
            yield from self._libsvm_blocks(zero_based, n_features)
        elif self.format == "csv":
            yield from self._csv_blocks(labels)
        else:
            yield from self._parquet_blocks(labels)

    def _libsvm_arrays(self, first_line, block):
        """A block's CSR arrays and labels, indices as written: the fast parser's,
        with the lines it leaves out read by ``read_libsvm_line``."""
        from fastgd._files import _libsvm

        data, indices, indptr, y, lines, rows, starts = _libsvm.parse_block(
            block, self.n_threads)
        for line, row, start in zip(lines.tolist(), rows.tolist(), starts.tolist()):
            try:
                label, row_indices, row_values = read_libsvm_line(
                    _line_at(block, start))
            except LineError as error:
                raise FileFormatError(f"{self.path}, line {first_line + line}: "
                                      f"{error}.") from None
            a, b = indptr[row], indptr[row + 1]
            if len(row_indices) != b - a:  # the two readers disagree: a bug
                raise RuntimeError(f"{self.path}, line {first_line + line}: the fast "
                                   f"parser found {b - a} entries, Python "
                                   f"{len(row_indices)}.")
            y[row] = label
            indices[a:b] = row_indices
            data[a:b] = row_values
        return data, indices, indptr, y

    def _libsvm_blocks(self, zero_based, n_features):
        shift = 1 if zero_based is False else 0
        for first_line, block in line_blocks(self.path, self.chunk_bytes):
            data, indices, indptr, y = self._libsvm_arrays(first_line, block)
            width = int(indices.max()) + 1 if indices.size else 0
            if shift:
                if indices.size and indices.min() == 0:
                    raise FileFormatError(
                        f"{_span(self.path, first_line, block)}: index 0 in a file "
                        f"whose indices count from 1.")
                indices -= 1
                width = max(width - 1, 0)
            if n_features is not None:
                if width > n_features:
                    raise FileFormatError(
                        f"{_span(self.path, first_line, block)}: feature index "
                        f"{width - 1 + shift} is past the {n_features} features "
                        f"of the model.")
                width = n_features
            X = sp.csr_matrix((data.astype(self.dtype, copy=False), indices, indptr),
                              shape=(len(indptr) - 1, width))
            yield X, y

    def _read_csv_header(self, header):
        """Find the first line of data (after a byte-order mark, blank lines and
        comments): the header's names and line when it is one (``header``), and
        the number of columns."""
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, 1):
                if number == 1 and line.startswith(_BOM):
                    line = line[len(_BOM):]
                text = _content(line)
                if not text:
                    continue
                names = _header_names(text)
                if header is None:
                    header = names is not None and all(_is_name(n) for n in names)
                if header:
                    self._header = names if names is not None else [
                        _shown(v.strip()) for v in text.split(b",")]
                    self._header_line = number
                    self._n_columns = len(self._header)
                else:
                    self._n_columns = len(text.split(b","))
                self._first_data_line = number
                return
        self._n_columns = 0

    def label_index(self, n_columns):
        """The position of the label column among ``n_columns``."""
        column = self.label_column
        if isinstance(column, str) and not column.lstrip("-").isdigit():
            names = self._header if self.format == "csv" else self._parquet_names()
            if not names or column not in names:
                raise ValueError(f"label column {column!r} is not in the columns of "
                                 f"{self.path}: {names}.")
            return names.index(column)
        index = int(column)
        if not -n_columns <= index < n_columns:
            raise ValueError(f"label column {index} is out of range for the "
                             f"{n_columns} columns of {self.path}.")
        return index % n_columns

    def n_columns(self):
        """CSV and Parquet: the number of columns (labels included); None for
        libsvm."""
        if self.format == "parquet":
            return len(self._parquet_names())
        if self.format != "csv":
            return None
        return self._n_columns

    @property
    def feature_names(self):
        """The features' names from a CSV header or a Parquet schema, else None."""
        names = self._header if self.format == "csv" else (
            self._parquet_names() if self.format == "parquet" else None)
        if names is None:
            return None
        drop = self.label_index(len(names))
        return [n for k, n in enumerate(names) if k != drop]

    def _split(self, table, labels):
        if not labels:
            return table, None
        k = self.label_index(table.shape[1])
        y = table[:, k].copy()
        return np.delete(table, k, axis=1), y

    def _csv_data_blocks(self):
        """Yield ``(first line number, bytes)``: the file's blocks without the
        byte-order mark and the lines up to the header."""
        for first_line, block in line_blocks(self.path, self.chunk_bytes):
            if first_line == 1 and block.startswith(_BOM):
                block = block[len(_BOM):]
            before_data = self._header_line - first_line + 1
            if before_data > 0:
                block = _drop_lines(block, before_data)
                first_line += before_data
            if block:
                yield first_line, block

    def _column(self, k):
        """How an error names the ``k``-th column (from 0)."""
        if self._header is not None:
            return f"column {self._header[k]!r} ({k + 1})"
        return f"column {k + 1}"

    def _csv_row(self, number, text):
        """The numbers of one CSV line (``text``: without its comment)."""
        fields = text.split(b",")
        if len(fields) != self._n_columns:
            raise FileFormatError(f"{self.path}, line {number}: {len(fields)} fields "
                                  f"where the file has {self._n_columns}.")
        row = []
        for k, value in enumerate(fields):
            try:
                row.append(float(value.decode("utf-8", errors="replace")))
            except ValueError:
                raise FileFormatError(
                    f"{self.path}, line {number}, {self._column(k)}: "
                    f"{_shown(value.strip())!r} is not a number"
                    f"{self._header_hint(number)}.") from None
        return row

    def _header_hint(self, number):
        """What an error on the first line of data adds when no header was found."""
        if self.header is None and self._header is None and (
                number == self._first_data_line):
            return (f" (line {number} is read as data: a header needs a name in "
                    f"every column; header=True or --header reads it as one)")
        return ""

    def _csv_rows(self, first_line, block):
        """A block of CSV lines parsed line by line in Python."""
        rows = []
        for k, line in enumerate(block.split(b"\n")):
            text = line.split(b"#", 1)[0]
            if text.strip():
                rows.append(self._csv_row(first_line + k, text))
        return np.array(rows, dtype=self.dtype).reshape(len(rows), self._n_columns)

    def _csv_table(self, first_line, block):
        """A block of CSV lines as an array: NumPy's parse of plain text, else
        ``_csv_rows``."""
        if not block.translate(None, _PLAIN_TEXT):
            table = _loadtxt(block, self.dtype)
            if table is not None and (table.shape[0] == 0
                                      or table.shape[1] == self._n_columns):
                return table
        return self._csv_rows(first_line, block)

    def _csv_blocks(self, labels):
        for first_line, block in self._csv_data_blocks():
            table = self._csv_table(first_line, block)
            if table.shape[0]:
                yield self._split(table, labels)

    def _parquet_file(self):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError("Reading Parquet files needs pyarrow: pip install "
                              "pyarrow.") from None
        try:
            return pq.ParquetFile(self.path)
        except Exception as error:  # pyarrow's ArrowInvalid, OSError...
            raise FileFormatError(f"{self.path} is not a Parquet file that pyarrow "
                                  f"reads: {error}") from None

    def _parquet_names(self):
        return list(self._parquet_file().schema_arrow.names)

    def _check_parquet_types(self, schema):
        """Refuse a column that is not of a number type."""
        import pyarrow.types as types

        for column in schema:
            kind = column.type
            if not (types.is_integer(kind) or types.is_floating(kind)
                    or types.is_boolean(kind) or types.is_decimal(kind)):
                raise FileFormatError(
                    f"{self.path}: column {column.name!r} is of type {kind}; "
                    f"expected numbers (integer, float, boolean or decimal "
                    f"columns).")

    def _parquet_blocks(self, labels):
        parquet = self._parquet_file()
        self._check_parquet_types(parquet.schema_arrow)
        n_columns = len(parquet.schema_arrow.names)
        rows = max(1, self.chunk_bytes // (8 * max(n_columns, 1)))
        first_row = 0
        for batch in parquet.iter_batches(batch_size=rows):
            self._check_parquet_nulls(batch, first_row)
            table = np.column_stack([np.asarray(c.to_numpy(zero_copy_only=False),
                                                dtype=self.dtype)
                                     for c in batch.columns])
            first_row += batch.num_rows
            yield self._split(table, labels)

    def _check_parquet_nulls(self, batch, first_row):
        """Refuse a missing value (a null), as CSV refuses an empty field: naming
        the column and the row (counted from 1), not turning it into NaN."""
        for name, column in zip(batch.schema.names, batch.columns):
            if column.null_count:
                row = first_row + 1 + int(np.flatnonzero(
                    column.is_null().to_numpy(zero_copy_only=False))[0])
                raise FileFormatError(
                    f"{self.path}, row {row}, column {name!r}: a missing value "
                    f"(null); expected a number.")

    # ------------------------------------------------------------------- scan
    def _no_rows(self):
        return FileFormatError(f"{self.path} holds no rows; expected at least one "
                               f"line of data after any header, comments and blank "
                               f"lines.")

    def scan(self, visit=None):
        """One pass: the rows, the features, the distinct labels, and (libsvm)
        whether the indices count from 0.

        Parameters
        ----------
        visit : callable or None
            ``visit(X, y, first_row)``, called on every block as it is read (e.g. to
            fit a scaler in the same pass); ``first_row`` is the block's first row
            in the file.  libsvm: X is as written (column j holds index j, as wide as
            the block's largest index), the base being known only at the end.

        Returns
        -------
        FileSummary

        Raises
        ------
        FileFormatError
            The file does not parse, or holds no rows.
        """
        summary = FileSummary()
        labels, lowest = [], None
        for X, y in self.blocks():
            if visit is not None:
                visit(X, y, summary.n_rows)
            summary.n_rows += X.shape[0]
            summary.n_features = max(summary.n_features, X.shape[1])
            labels.append(np.unique(y))
            if sp.issparse(X) and X.nnz:
                low = int(X.indices.min())
                lowest = low if lowest is None else min(lowest, low)
        if summary.n_rows == 0:
            raise self._no_rows()
        summary.labels = np.unique(np.concatenate(labels))
        if self.format == "libsvm":
            summary.zero_based = lowest is None or lowest == 0
            summary.n_features = _libsvm_width(summary.n_features, summary.zero_based)
        else:
            summary.feature_names = self.feature_names
        return summary

    def read_all(self, held_out=None):
        """The whole file in memory, split into the rows to train on and the rows
        held out as it is read (no second copy).

        Parameters
        ----------
        held_out : callable or None
            ``held_out(first_row, n_rows)``: a boolean mask of a block's rows to
            hold out (None: none).

        Returns
        -------
        (X, y), (X_held, y_held), FileSummary
            The summary counts every row.

        Raises
        ------
        FileFormatError
            The file does not parse, or holds no rows.
        """
        parts = {False: ([], []), True: ([], [])}
        start, labels = 0, []
        for X, y in self.blocks():
            held = (np.zeros(X.shape[0], dtype=bool) if held_out is None
                    else held_out(start, X.shape[0]))
            start += X.shape[0]
            labels.append(np.unique(y))
            for flag in (False, True):
                rows = np.flatnonzero(held == flag)
                if rows.size == X.shape[0]:
                    parts[flag][0].append(X)
                    parts[flag][1].append(y)
                elif rows.size:
                    parts[flag][0].append(X[rows])
                    parts[flag][1].append(y[rows])
        if start == 0:
            raise self._no_rows()
        summary = FileSummary(n_rows=start, labels=np.unique(np.concatenate(labels)))
        if self.format == "libsvm":
            width = max(X.shape[1] for Xs, _ in parts.values() for X in Xs)
            lowest = min((int(X.indices.min()) for Xs, _ in parts.values()
                          for X in Xs if X.nnz), default=0)
            summary.zero_based = lowest == 0
            summary.n_features = _libsvm_width(width, summary.zero_based)
        else:
            summary.feature_names = self.feature_names
            summary.n_features = next(X.shape[1] for Xs, _ in parts.values()
                                      for X in Xs)
        return (self._stack(*parts[False], summary), self._stack(*parts[True], summary),
                summary)

    def _stack(self, Xs, ys, summary):
        """One (X, y) of blocks' rows, libsvm's indices shifted as ``summary``
        says."""
        if self.format != "libsvm":
            if not Xs:
                return np.empty((0, summary.n_features), self.dtype), np.empty(0)
            return (np.concatenate(Xs) if len(Xs) > 1 else Xs[0]), np.concatenate(ys)
        shift = 0 if summary.zero_based else 1
        width = summary.n_features + shift
        for X in Xs:
            X.resize(X.shape[0], width)
        X = (sp.vstack(Xs, format="csr") if len(Xs) > 1 else Xs[0] if Xs
             else sp.csr_matrix((0, width), dtype=self.dtype))
        if shift:
            X.indices -= 1
            X = sp.csr_matrix((X.data, X.indices, X.indptr),
                              shape=(X.shape[0], summary.n_features))
        return X, (np.concatenate(ys) if ys else np.empty(0))


def _libsvm_width(width, zero_based):
    """The features of a libsvm file whose largest index is ``width - 1`` as
    written: scikit-learn's count, at least one (a file without an index)."""
    return max(width - (0 if zero_based else 1), 1)
