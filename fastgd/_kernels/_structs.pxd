# The structs at the kernel boundary: the rows of X, the targets of every model row, the
# step rule, and the scalars each model carries from epoch to epoch.  Each struct has a
# Python class in ``_structs.pyx`` that validates its arrays once, keeps them alive and
# fills the struct; kernels take the classes, read the structs and assume them valid.
#
# Arrays whose element type is X's (float32 or float64) are held as ``const void*``:
# a kernel is specialised on that type through its ``floating`` memoryview of the
# model's weights, and reads them through the typed accessors of ``_rows.pxd`` and
# ``_targets.pxd``.  A debug build (``FASTGD_DEBUG=1``) checks the row indices the
# kernels form against the arrays' lengths.

from libc.stdint cimport int32_t

from fastgd._kernels._optimizers cimport OptimizerRule


cdef extern from *:
    """
    #ifdef FASTGD_DEBUG
    #define FASTGD_INDEX_CHECKS 1
    #else
    #define FASTGD_INDEX_CHECKS 0
    #endif
    """
    const bint FASTGD_INDEX_CHECKS


ctypedef struct RowsView:
    bint sparse
    bint wide_indices       # CSR indices and indptr are int64 (else int32)
    Py_ssize_t n_rows
    Py_ssize_t n_features
    Py_ssize_t nnz          # CSR: stored values
    const void* values      # dense: the rows, C order; CSR: the stored values
    const void* indices     # CSR: the column of each stored value
    const void* indptr      # CSR: n_rows + 1 offsets into values


ctypedef struct TargetsView:
    Py_ssize_t n_rows
    const void* y               # (n_rows,) regression targets; NULL without
    const int32_t* y_class      # (n_rows,) class index of each row; NULL without
    const void* soft            # (n_rows, n_classes) soft labels; NULL without
    const void* sample_weight   # (n_rows,); NULL: every row weighs 1
    Py_ssize_t n_classes
    # The model rows: model k regresses on y when pos_class[k] == -1, else separates
    # class pos_class[k] (+1) from the others (-1), its positive rows weighing w_pos[k]
    # and the others w_neg (times the sample weight).  For the softmax, model k is
    # class k and w_pos[k] the weight of class k's rows (hard labels).
    Py_ssize_t n_models
    const int32_t* pos_class
    const double* w_pos
    double w_neg


ctypedef struct StepRuleView:
    int schedule            # Schedule
    double eta              # eta of this epoch (FIXED), or eta0 (INVSCALING, PA)
    double power_t
    double alpha            # of the OPTIMAL schedule
    double t0               # OPTIMAL offset
    double lam1             # L1 strength of the proximal step
    double lam2             # L2 strength
    double average_start    # first step counter value that is averaged; 0: no averaging
    bint fit_intercept
    double intercept_decay  # factor of the intercept's steps (smaller on sparse data)
    double intercept_drift  # gradient of a linear term of the intercept (One-Class SVM)
    OptimizerRule optimizer


ctypedef struct ModelScalars:
    # what each model row carries between epochs (and calls of partial_fit)
    double t                    # step counter, 1 before the first step
    double intercept
    double avg_count            # number of averaged steps
    double avg_intercept_sum
    double sum_loss             # weighted loss summed over the last epoch
    double l1_total             # cumulative L1 penalty every weight could have received


cdef class Rows:
    cdef RowsView view
    cdef readonly object arrays
    cdef readonly object dtype
    cdef readonly bint sparse
    cdef readonly Py_ssize_t n_rows, n_features


cdef class Targets:
    cdef TargetsView view
    cdef readonly object arrays
    cdef readonly object dtype
    cdef readonly Py_ssize_t n_rows, n_models
    cdef readonly double w_neg


cdef class StepRule:
    cdef StepRuleView view
    cdef readonly dict params


cdef void report_bad_index(const char* what, Py_ssize_t i, Py_ssize_t n) noexcept nogil


cdef inline Py_ssize_t checked(Py_ssize_t i, Py_ssize_t n,
                               const char* what) noexcept nogil:
    """``i``; in a debug build, an error (and 0) when it is outside [0, n)."""
    if FASTGD_INDEX_CHECKS and (i < 0 or i >= n):
        report_bad_index(what, i, n)
        return 0
    return i
