# cython: language_level=3
"""Visiting orders of the epochs: a uniform permutation, or a windowed shuffle that
keeps the reads of X nearly sequential, with its read-ahead list (``VisitingOrder``
holds them for the kernels).

Design
------
* Random numbers: splitmix64, and multiply-shift (Lemire) to draw below a bound:
  no division, bias below bound / 2**32.
* ``windowed_shuffle``: rows are cut into windows of consecutive rows, the windows are
  taken in a random order, and a few of them are open at a time; every step takes a
  random remaining row of a random open window.  The rows in use at any time are those
  of the open windows (a working set that stays in L2), and ``stream`` lists the rows
  window by window in the order the windows open, for the kernels to read ahead.
* The windows taken are dealt out in parts (at least ``SHUFFLE_PART_ROWS`` rows) that
  threads fill in parallel, each part from its own random stream: the order depends on
  the seed and the data, not on the number of threads.
"""

from cython.parallel cimport prange
from libc.stdint cimport int32_t, uint64_t

import numpy as np


# rows per part of a windowed shuffle that one thread generates (at least)
cdef Py_ssize_t SHUFFLE_PART_ROWS = 65536

# Windows of consecutive rows that a windowed shuffle keeps open; their rows make the
# working set of an epoch.  With the default window of 32 rows, 1024 rows are in use at
# a time: at 100 float64 features that is 800 KB, which stays in a core's L2 cache
# while the kernel reads the next windows ahead into it.
SHUFFLE_OPEN_WINDOWS = 32

# 2**64 / golden ratio: splitmix64's increment, and the spacing of the parts' seeds
cdef uint64_t GOLDEN_GAMMA = <uint64_t>0x9E3779B97F4A7C15


