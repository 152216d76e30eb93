# cython: language_level=3
r"""libsvm / svmlight text parsed into CSR arrays, in parallel over lines.

Design
------
* The input is a block of whole lines held in a ``bytes`` object
  (``_files.lines.line_blocks`` reads the file block by block); ``bytes`` end in a
  NUL byte, so the C library's number parsers never read past the block.
* Three passes over the block, each in parallel (``prange``, ``n_threads``): find
  where every line starts (each thread counts the line ends of an equal byte range,
  then writes the starts of its lines); count each line's ``index:value`` entries;
  after a prefix sum over the lines (the rows' ``indptr``), parse each line's label,
  indices and values into their places.  A line's entries land at the same place
  whatever the thread count, so the arrays do not depend on it.
* The grammar is scikit-learn's (``load_svmlight_file``): a line ends at ``\n`` only;
  a comment runs from ``#`` to the line's end; the blanks between tokens are the
  ASCII blanks of Python's ``bytes.split()`` (space, ``\t``, ``\r``, ``\v``, ``\f``);
  blank and comment lines are skipped; a ``qid:...`` token right after the label is
  skipped; the indices of a line must increase; an index is at most 2**31 - 1, kept
  as written (the caller decides whether the file counts from 0 or 1).
* Fast path and slow path: the parser here reads the common spellings only, an index
  of decimal digits and a number that is a plain decimal (``-1.5e-3``, ``.5``, ``5.``)
  or ``inf`` / ``infinity`` / ``nan`` in any case, so it never accepts what Python's
  ``float()`` refuses (hex ``0x1p3``, ``nan(...)``) nor reads past a line.  Every
  other line, and a line with a NUL byte in it, is left to the caller
  (``_files.libsvm.read_libsvm_line``, in Python, with scikit-learn's ``int()``
  and ``float()``): it parses the rare spelling the fast path leaves out
  (``1_000``, ``+3:1``) into the places the parser kept for it, or says what is
  wrong.
* Numbers: the exact fast path of Clinger (1990) for the common case, a decimal of
  at most 15 significant digits and a power of ten within 1e-22 .. 1e22 (the
  digits as an integer, then one multiplication or division by an exact power of
  ten: correctly rounded); any other decimal goes to ``strtod`` (C locale, which
  Python keeps unless told otherwise), given only a token already checked to be a
  decimal.  Both give the double nearest to the text, as Python's ``float`` does.
* Threads: at most the machine's cores (``usable_threads``; more only cost, and a
  very large count made the OpenMP thread start fail), and one for a block under
  ``MIN_PARALLEL_BYTES`` (waking a second thread cost more than it saved: on a
  busy 2-core machine, 800 us against 50 us for a block of three lines).
* A line the fast path leaves out stops nothing in the other lines: ``parse_block``
  returns every such line (its number in the block, its row, where it starts).
"""

import os

from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY, NAN
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport strtod
from libc.string cimport memchr

import numpy as np

cdef int64_t INDEX_LIMIT = 2147483647
cdef double[23] POW10
cdef int _k
POW10[0] = 1.0
for _k in range(1, 23):
    POW10[_k] = POW10[_k - 1] * 10.0  # exact: 10**22 < 2**53 * 2**22


cdef inline bint is_space(char c) noexcept nogil:
    r"""A blank within a line: space, \t, \v, \f, \r (``bytes.split()``'s, less \n)."""
    return c == c' ' or (c'\t' <= c <= c'\r' and c != c'\n')


cdef inline bint ends_token(char c) noexcept nogil:
    return c == 0 or c == c'\n' or c == c'#' or is_space(c)


cdef inline bint ends_line(char c) noexcept nogil:
    """The end of a line's content: its end, a comment, a NUL."""
    return c == 0 or c == c'\n' or c == c'#'


cdef inline const char* skip_space(const char* p) noexcept nogil:
    while is_space(p[0]):
        p += 1
    return p


cdef inline const char* skip_token(const char* p) noexcept nogil:
    while not ends_token(p[0]):
        p += 1
    return p


