"""Data files read in blocks of rows: libsvm / svmlight, CSV and Parquet.

A file is read a block at a time (about ``chunk_bytes`` of whole lines; Parquet: row
batches of about that size), so a file larger than memory is never held whole, and a
pass over it reads it again.  Each block is parsed by fastgd's libsvm parser
(``_libsvm``, in parallel over lines), NumPy's ``loadtxt`` or pyarrow's Parquet
reader.  A line that does not
parse is named with its file and line number and what is wrong in it.

libsvm's indices are parsed as they are written (``zero_based=True``) and shifted
here: whether a file counts from one is decided once for the whole file (no index 0
anywhere: one-based, scikit-learn's ``"auto"`` rule), not block by block.
"""
import io
import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import scipy.sparse as sp

FORMATS = ("libsvm", "csv", "parquet")
_SUFFIXES = {".svm": "libsvm", ".libsvm": "libsvm", ".svmlight": "libsvm",
             ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class FileFormatError(ValueError):
    """A data file that does not parse: names the file and the line."""


def guess_format(path):
    """The format of ``path`` from its suffix (``.csv``, ``.parquet``/``.pq``;
    anything else is read as libsvm, the format of ``.svm``, ``.txt`` and
    ``.libsvm`` files)."""
    return _SUFFIXES.get(os.path.splitext(str(path))[1].lower(), "libsvm")


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


def _libsvm_line_error(line):
    """Why one libsvm line does not parse, or None."""
    text = _content(line)
    if not text:
        return None
    tokens = text.split()
    if not _is_number(tokens[0]):
        return f"the label {tokens[0].decode(errors='replace')!r} is not a number"
    for k, token in enumerate(tokens[1:]):
        name, sep, value = token.partition(b":")
        shown = token.decode(errors="replace")
        if not sep:
            return f"{shown!r} is not index:value"
        if k == 0 and name == b"qid":
            name = b"0"
        if not name.isdigit():
            return f"the index of {shown!r} is not a non-negative integer"
        if int(name) > 2**31 - 1:
            return f"the index of {shown!r} is past 2**31 - 1"
        if not _is_number(value):
            return f"the value of {shown!r} is not a number"
    return None


def _csv_line_error(line, delimiter, n_columns):
    """Why one CSV line does not parse, or None."""
    text = _content(line)
    if not text:
        return None
    fields = text.split(delimiter.encode())
    if n_columns is not None and len(fields) != n_columns:
        return f"{len(fields)} fields where the file has {n_columns}"
    for value in fields:
        if not _is_number(value):
            return f"{value.decode(errors='replace').strip()!r} is not a number"
    return None


def _span(path, first_line, block):
    """``"path, lines a-b"`` of a block."""
    newlines = block.count(b"\n")
    return f"{path}, lines {first_line}-{first_line + max(newlines - 1, 0)}"


def _locate(path, first_line, block, why_line, error):
    """The ``FileFormatError`` for a block that failed to parse."""
    for k, line in enumerate(block.split(b"\n")):
        why = why_line(line)
        if why is not None:
            return FileFormatError(f"{path}, line {first_line + k}: {why}.")
    return FileFormatError(f"{_span(path, first_line, block)}: {error}")


class DataFile:
    """A data file read in blocks of rows.

    Parameters
    ----------
    path : str
    file_format : {"libsvm", "csv", "parquet"} or None
        None: from the suffix (``guess_format``).
    chunk_bytes : int
        About how much of the file one block reads.
    label_column : int or str, default=0
        CSV and Parquet: the column of the labels (its index, or its name in the
        header); the other columns are the features.  libsvm: the first token.
    dtype : numpy dtype, default=float64
    n_threads : int, default=1
        libsvm: the threads that parse a block.
    """

    def __init__(self, path, file_format=None, chunk_bytes=256 << 20, label_column=0,
                 dtype=np.float64, n_threads=1):
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"No such data file: {self.path!r}.")
        self.format = file_format or guess_format(self.path)
        if self.format not in FORMATS:
            raise ValueError(f"The file format must be one of {FORMATS}; got "
                             f"{self.format!r}.")
        if int(chunk_bytes) < 1:
            raise ValueError(f"The chunk size must be a positive number of bytes; "
                             f"got {chunk_bytes!r}.")
        self.chunk_bytes = int(chunk_bytes)
        self.label_column = label_column
        self.dtype = np.dtype(dtype)
        self.n_threads = max(1, int(n_threads))
        self.size = os.path.getsize(self.path)
        self._header = None
        if self.format == "csv":
            self._header = self._csv_header()

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
            CSV and Parquet: whether the files has a label column (``predict``'s
            data may not); y is None otherwise.
        """
        if self.format == "libsvm":
            yield from self._libsvm_blocks(zero_based, n_features)
        elif self.format == "csv":
            yield from self._csv_blocks(labels)
        else:
            yield from self._parquet_blocks(labels)

    def _libsvm_blocks(self, zero_based, n_features):
        from fastgd import _libsvm

        shift = 1 if zero_based is False else 0
        for first_line, block in line_blocks(self.path, self.chunk_bytes):
            data, indices, indptr, y, bad = _libsvm.parse(block, self.n_threads)
            if bad >= 0:
                line = block.split(b"\n")[bad]
                why = _libsvm_line_error(line) or "it does not parse"
                raise FileFormatError(f"{self.path}, line {first_line + bad}: {why}.")
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

    def _csv_header(self):
        """The first line's names when it is a header (a field that is not a
        number), else None."""
        with open(self.path, "rb") as f:
            for line in f:
                text = _content(line)
                if not text:
                    continue
                fields = [v.strip().decode(errors="replace")
                          for v in text.split(b",")]
                return None if all(_is_number(v) for v in fields) else fields
        return None

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
        if self._header is not None:
            return len(self._header)
        with open(self.path, "rb") as f:
            for line in f:
                text = _content(line)
                if text:
                    return len(text.split(b","))
        return 0

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

    def _csv_blocks(self, labels):
        header_seen = self._header is None
        n_columns = self.n_columns()
        for first_line, block in line_blocks(self.path, self.chunk_bytes):
            skip = 0
            if not header_seen:  # the header is the first line that is not empty
                lines = block.split(b"\n")
                while not _content(lines[skip]):
                    skip += 1
                skip += 1
                header_seen = True
            try:
                table = np.loadtxt(io.BytesIO(block), delimiter=",", comments="#",
                                   skiprows=skip, dtype=self.dtype, ndmin=2)
            except ValueError as error:
                raise _locate(self.path, first_line + skip,
                              b"\n".join(block.split(b"\n")[skip:]),
                              lambda line: _csv_line_error(line, ",", n_columns),
                              error) from None
            if table.shape[0] == 0:
                continue
            if n_columns is None:
                n_columns = table.shape[1]
            elif table.shape[1] != n_columns:
                raise _locate(self.path, first_line, block,
                              lambda line: _csv_line_error(line, ",", n_columns),
                              f"{table.shape[1]} columns where the file has "
                              f"{n_columns}")
            yield self._split(table, labels)

    def _parquet_file(self):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError("Reading Parquet files needs pyarrow: pip install "
                              "pyarrow.") from None
        return pq.ParquetFile(self.path)

    def _parquet_names(self):
        return list(self._parquet_file().schema_arrow.names)

    def _parquet_blocks(self, labels):
        parquet = self._parquet_file()
        n_columns = len(parquet.schema_arrow.names)
        rows = max(1, self.chunk_bytes // (8 * max(n_columns, 1)))
        for batch in parquet.iter_batches(batch_size=rows):
            table = np.column_stack([np.asarray(c.to_numpy(zero_copy_only=False),
                                                dtype=self.dtype)
                                     for c in batch.columns])
            yield self._split(table, labels)

    # ------------------------------------------------------------------- scan
    def scan(self):
        """One pass: the rows, the features, the distinct labels, and (libsvm)
        whether the indices count from 0.

        Returns
        -------
        FileSummary
        """
        summary = FileSummary()
        labels, lowest = [], None
        for X, y in self.blocks():
            summary.n_rows += X.shape[0]
            summary.n_features = max(summary.n_features, X.shape[1])
            labels.append(np.unique(y))
            if sp.issparse(X) and X.nnz:
                low = int(X.indices.min())
                lowest = low if lowest is None else min(lowest, low)
        summary.labels = (np.unique(np.concatenate(labels)) if labels
                          else np.empty(0))
        if self.format == "libsvm":
            summary.zero_based = lowest == 0
            if not summary.zero_based:
                summary.n_features = max(summary.n_features - 1, 0)
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
            raise ValueError(f"{self.path} holds no rows.")
        summary = FileSummary(n_rows=start, labels=np.unique(np.concatenate(labels)))
        if self.format == "libsvm":
            width = max(X.shape[1] for Xs, _ in parts.values() for X in Xs)
            lowest = min((int(X.indices.min()) for Xs, _ in parts.values()
                          for X in Xs if X.nnz), default=0)
            summary.zero_based = lowest == 0
            summary.n_features = width - (0 if summary.zero_based else 1)
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
