# The structs the per-sample kernels pass between their layers, and the workspace
# ``sgd_epoch`` trains in (see ``_sgd.pyx``).

from libc.stdint cimport int32_t, int64_t

from fastgd._kernels._structs cimport ModelScalars, RowsView, StepRuleView, TargetsView


ctypedef struct Pass:
    # what every model and thread of an epoch reads
    RowsView X
    TargetsView targets
    StepRuleView rule
    const int32_t* order        # the rows in visiting order
    Py_ssize_t n_order
    const int32_t* stream       # read-ahead order of a windowed shuffle; NULL if none
    Py_ssize_t stream_ahead     # steps the read-ahead runs ahead of order
    const int64_t* starts       # model k starts the epoch at order[starts[k]]; or NULL
    Py_ssize_t window           # steps of a lazy window (sparse rows)


ctypedef struct ModelSlot:
    # the float64 arrays of one model as a thread trains it; its weights
    # ``v`` travel beside it (their type is X's)
    double* avg_sum             # running sum of the averaged weights; NULL if unused
    double* q                   # L1 penalty received by each weight; NULL if unused
    ModelScalars* scalars
    int32_t* last               # lazy scratch (sparse rows); NULL if unused
    double* hist
    int pos_class               # its model row of the targets: the positive class (or
    double w_pos                # -1, regression) and the positive rows' weight


ctypedef struct Bank:
    # the float64 arrays of several models: row k belongs to model k
    double* avg_sum
    Py_ssize_t avg_width
    double* q
    Py_ssize_t q_width
    ModelScalars* scalars
    int32_t* last
    Py_ssize_t last_width
    double* hist
    Py_ssize_t hist_width


cdef inline double* row_of(double* base, Py_ssize_t width, Py_ssize_t k) noexcept nogil:
    return base + k * width if width > 0 else NULL


cdef inline ModelSlot slot_of(const Bank* bank, Py_ssize_t k, const TargetsView* T,
                              Py_ssize_t target) noexcept nogil:
    """Row k of the bank, training on model row ``target`` of ``T``."""
    cdef ModelSlot m
    m.avg_sum = row_of(bank.avg_sum, bank.avg_width, k)
    m.q = row_of(bank.q, bank.q_width, k)
    m.scalars = &bank.scalars[k]
    m.last = bank.last + k * bank.last_width if bank.last_width > 0 else NULL
    m.hist = row_of(bank.hist, bank.hist_width, k)
    m.pos_class = T.pos_class[target]
    m.w_pos = T.w_pos[target]
    return m


cdef class Workspace:
    cdef readonly Py_ssize_t n_models, n_features, window
    cdef readonly int n_threads
    cdef readonly bint sparse, lazy
    cdef readonly object dtype, last, hist
