"""CSV files read in blocks of rows (named so that it cannot shadow the stdlib's csv).

Lines end at ``\\n``, ``#`` starts a comment, the fields of a line are split at
commas and each is a number that Python's ``float()`` reads (blanks around it
allowed).  A UTF-8 byte-order mark at the start is dropped.  The first line of data
(after blank and comment lines) is a header when every field is a name (not empty,
printable, not a number, not a missing-value marker such as NA), or when
``header=True``; a first line of numbers and anything else is data, and its bad field
an error, never a lost row.  A block of plain ASCII text is parsed by NumPy's
``loadtxt``; any other block, or one ``loadtxt`` refuses, line by line in Python,
which names the first bad field.  ``CsvFile.tables`` yields every column, labels
included: ``DataFile`` splits the label column off.
"""
import csv
import io
import warnings

import numpy as np

from fastgd._files.formats import FileFormatError
from fastgd._files.lines import BOM, content, drop_lines, line_blocks, shown

#: the bytes of plain CSV text, which NumPy's loadtxt reads as float() does
_PLAIN_TEXT = bytes(range(0x20, 0x7f)) + b"\t\n\v\f\r"
#: fields that mark a missing value: not a column's name
_MISSING = frozenset(["", "na", "n/a", "nan", "null", "none", "nil", "missing", "?"])


def _is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


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


def _loadtxt(block, dtype):
    """NumPy's parse of a block of CSV lines, or None where it refuses it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
        try:
            return np.loadtxt(io.BytesIO(block), delimiter=",", comments="#",
                              dtype=dtype, ndmin=2)
        except ValueError:
            return None


class CsvFile:
    """A CSV file's header and its blocks of rows as tables of numbers.

    Parameters
    ----------
    path : str
    chunk_bytes : int
        About how much of the file one block reads.
    dtype : numpy dtype
    header : bool or None
        Whether the first line of data is a header; None: when every field of it is
        a name.

    Attributes
    ----------
    names : list of str or None
        The header's names (None: the file has no header).
    n_columns : int
        The columns of the first line of data (0: the file has none).
    """

    def __init__(self, path, chunk_bytes, dtype, header):
        self.path = path
        self.chunk_bytes = chunk_bytes
        self.dtype = dtype
        self.header = header
        self.names, self.n_columns = None, 0
        self._header_line = self._first_data_line = 0  # line numbers; 0: none
        self._read_header()

    def _read_header(self):
        """Find the first line of data (after a byte-order mark, blank lines and
        comments): the header's names and line when it is one, and the number of
        columns."""
        header = self.header
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, 1):
                if number == 1 and line.startswith(BOM):
                    line = line[len(BOM):]
                text = content(line)
                if not text:
                    continue
                names = _header_names(text)
                if header is None:
                    header = names is not None and all(_is_name(n) for n in names)
                if header:
                    self.names = names if names is not None else [
                        shown(v.strip()) for v in text.split(b",")]
                    self._header_line = number
                    self.n_columns = len(self.names)
                else:
                    self.n_columns = len(text.split(b","))
                self._first_data_line = number
                return

    def _data_blocks(self):
        """Yield ``(first line number, bytes)``: the file's blocks without the
        byte-order mark and the lines up to the header."""
        for first_line, block in line_blocks(self.path, self.chunk_bytes):
            if first_line == 1 and block.startswith(BOM):
                block = block[len(BOM):]
            before_data = self._header_line - first_line + 1
            if before_data > 0:
                block = drop_lines(block, before_data)
                first_line += before_data
            if block:
                yield first_line, block

    def _column(self, k):
        """How an error names the ``k``-th column (from 0)."""
        if self.names is not None:
            return f"column {self.names[k]!r} ({k + 1})"
        return f"column {k + 1}"

    def _row(self, number, text):
        """The numbers of one CSV line (``text``: without its comment)."""
        fields = text.split(b",")
        if len(fields) != self.n_columns:
            raise FileFormatError(f"{self.path}, line {number}: {len(fields)} fields "
                                  f"where the file has {self.n_columns}.")
        row = []
        for k, value in enumerate(fields):
            try:
                row.append(float(value.decode("utf-8", errors="replace")))
            except ValueError:
                raise FileFormatError(
                    f"{self.path}, line {number}, {self._column(k)}: "
                    f"{shown(value.strip())!r} is not a number"
                    f"{self._header_hint(number)}.") from None
        return row

    def _header_hint(self, number):
        """What an error on the first line of data adds when no header was found."""
        if self.header is None and self.names is None and (
                number == self._first_data_line):
            return (f" (line {number} is read as data: a header needs a name in "
                    f"every column; header=True or --header reads it as one)")
        return ""

    def _rows(self, first_line, block):
        """A block of CSV lines parsed line by line in Python."""
        rows = []
        for k, line in enumerate(block.split(b"\n")):
            text = line.split(b"#", 1)[0]
            if text.strip():
                rows.append(self._row(first_line + k, text))
        return np.array(rows, dtype=self.dtype).reshape(len(rows), self.n_columns)

    def _table(self, first_line, block):
        """A block of CSV lines as an array: NumPy's parse of plain text, else
        ``_rows``."""
        if not block.translate(None, _PLAIN_TEXT):
            table = _loadtxt(block, self.dtype)
            if table is not None and (table.shape[0] == 0
                                      or table.shape[1] == self.n_columns):
                return table
        return self._rows(first_line, block)

    def tables(self):
        """Yield each block's rows as a 2-D array of every column, in file order
        (blocks without a row of data are left out).

        Raises
        ------
        FileFormatError
            A field that is not a number or a line of another number of fields,
            naming the line and the column.
        """
        for first_line, block in self._data_blocks():
            table = self._table(first_line, block)
            if table.shape[0]:
                yield table
