"""libsvm / svmlight files read in blocks of rows: the fast parser and its checker.

A line is read as scikit-learn's ``load_svmlight_file`` reads it, or refused where it
refuses (unsorted or repeated indices, a number ``float()`` does not read), and
besides on a NUL byte in a line.  ``_libsvm`` parses a block in parallel by a fast
path for the common spellings; each line it leaves out is read here by
``read_libsvm_line`` (scikit-learn's ``int()`` and ``float()``), which fills the
line's places or says what is wrong.  Indices are parsed as written and shifted by
``LibsvmFile.blocks`` (or ``stacked``, for a file read whole): whether a file counts
from one is decided once for the whole file (by ``DataFile.scan`` or
``DataFile.read_all``: an index and no index 0 anywhere is one-based, scikit-learn's
``"auto"`` rule), not block by block; a file without any index has one column, as in
scikit-learn (``libsvm_width``).
"""
import numpy as np
import scipy.sparse as sp

from fastgd._files.formats import FileFormatError
from fastgd._files.lines import line_at, line_blocks, shown, span

_EXPECTED = "expected 'label index:value ...'"
_INDEX_LIMIT = 2**31 - 1


class LineError(ValueError):
    """Why one line does not parse (without the file and line number)."""


def _entry(token, previous):
    """The index and value of one ``index:value`` token of a libsvm line, whose
    previous index is ``previous`` (-1 for none)."""
    name, colon, value = token.partition(b":")
    if not colon:
        raise LineError(f"{shown(token)!r} is not index:value; {_EXPECTED}")
    try:
        index = int(name)
    except ValueError:
        index = -1
    if not 0 <= index <= _INDEX_LIMIT:
        raise LineError(f"the index of {shown(token)!r} is not an integer from 0 to "
                        f"2**31 - 1; {_EXPECTED}")
    if index <= previous:
        raise LineError(f"the index of {shown(token)!r} is not above the index "
                        f"before it ({previous}); expected the indices of a line "
                        f"sorted and unique, as scikit-learn reads them")
    try:
        return index, float(value)
    except ValueError:
        raise LineError(f"the value of {shown(token)!r} is not a number; "
                        f"{_EXPECTED}") from None


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
        raise LineError(f"the label {shown(tokens[0])!r} is not a number; "
                        f"{_EXPECTED}") from None
    entries = tokens[1:]
    if entries and entries[0].startswith(b"qid:"):
        entries = entries[1:]
    indices, values = [], []
    for token in entries:
        index, value = _entry(token, indices[-1] if indices else -1)
        indices.append(index)
        values.append(value)
    return label, indices, values


def libsvm_line_error(line):
    """Why one libsvm line does not parse, or None.

    Parameters
    ----------
    line : bytes
        The line, without its ``\\n``.

    Returns
    -------
    str or None
    """
    try:
        read_libsvm_line(line)
    except LineError as error:
        return str(error)
    return None


def libsvm_width(width, zero_based):
    """The features of a libsvm file whose largest index is ``width - 1`` as
    written: scikit-learn's count, at least one (a file without an index)."""
    return max(width - (0 if zero_based else 1), 1)


class LibsvmFile:
    """A libsvm file's blocks of rows as CSR matrices and labels.

    Parameters
    ----------
    path : str
    chunk_bytes : int
        About how much of the file one block reads.
    dtype : numpy dtype
        Of X's values (the labels are float64).
    n_threads : int
        The threads that parse a block.
    """

    def __init__(self, path, chunk_bytes, dtype, n_threads):
        self.path = path
        self.chunk_bytes = chunk_bytes
        self.dtype = dtype
        self.n_threads = n_threads

    def _arrays(self, first_line, block):
        """A block's CSR arrays and labels, indices as written: the fast parser's,
        with the lines it leaves out read by ``read_libsvm_line``."""
        from fastgd._files import _libsvm

        data, indices, indptr, y, lines, rows, starts = _libsvm.parse_block(
            block, self.n_threads)
        for line, row, start in zip(lines.tolist(), rows.tolist(), starts.tolist()):
            try:
                label, row_indices, row_values = read_libsvm_line(
                    line_at(block, start))
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

    def blocks(self, zero_based, n_features):
        """Yield ``(X, y)`` block by block, in file order.

        Parameters
        ----------
        zero_based : bool or None
            Whether indices count from 0 (None: as written, unshifted).
        n_features : int or None
            The number of columns of X (None: as many as the block uses); a larger
            index is an error.

        Yields
        ------
        (scipy.sparse.csr_matrix, ndarray)
        """
        shift = 1 if zero_based is False else 0
        for first_line, block in line_blocks(self.path, self.chunk_bytes):
            data, indices, indptr, y = self._arrays(first_line, block)
            width = int(indices.max()) + 1 if indices.size else 0
            if shift:
                if indices.size and indices.min() == 0:
                    raise FileFormatError(
                        f"{span(self.path, first_line, block)}: index 0 in a file "
                        f"whose indices count from 1.")
                indices -= 1
                width = max(width - 1, 0)
            if n_features is not None:
                if width > n_features:
                    raise FileFormatError(
                        f"{span(self.path, first_line, block)}: feature index "
                        f"{width - 1 + shift} is past the {n_features} features "
                        f"of the model.")
                width = n_features
            X = sp.csr_matrix((data.astype(self.dtype, copy=False), indices, indptr),
                              shape=(len(indptr) - 1, width))
            yield X, y


def stacked(Xs, ys, zero_based, n_features, dtype):
    """One ``(X, y)`` of libsvm blocks read as written (``blocks(None, None)``),
    widened to the file's features and shifted as ``zero_based`` says.

    Parameters
    ----------
    Xs, ys : lists of CSR matrices and arrays
        Their indices as written; the matrices are resized in place.
    zero_based : bool
    n_features : int
        The file's features (``libsvm_width``).
    dtype : numpy dtype
        Of an empty X.

    Returns
    -------
    (scipy.sparse.csr_matrix, ndarray)
    """
    shift = 0 if zero_based else 1
    width = n_features + shift
    for X in Xs:
        X.resize(X.shape[0], width)
    X = (sp.vstack(Xs, format="csr") if len(Xs) > 1 else Xs[0] if Xs
         else sp.csr_matrix((0, width), dtype=dtype))
    if shift:
        X.indices -= 1
        X = sp.csr_matrix((X.data, X.indices, X.indptr),
                          shape=(X.shape[0], n_features))
    return X, (np.concatenate(ys) if ys else np.empty(0))