cdef inline bint is_qid(const char* p) noexcept nogil:
    return p[0] == c'q' and p[1] == c'i' and p[2] == c'd' and p[3] == c':'


cdef inline int take_digits(const char** s, uint64_t* mantissa,
                            int* significant) noexcept nogil:
    """Read the decimal digits at ``s[0]`` into ``mantissa`` (leading zeros are not
    significant) and move past them; return how many there were."""
    cdef int n = 0
    while c'0' <= s[0][0] <= c'9':
        if mantissa[0] or s[0][0] != c'0':
            mantissa[0] = mantissa[0] * 10 + <uint64_t>(s[0][0] - c'0')
            significant[0] += 1
        s[0] += 1
        n += 1
    return n


cdef inline int word_length(const char* s, const char* word) noexcept nogil:
    """The length of ``word`` (lower case) when ``s`` starts with it in any case,
    else 0."""
    cdef int n = 0
    while word[n]:
        if (s[n] | 0x20) != word[n]:
            return 0
        n += 1
    return n


cdef inline double parse_special(const char* p, const char* s, bint negative,
                                 char** end) noexcept nogil:
    """``inf``, ``infinity`` or ``nan`` (any case) at ``s``, a whole token; ``end``
    is set past it, or to ``p`` when it is none of them."""
    cdef int n = word_length(s, b"infinity")
    cdef double value = INFINITY
    if n == 0:
        n = word_length(s, b"inf")
    if n == 0:
        n = word_length(s, b"nan")
        value = NAN
    if n == 0 or not ends_token(s[n]):
        end[0] = <char*>p
        return 0.0
    end[0] = <char*>(s + n)
    return -value if negative else value


cdef inline double parse_double(const char* p, char** end) noexcept nogil:
    """The number that is the whole token at ``p``: a plain decimal (Clinger's fast
    path, else ``strtod``) or ``parse_special``'s words; ``end`` is set past it, or
    to ``p`` when the token is not one of these."""
    cdef const char* s = p
    cdef bint negative = False
    cdef uint64_t mantissa = 0
    cdef int significant = 0, exponent = 0, written = 0, shift = 0
    cdef bint digits = False, exp_negative = False
    cdef double value
    if s[0] == c'-':
        negative = True
        s += 1
    elif s[0] == c'+':
        s += 1
    digits = take_digits(&s, &mantissa, &significant) > 0
    if s[0] == c'.':
        s += 1
        shift = -take_digits(&s, &mantissa, &significant)
        if not digits and shift == 0:  # a point without digits: ".", "-.inf"
            end[0] = <char*>p
            return 0.0
        digits = True
    if not digits:
        return parse_special(p, s, negative, end)
    if s[0] == c'e' or s[0] == c'E':
        s += 1
        if s[0] == c'-':
            exp_negative = True
            s += 1
        elif s[0] == c'+':
            s += 1
        while c'0' <= s[0] <= c'9':
            if written < 5:
                exponent = exponent * 10 + (s[0] - c'0')
            written += 1
            s += 1
        if written == 0:
            end[0] = <char*>p
            return 0.0
        if exp_negative:
            exponent = -exponent
    if not ends_token(s[0]):  # 0x1p3, 1_000, 1.5.2: not a plain decimal
        end[0] = <char*>p
        return 0.0
    exponent += shift
    if significant > 15 or written > 4 or exponent < -22 or exponent > 22:
        return strtod(p, end)  # a checked decimal: strtod reads exactly the token
    value = <double>mantissa
    if exponent < 0:
        value = value / POW10[-exponent]
    else:
        value = value * POW10[exponent]
    end[0] = <char*>s
    return -value if negative else value


