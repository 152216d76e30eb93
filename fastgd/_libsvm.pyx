# cython: language_level=3
"""libsvm / svmlight text parsed into CSR arrays, in parallel over lines.

Design
------
* The input is a block of whole lines held in a ``bytes`` object (``_files`` reads
  the file block by block); ``bytes`` end in a NUL byte, so the C library's number
  parsers never read past the block.
* Three passes over the block, each in parallel (``prange``, ``n_threads``): find
  where every line starts (each thread counts the line ends of an equal byte range,
  then writes the starts of its lines); count each line's ``index:value`` entries;
  after a prefix sum over the lines (the rows' ``indptr``), parse each line's label,
  indices and values into their places.  A line's entries land at the same place
  whatever the thread count, so the arrays do not depend on it.
* Skipped as in scikit-learn's reader: blank lines, comments (``#`` to the end of
  the line), a ``qid:N`` token after the label.  Indices are non-negative decimal
  integers below 2**31, kept as written (the caller decides whether the file counts
  from 0 or 1).
* Numbers: the exact fast path of Clinger (1990) for the common case, a decimal of
  at most 15 significant digits and a power of ten within 1e-22 .. 1e22 (the
  digits as an integer, then one multiplication or division by an exact power of
  ten: correctly rounded); anything else (more digits, nan, inf, hex) goes to
  ``strtod`` (C locale, which Python keeps unless told otherwise).  Both give the
  double nearest to the text, as Python's ``float`` does.
* A line that does not parse stops nothing in the other lines: the first bad
  line's number is returned, and the caller rescans that line to say why.
"""

from cython.parallel cimport parallel, prange, threadid
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


cdef inline double parse_double(const char* p, char** end) noexcept nogil:
    """The number at ``p`` (Clinger's fast path, else ``strtod``); ``end`` is set
    past it (to ``p`` when there is none)."""
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
        digits = digits or shift < 0
    if not digits or significant > 15:
        return strtod(p, end)
    if s[0] == c'e' or s[0] == c'E':
        s += 1
        if s[0] == c'-':
            exp_negative = True
            s += 1
        elif s[0] == c'+':
            s += 1
        if not (c'0' <= s[0] <= c'9'):
            return strtod(p, end)
        while c'0' <= s[0] <= c'9':
            if written < 5:
                exponent = exponent * 10 + (s[0] - c'0')
            written += 1
            s += 1
        if written > 4:
            return strtod(p, end)
        if exp_negative:
            exponent = -exponent
    exponent += shift
    if exponent < -22 or exponent > 22 or not ends_token(s[0]):
        return strtod(p, end)  # e.g. 0x1p3: strtod's, or an error
    value = <double>mantissa
    if exponent < 0:
        value = value / POW10[-exponent]
    else:
        value = value * POW10[exponent]
    end[0] = <char*>s
    return -value if negative else value


cdef inline bint is_space(char c) noexcept nogil:
    return c == c' ' or c == c'\t' or c == c'\r'


cdef inline bint ends_token(char c) noexcept nogil:
    return c == 0 or c == c'\n' or c == c'#' or is_space(c)


cdef inline const char* skip_space(const char* p) noexcept nogil:
    while is_space(p[0]):
        p += 1
    return p


cdef inline bint is_qid(const char* p) noexcept nogil:
    return p[0] == c'q' and p[1] == c'i' and p[2] == c'd' and p[3] == c':'


cdef int64_t count_entries(const char* p) noexcept nogil:
    """The index:value entries of the line at ``p``: -1 for a blank or comment
    line (no label), else the tokens after the label, a qid left out."""
    cdef int64_t n = 0
    cdef bint first = True
    p = skip_space(p)
    if ends_token(p[0]) and not is_space(p[0]):
        return -1
    while not (p[0] == 0 or p[0] == c'\n' or p[0] == c'#'):  # the label
        if is_space(p[0]):
            break
        p += 1
    while True:
        p = skip_space(p)
        if p[0] == 0 or p[0] == c'\n' or p[0] == c'#':
            return n
        if not (first and is_qid(p)):
            n += 1
        first = False
        while not ends_token(p[0]):
            p += 1


cdef bint parse_line(const char* p, double* label, int32_t* indices,
                     double* values) noexcept nogil:
    """Parse the line at ``p`` (not blank) into its label and entries; False when
    a token does not parse."""
    cdef char* end
    cdef int64_t index
    cdef int64_t k = 0
    cdef bint first = True
    p = skip_space(p)
    label[0] = parse_double(p, &end)
    if end == p or not ends_token(end[0]):
        return False
    p = end
    while True:
        p = skip_space(p)
        if p[0] == 0 or p[0] == c'\n' or p[0] == c'#':
            return True
        if first and is_qid(p):
            p += 4
            while not ends_token(p[0]):
                p += 1
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
        if p[0] != c':':
            return False
        p += 1
        if ends_token(p[0]):  # strtod would skip the line end, into the next line
            return False
        values[k] = parse_double(p, &end)
        if end == p or not ends_token(end[0]):
            return False
        indices[k] = <int32_t>index
        k += 1
        p = end


def parse(bytes block, int n_threads=1):
    """Parse a block of libsvm lines.

    Parameters
    ----------
    block : bytes
        Whole lines.
    n_threads : int, default=1

    Returns
    -------
    data : ndarray of float64
    indices : ndarray of int32
        As written in the file.
    indptr : ndarray of int64
    labels : ndarray of float64
    bad_line : int
        The 0-based number (within the block) of the first line that does not
        parse, or -1.
    """
    cdef const char* text = block
    cdef int64_t size = len(block)
    cdef int n_parts = max(1, min(n_threads, <int>(size // 65536) + 1))
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
    for line in prange(n_lines, nogil=True, num_threads=n_threads,
                       use_threads_if=n_threads > 1, schedule="static"):
        counts[line + 1] = count_entries(text + starts[line])
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
    cdef int64_t[::1] bad = np.full(n_lines + 1, 0, dtype=np.int64)
    cdef double* data_ptr = &data[0] if total > 0 else NULL
    cdef int32_t* indices_ptr = &indices[0] if total > 0 else NULL
    for line in prange(n_lines, nogil=True, num_threads=n_threads,
                       use_threads_if=n_threads > 1, schedule="static"):
        row = row_of[line]
        if row >= 0:
            if not parse_line(text + starts[line], &labels[row],
                              indices_ptr + indptr[row], data_ptr + indptr[row]):
                bad[line] = 1
    bad_line = -1
    for line in range(n_lines):
        if bad[line]:
            bad_line = line
            break
    return data_arr, indices_arr, indptr_arr, labels_arr, bad_line