cdef inline uint64_t splitmix64(uint64_t* s) noexcept nogil:
    s[0] += GOLDEN_GAMMA
    cdef uint64_t z = s[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline Py_ssize_t below(uint64_t bits32, Py_ssize_t bound) noexcept nogil:
    """A uniform integer in [0, bound) from 32 random bits, bound < 2**32: the high half
    of a 32 x 32-bit product (Lemire's multiply-shift, no division; bias below
    bound / 2**32)."""
    return <Py_ssize_t>((bits32 * <uint64_t>bound) >> 32)


cdef inline Py_ssize_t draw(uint64_t* state, Py_ssize_t bound) noexcept nogil:
    """A uniform integer in [0, bound), bound < 2**32."""
    return below(splitmix64(state) >> 32, bound)


def shuffle(int32_t[::1] order, uint64_t seed):
    """Fisher-Yates shuffle of ``order`` in place, reproducible from ``seed``.

    Parameters
    ----------
    order : ndarray of int32
    seed : int
        64-bit seed of the splitmix64 generator.
    """
    cdef uint64_t state = seed
    cdef Py_ssize_t i, j
    cdef int32_t tmp
    with nogil:
        for i in range(order.shape[0] - 1, 0, -1):
            j = draw(&state, i + 1)
            tmp = order[i]
            order[i] = order[j]
            order[j] = tmp


cdef inline Py_ssize_t segment_start(Py_ssize_t m, Py_ssize_t window,
                                     Py_ssize_t short_at, Py_ssize_t short_by) noexcept nogil:
    """Start in ``stream`` of the m-th window taken, when the window taken at position
    ``short_at`` has ``short_by`` rows fewer than the others."""
    return m * window - (short_by if m > short_at else 0)


cdef inline void open_window(Py_ssize_t* cursor, Py_ssize_t* stop, Py_ssize_t slot,
                             Py_ssize_t m, Py_ssize_t window, Py_ssize_t short_at,
                             Py_ssize_t short_by) noexcept nogil:
    """Open slot ``slot`` on the m-th window taken: its segment of ``stream``."""
    cursor[slot] = segment_start(m, window, short_at, short_by)
    stop[slot] = segment_start(m + 1, window, short_at, short_by)


def windowed_shuffle(const int32_t[::1] rows, int32_t[::1] order, int32_t[::1] stream,
                     uint64_t seed, Py_ssize_t window, Py_ssize_t n_open,
                     int n_threads=1):
    """A random visiting order of ``rows`` with memory locality, and its read-ahead.

    ``rows`` is cut into windows of ``window`` consecutive entries; the windows are
    taken in a random order and ``n_open`` of them are open at a time: every step takes
    a random remaining row of a randomly drawn open window, and an exhausted window is
    replaced by the next one.  Every row appears exactly once; with ``window == 1`` the
    order is a uniform random permutation.  With larger windows the rows met in any
    stretch of steps lie in ``n_open`` short runs of memory, and ``stream`` lists the
    rows window by window, in the order the windows open (within a window in any
    order), as they should be read ahead: a kernel that prefetches
    ``stream[s + n_open * window]`` at step ``s`` reads X almost sequentially.

    The windows taken are dealt out in parts of consecutive windows (at least 65,536
    rows each) that ``n_threads`` threads fill in parallel, each part from its own
    random stream: the order depends on ``seed`` and the data, not on ``n_threads``.

    Parameters
    ----------
    rows : ndarray of int32
        Rows to visit, ascending.
    order, stream : ndarray of int32, same length as ``rows``
        Outputs: the visiting order and the read-ahead order.
    seed : int
    window, n_open : int
    n_threads : int, default=1
    """
    cdef Py_ssize_t n = rows.shape[0], n_windows
    cdef Py_ssize_t w, k, j, i, part, n_parts
    cdef Py_ssize_t short_by, short_at
    cdef uint64_t state = seed
    if order.shape[0] != n or stream.shape[0] != n:
        raise ValueError(f"order and stream must have the length of rows ({n})")
    if window < 1 or n_open < 1:
        raise ValueError(f"window and n_open must be >= 1, got {window} and {n_open}")
    n_windows = (n + window - 1) // window
    short_by = n_windows * window - n  # rows missing from the last window
    short_at = n_windows
    if n == 0:
        return
    # parts of consecutive windows (in the order taken), generated in parallel; their
    # number depends on the data only, so the order does not depend on n_threads
    n_parts = max(1, n_windows // max(4 * n_open, SHUFFLE_PART_ROWS // window))
    window_order_arr = np.arange(n_windows, dtype=np.intp)
    cursor_arr = np.empty((n_parts, n_open), dtype=np.intp)
    stop_arr = np.empty((n_parts, n_open), dtype=np.intp)
    cdef Py_ssize_t[::1] window_order = window_order_arr
    cdef Py_ssize_t[:, ::1] cursor = cursor_arr, stop = stop_arr
    with nogil:
        for i in range(n_windows - 1, 0, -1):
            j = draw(&state, i + 1)
            w = window_order[i]
            window_order[i] = window_order[j]
            window_order[j] = w
        for k in range(n_windows):
            if window_order[k] == n_windows - 1:
                short_at = k
        for part in prange(n_parts, schedule="static", num_threads=n_threads):
            shuffle_part(&rows[0], &order[0], &stream[0], &window_order[0],
                         part * n_windows // n_parts,
                         (part + 1) * n_windows // n_parts, n, window, n_open,
                         short_at, short_by, &cursor[part, 0], &stop[part, 0],
                         seed + <uint64_t>(part + 1) * GOLDEN_GAMMA)


cdef void shuffle_part(
    const int32_t* rows, int32_t* order, int32_t* stream,
    const Py_ssize_t* window_order, Py_ssize_t first, Py_ssize_t end, Py_ssize_t n,
    Py_ssize_t window, Py_ssize_t n_open, Py_ssize_t short_at, Py_ssize_t short_by,
    Py_ssize_t* cursor, Py_ssize_t* stop, uint64_t seed,
) noexcept nogil:
    """``windowed_shuffle`` for the windows taken at positions first .. end - 1: their
    read-ahead segment of ``stream`` and their stretch of ``order``."""
    cdef uint64_t state = seed, bits
    cdef Py_ssize_t k, i, j, src, s, n_active = 0, next_window = first
    cdef Py_ssize_t s_first = segment_start(first, window, short_at, short_by)
    cdef Py_ssize_t s_end = segment_start(end, window, short_at, short_by)
    # the windows in their random order, each ascending: the read-ahead order; the
    # last window of rows may be short, which moves the later segments
    s = s_first
    for k in range(first, end):
        src = window_order[k] * window
        for i in range(src, min(src + window, n)):
            stream[s] = rows[i]
            s += 1
    # open windows are consecutive segments of stream, consumed in random order (the
    # draws permute each segment in place; it keeps the window's rows)
    while n_active < n_open and next_window < end:
        open_window(cursor, stop, n_active, next_window, window, short_at, short_by)
        n_active += 1
        next_window += 1
    for s in range(s_first, s_end):
        # one 64-bit draw per step: its high half picks the window, its low half the row
        bits = splitmix64(&state)
        k = below(bits >> 32, n_active)
        j = cursor[k] + below((bits << 32) >> 32, stop[k] - cursor[k])
        order[s] = stream[j]
        stream[j] = stream[cursor[k]]
        stream[cursor[k]] = order[s]
        cursor[k] += 1
        if cursor[k] == stop[k]:
            if next_window < end:
                open_window(cursor, stop, k, next_window, window, short_at, short_by)
                next_window += 1
            else:
                n_active -= 1
                cursor[k] = cursor[n_active]
                stop[k] = stop[n_active]


cdef class VisitingOrder:
    """The order in which the epochs visit the training rows, drawn anew each epoch.

    ``window == 1`` shuffles ``order`` uniformly (Fisher-Yates, in place, so each epoch
    permutes the last one).  Larger windows use ``windowed_shuffle``: every row once per
    epoch in random order, drawn from ``SHUFFLE_OPEN_WINDOWS`` open windows of
    consecutive rows, with the read-ahead order ``stream`` that the kernels prefetch
    from ``stream_ahead`` steps ahead (one working set), so that a shuffled epoch reads
    X nearly sequentially.

    When one call trains several models (one-vs-rest), each starts the epoch's order
    at its own random position (``model_starts``), as if each had its own shuffle:
    models that met the same rows last would share the noise of their last steps, and
    one-vs-rest would lean towards the classes of those rows.

    Parameters
    ----------
    rows : ndarray of int32
        The training rows, ascending.
    n_rows : int
        Rows of X (every entry of ``rows`` is below it).
    shuffle : bool
        False keeps ``rows`` in order.
    window : int
        Rows per window of the windowed shuffle; 1 for a uniform permutation.
    n_models : int, default=1
    n_threads : int, default=1
        Threads that generate a windowed shuffle (the order does not depend on it).
    """

    def __init__(self, rows, Py_ssize_t n_rows, bint shuffle, Py_ssize_t window,
                 int n_models=1, int n_threads=1):
        rows = np.asarray(rows)
        if rows.dtype != np.int32 or rows.ndim != 1:
            raise TypeError("rows must be a 1D int32 array")
        if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
            raise ValueError(f"rows must lie in [0, {n_rows})")
        if window < 1:
            raise ValueError(f"window must be >= 1; got {window}")
        self.rows = rows
        self.n_rows = n_rows
        self.shuffled = shuffle
        self.window = window
        self.n_models = n_models
        self.n_threads = n_threads
        self.model_starts = None
        if shuffle and window > 1:
            # the windowed shuffle writes every entry of order and of stream
            self.order = np.empty_like(rows)
            self.stream = np.empty_like(rows)
            self.stream_ahead = window * SHUFFLE_OPEN_WINDOWS
        else:
            self.order = rows.copy()
            self.stream = np.empty(0, dtype=np.int32)
            self.stream_ahead = 0

    def reshuffle(self, seed):
        """Draw the order of the next epoch from ``seed`` (nothing without shuffle)."""
        if not self.shuffled:
            return
        if self.n_models > 1 and len(self.rows) > 0:
            starts = np.random.default_rng(seed).integers(len(self.rows),
                                                          size=self.n_models)
            self.model_starts = starts.astype(np.int64)
        if self.window == 1:
            shuffle(self.order, seed)
        else:
            windowed_shuffle(self.rows, self.order, self.stream, seed, self.window,
                             SHUFFLE_OPEN_WINDOWS, self.n_threads)

    def __len__(self):
        return len(self.rows)