cdef int64_t count_entries(const char* p, const char* block_end) noexcept nogil:
    """The index:value entries of the line at ``p``: -1 for a blank or comment
    line (no label), else the tokens after the label, a qid left out.  A NUL before
    ``block_end`` makes a line that is not blank (``parse_line`` refuses it)."""
    cdef int64_t n = 0
    cdef bint first = True
    p = skip_space(p)
    if p[0] == c'\n' or p[0] == c'#' or (p[0] == 0 and p == block_end):
        return -1
    p = skip_token(p)  # the label
    while True:
        p = skip_space(p)
        if ends_line(p[0]):
            return n
        if not (first and is_qid(p)):
            n += 1
        first = False
        p = skip_token(p)


cdef bint parse_line(const char* p, const char* block_end, double* label,
                     int32_t* indices, double* values) noexcept nogil:
    """Parse the line at ``p`` (not blank) into its label and entries; False when
    the fast path leaves it out (a spelling it does not read, indices that do not
    increase, a NUL byte)."""
    cdef char* end
    cdef int64_t index, previous = -1
    cdef int64_t k = 0
    cdef bint first = True
    p = skip_space(p)
    label[0] = parse_double(p, &end)
    if end == p:
        return False
    p = end
    while True:
        p = skip_space(p)
        if ends_line(p[0]):
            return p[0] != 0 or p == block_end
        if first and is_qid(p):
            p = skip_token(p + 4)
            first = False
            continue
        first = False
        if p[0] < c'0' or p[0] > c'9':
            return False
        index = 0
        while c'0' <= p[0] <= c'9':
            index = index * 10 + (p[0] - c'0')
            if index > INDEX_LIMIT:
                return False
            p += 1
        if p[0] != c':' or index <= previous:
            return False
        p += 1
        values[k] = parse_double(p, &end)
        if end == p:
            return False
        indices[k] = <int32_t>index
        previous = index
        k += 1
        p = end


#: blocks smaller than this are parsed by one thread
MIN_PARALLEL_BYTES = 1 << 16


def usable_threads(n_threads):
    """``n_threads`` (at least 1) capped to the machine's cores.

    Parameters
    ----------
    n_threads : int

    Returns
    -------
    int
    """
    return max(1, min(int(n_threads), os.cpu_count() or 1))


def parse(bytes block, n_threads=1, min_parallel_bytes=MIN_PARALLEL_BYTES):
    """Parse a block of libsvm lines by the fast path alone: ``parse_block``'s
    arrays (same parameters), with only the first line it leaves out.

    Returns
    -------
    data, indices, indptr, labels
        As ``parse_block``'s.
    bad_line : int
        The 0-based number (within the block) of the first line that the fast path
        leaves out, or -1.
    """
    data, indices, indptr, labels, left_out, _, _ = parse_block(
        block, n_threads, min_parallel_bytes)
    return data, indices, indptr, labels, int(left_out[0]) if left_out.size else -1


