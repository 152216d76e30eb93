"""Data files read in blocks of rows: ``DataFile``, one face for libsvm, CSV and Parquet.

A file is read a block at a time (about ``chunk_bytes`` of whole lines; Parquet: row
batches of about that size), so a file larger than memory is never held whole, and a
pass over it reads it again.  Every error is a ``FileFormatError`` (a ``ValueError``):
one sentence that names the file, the line (and the column) and what was expected.

``DataFile`` checks its arguments, settles the format (``formats``) and hands the
reading to the format's reader (``libsvm``, ``delimited``, ``parquet``); it splits
the label column off the tables of CSV and Parquet.  Over the blocks it offers two
passes: ``scan`` (the rows, the features, the distinct labels, libsvm's index base,
with a callback per block) and ``read_all`` (the whole file in memory, split into the
rows to train on and those held out).  A file with no rows (only comments, blank
lines or a header) is refused by both.
"""
import numbers
import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import scipy.sparse as sp

from fastgd._files.delimited import CsvFile
from fastgd._files.formats import FileFormatError, checked_format
from fastgd._files.libsvm import LibsvmFile, libsvm_width, stacked
from fastgd._files.parquet import ParquetFile


@dataclass
class FileSummary:
    """What a first pass over a file found (``DataFile.scan``)."""

    n_rows: int = 0
    n_features: int = 0
    labels: np.ndarray = field(default_factory=lambda: np.empty(0))
    zero_based: Optional[bool] = None
    feature_names: Optional[list] = None


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
        self.format = checked_format(self.path, file_format)
        self.chunk_bytes = int(chunk_bytes)
        self.label_column = label_column
        self.dtype = np.dtype(dtype)
        self.n_threads = int(n_threads)
        self.size = os.path.getsize(self.path)
        self.header = header
        if self.format == "libsvm":
            self._reader = LibsvmFile(self.path, self.chunk_bytes, self.dtype,
                                      self.n_threads)
        elif self.format == "csv":
            self._reader = CsvFile(self.path, self.chunk_bytes, self.dtype, header)
        else:
            self._reader = ParquetFile(self.path, self.chunk_bytes, self.dtype)

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

        Yields
        ------
        (X, y)
            X: a CSR matrix (libsvm) or a 2-D array; y: an array, or None.
        """
        if self.format == "libsvm":
            yield from self._reader.blocks(zero_based, n_features)
            return
        for table in self._reader.tables():
            yield self._split(table, labels)

    def _names(self):
        """The columns' names (CSV's header, Parquet's schema), or None."""
        if self.format == "csv":
            return self._reader.names
        return self._reader.names() if self.format == "parquet" else None

    def label_index(self, n_columns):
        """The position of the label column among ``n_columns``."""
        column = self.label_column
        if isinstance(column, str) and not column.lstrip("-").isdigit():
            names = self._names()
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
            return len(self._reader.names())
        return self._reader.n_columns if self.format == "csv" else None

    @property
    def feature_names(self):
        """The features' names from a CSV header or a Parquet schema, else None."""
        names = self._names()
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

    # ------------------------------------------------------------ whole passes
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
            summary.n_features = libsvm_width(summary.n_features, summary.zero_based)
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
            summary.n_features = libsvm_width(width, summary.zero_based)
        else:
            summary.feature_names = self.feature_names
            summary.n_features = next(X.shape[1] for Xs, _ in parts.values()
                                      for X in Xs)
        return (self._stack(*parts[False], summary), self._stack(*parts[True], summary),
                summary)

    def _stack(self, Xs, ys, summary):
        """One (X, y) of blocks' rows, libsvm's indices shifted as ``summary``
        says."""
        if self.format == "libsvm":
            return stacked(Xs, ys, summary.zero_based, summary.n_features, self.dtype)
        if not Xs:
            return np.empty((0, summary.n_features), self.dtype), np.empty(0)
        return (np.concatenate(Xs) if len(Xs) > 1 else Xs[0]), np.concatenate(ys)
