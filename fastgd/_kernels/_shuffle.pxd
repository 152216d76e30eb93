# The visiting order of an epoch, as the kernels read it (see ``_shuffle.pyx``).

cdef class VisitingOrder:
    cdef readonly object rows           # the training rows (int32, ascending)
    cdef readonly object order          # this epoch's visiting order (int32)
    cdef readonly object stream         # read-ahead order (windowed shuffle), or empty
    cdef readonly object model_starts   # int64 start of each model in order, or None
    cdef readonly Py_ssize_t stream_ahead
    cdef readonly Py_ssize_t window
    cdef readonly Py_ssize_t n_rows
    cdef readonly bint shuffled
    cdef readonly int n_models
    cdef readonly int n_threads