def parse_block(bytes block, n_threads=1, min_parallel_bytes=MIN_PARALLEL_BYTES):
    """Parse a block of libsvm lines; list the lines the fast path leaves out.

    Parameters
    ----------
    block : bytes
        Whole lines.
    n_threads : int, default=1
        Capped to the machine's cores (``usable_threads``).
    min_parallel_bytes : int, default=MIN_PARALLEL_BYTES
        A smaller block is parsed by one thread.

    Returns
    -------
    data : ndarray of float64
    indices : ndarray of int32
        As written in the file.
    indptr : ndarray of int64
    labels : ndarray of float64
    left_out : ndarray of int64
        The 0-based numbers (within the block), in order, of the lines the fast path
        leaves out; their rows' places in the arrays are kept, with as many entries
        as the line has tokens after its label (a qid left out), and hold no data.
    left_out_rows : ndarray of int64
        Their rows.
    left_out_starts : ndarray of int64
        Where they start in ``block``.
    """
    cdef const char* text = block
    cdef int64_t size = len(block)
    cdef const char* block_end = text + size
    cdef int threads = usable_threads(n_threads) if size >= min_parallel_bytes else 1
    cdef int n_parts = max(1, min(threads, <int>(size // 65536) + 1))
    cdef int64_t[::1] part_start = np.empty(n_parts + 1, dtype=np.int64)
    cdef int64_t[::1] part_lines = np.zeros(n_parts + 1, dtype=np.int64)
    cdef int64_t t, a, b, pos, n_lines, line, row, n_rows, total
    cdef const char* hit
    # the parts begin at line starts
    part_start[0] = 0
    for t in range(1, n_parts):
        pos = size * t // n_parts
        hit = <const char*>memchr(text + pos, c'\n', size - pos) if pos < size else NULL
        part_start[t] = size if hit == NULL else (hit - text) + 1
        if part_start[t] < part_start[t - 1]:
            part_start[t] = part_start[t - 1]
    part_start[n_parts] = size
    # lines per part (a part's lines: its starts, the last may lack its end)
    with nogil, parallel(num_threads=n_parts, use_threads_if=n_parts > 1):
        for t in prange(n_parts, schedule="static"):
            a = part_start[t]
            b = part_start[t + 1]
            part_lines[t + 1] = 0
            pos = a
            while pos < b:
                part_lines[t + 1] += 1
                hit = <const char*>memchr(text + pos, c'\n', b - pos)
                if hit == NULL:
                    break
                pos = (hit - text) + 1
    for t in range(n_parts):
        part_lines[t + 1] += part_lines[t]
    n_lines = part_lines[n_parts]
    cdef int64_t[::1] starts = np.empty(n_lines, dtype=np.int64)
    cdef int64_t[::1] counts = np.empty(n_lines + 1, dtype=np.int64)
    with nogil, parallel(num_threads=n_parts, use_threads_if=n_parts > 1):
        for t in prange(n_parts, schedule="static"):
            a = part_start[t]
            b = part_start[t + 1]
            line = part_lines[t]
            pos = a
            while pos < b:
                starts[line] = pos
                line = line + 1
                hit = <const char*>memchr(text + pos, c'\n', b - pos)
                if hit == NULL:
                    break
                pos = (hit - text) + 1
    for line in prange(n_lines, nogil=True, num_threads=threads,
                       use_threads_if=threads > 1, schedule="static"):
        counts[line + 1] = count_entries(text + starts[line], block_end)
    # rows: the lines with a label; indptr over them
    cdef int64_t[::1] row_of = np.empty(n_lines, dtype=np.int64)
    n_rows = 0
    total = 0
    for line in range(n_lines):
        if counts[line + 1] >= 0:
            row_of[line] = n_rows
            n_rows += 1
            total += counts[line + 1]
        else:
            row_of[line] = -1
    indptr_arr = np.empty(n_rows + 1, dtype=np.int64)
    cdef int64_t[::1] indptr = indptr_arr
    indptr[0] = 0
    for line in range(n_lines):
        if row_of[line] >= 0:
            indptr[row_of[line] + 1] = indptr[row_of[line]] + counts[line + 1]
    data_arr = np.empty(total, dtype=np.float64)
    indices_arr = np.empty(total, dtype=np.int32)
    labels_arr = np.empty(n_rows, dtype=np.float64)
    cdef double[::1] data = data_arr
    cdef int32_t[::1] indices = indices_arr
    cdef double[::1] labels = labels_arr
    bad_arr = np.zeros(n_lines, dtype=np.uint8)
    cdef unsigned char[::1] bad = bad_arr
    cdef double* data_ptr = &data[0] if total > 0 else NULL
    cdef int32_t* indices_ptr = &indices[0] if total > 0 else NULL
    for line in prange(n_lines, nogil=True, num_threads=threads,
                       use_threads_if=threads > 1, schedule="static"):
        row = row_of[line]
        if row >= 0:
            if not parse_line(text + starts[line], block_end, &labels[row],
                              indices_ptr + indptr[row], data_ptr + indptr[row]):
                bad[line] = 1
    left_out = np.flatnonzero(bad_arr).astype(np.int64)
    return (data_arr, indices_arr, indptr_arr, labels_arr, left_out,
            np.asarray(row_of)[left_out], np.asarray(starts)[left_out])
