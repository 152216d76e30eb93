# cython: language_level=3
"""The Python classes of the kernel-boundary structs (see ``_structs.pxd``): each checks
its arrays once, keeps them alive, and fills the struct the kernels read."""

cimport numpy as cnp
from libc.math cimport log

import numpy as np
import scipy.sparse as sp

from fastgd._kernels._tables import OPTIMIZERS

cnp.import_array()

cdef ModelScalars _prototype
#: NumPy dtype of an array of ``ModelScalars`` (one record per model row), read off
#: the struct itself: its fields are named as in ``_structs.pxd``.
MODEL_SCALARS = np.asarray(<ModelScalars[:1]>&_prototype).dtype

#: whether the kernels were built with ``FASTGD_DEBUG=1`` (index checks on)
DEBUG_BUILD = bool(FASTGD_INDEX_CHECKS)

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))


cdef void report_bad_index(const char* what, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    with gil:
        raise IndexError(f"{what.decode()} index {i} is outside [0, {n})")


cdef const void* data_of(object array):
    return <const void*>cnp.PyArray_DATA(array)


def _contiguous(array, name, dtypes, shape):
    """``array`` itself, after checking it is a C-contiguous ndarray of one of
    ``dtypes`` and of ``shape``: kernels read it in place, so nothing here copies."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array; got {type(array).__name__}")
    if array.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype {' or '.join(map(str, dtypes))}; got "
                        f"{array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    return array


cdef class Rows:
    """The rows of X as the kernels read them.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features) or scipy.sparse CSR matrix
        float32 or float64; a dense array must be C-contiguous; CSR indices int32 or
        int64 (an int32 indptr beside int64 indices is widened).  X is not copied.
    """

    def __init__(self, X):
        if sp.issparse(X):
            if X.format != "csr":
                raise TypeError(f"sparse X must be CSR; got {X.format}")
            index_dtype = np.result_type(X.indices.dtype, X.indptr.dtype)
            if index_dtype not in INDEX_DTYPES:
                raise TypeError(f"CSR indices must be int32 or int64; got "
                                f"{index_dtype}")
            n_rows = X.shape[0]
            data = _contiguous(X.data, "X.data", FLOAT_DTYPES, X.data.shape)
            indices = _contiguous(X.indices.astype(index_dtype, copy=False),
                                  "X.indices", INDEX_DTYPES, data.shape)
            indptr = _contiguous(X.indptr.astype(index_dtype, copy=False), "X.indptr",
                                 INDEX_DTYPES, (n_rows + 1,))
            self.arrays = (data, indices, indptr)
            self.view.sparse = self.sparse = True
            self.view.wide_indices = index_dtype == np.int64
            self.view.nnz = data.shape[0]
            self.view.values = data_of(data)
            self.view.indices = data_of(indices)
            self.view.indptr = data_of(indptr)
            self.dtype = data.dtype
        else:
            X = _contiguous(X, "X", FLOAT_DTYPES, np.shape(X) if np.ndim(X) == 2
                            else (-1, -1))
            self.arrays = (X,)
            self.view.sparse = self.sparse = False
            self.view.wide_indices = False
            self.view.nnz = X.size
            self.view.values = data_of(X)
            self.view.indices = NULL
            self.view.indptr = NULL
            self.dtype = X.dtype
        self.view.n_rows = self.n_rows = X.shape[0]
        self.view.n_features = self.n_features = X.shape[1]


cdef class Targets:
    """What every model row is trained on, over the rows of X.

    Parameters
    ----------
    dtype : numpy dtype
        X's dtype (float32 or float64): that of ``y``, ``soft`` and ``sample_weight``.
    n_rows : int
    pos_class : array-like of int, shape (n_models,)
        Model k regresses on ``y`` when ``pos_class[k] == -1``; otherwise it separates
        class index ``pos_class[k]`` (+1) from the other classes (-1).  For the softmax
        model k is class k.
    w_pos : array-like of float, shape (n_models,)
        Weight of model k's positive rows (the class weight); for the softmax the
        weight of class k's rows.
    w_neg : float
        Weight of the other rows.
    y : ndarray of shape (n_rows,), default=None
        Regression targets.
    y_class : ndarray of int32, shape (n_rows,), default=None
        Class index of every row, in [0, n_classes).
    soft : ndarray of shape (n_rows, n_classes), default=None
        Soft labels (rows of probabilities) of the softmax.
    sample_weight : ndarray of shape (n_rows,), default=None
    n_classes : int, default=0
    """

    def __init__(self, dtype, Py_ssize_t n_rows, pos_class, w_pos, double w_neg, *,
                 y=None, y_class=None, soft=None, sample_weight=None,
                 Py_ssize_t n_classes=0):
        dtype = np.dtype(dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64; got {dtype}")
        pos_class = np.ascontiguousarray(pos_class, dtype=np.int32)
        w_pos = np.ascontiguousarray(w_pos, dtype=np.float64)
        n_models = pos_class.shape[0]
        _contiguous(w_pos, "w_pos", (np.dtype(np.float64),), (n_models,))
        if np.any(pos_class < -1) or np.any(pos_class >= n_classes):
            raise ValueError(f"pos_class must hold -1 or class indices in [0, "
                             f"{n_classes})")
        if np.any(pos_class >= 0) and y_class is None and soft is None:
            raise ValueError("class models need y_class or soft labels")
        if np.any(pos_class < 0) and y is None:
            raise ValueError("regression models (pos_class -1) need y")
        self.view.n_rows = self.n_rows = n_rows
        self.view.n_classes = n_classes
        self.view.n_models = self.n_models = n_models
        self.view.y = NULL
        self.view.y_class = NULL
        self.view.soft = NULL
        self.view.sample_weight = NULL
        if y is not None:
            self.view.y = data_of(_contiguous(y, "y", (dtype,), (n_rows,)))
        if y_class is not None:
            _contiguous(y_class, "y_class", (np.dtype(np.int32),), (n_rows,))
            if n_rows and (y_class.min() < 0 or y_class.max() >= n_classes):
                raise ValueError(f"y_class must hold class indices in [0, {n_classes})")
            self.view.y_class = <const int32_t*>data_of(y_class)
        if soft is not None:
            self.view.soft = data_of(_contiguous(soft, "soft", (dtype,),
                                                 (n_rows, n_classes)))
        if sample_weight is not None:
            self.view.sample_weight = data_of(_contiguous(
                sample_weight, "sample_weight", (dtype,), (n_rows,)))
        self.view.pos_class = <const int32_t*>data_of(pos_class)
        self.view.w_pos = <const double*>data_of(w_pos)
        self.view.w_neg = self.w_neg = w_neg
        self.arrays = dict(y=y, y_class=y_class, soft=soft, sample_weight=sample_weight,
                           pos_class=pos_class, w_pos=w_pos)
        self.dtype = dtype


cdef class StepRule:
    """How every step is taken: the learning-rate schedule, the penalty's proximal step,
    the optimizer and the intercept.

    Parameters
    ----------
    schedule : int
        A member of ``fastgd._kernels._enums.Schedule``.
    eta0 : float
        The step size of INVSCALING and the PA rules; FIXED takes each epoch's eta.
    power_t, alpha, t0 : float
        Of INVSCALING (``eta0 / t ** power_t``) and OPTIMAL (``1 / (alpha (t0 + t -
        1))``).
    lam1, lam2 : float
        L1 and L2 strengths of the proximal step.
    average_start : float
        First step counter value that is averaged (averaged SGD); 0 for none.
    fit_intercept : bool
    intercept_decay : float
        Factor of the intercept's steps.
    intercept_drift : float, default=0
        Gradient of a linear term ``intercept_drift * b`` of the objective, added to
        every intercept step (the One-Class SVM's ``nu * b``).
    optimizer : str
        A name of ``_tables.OPTIMIZERS``; with ``momentum``, ``beta_1``, ``beta_2``,
        ``rho`` and ``eps`` (the denominators' epsilon of the adaptive rules).
    """

    def __init__(self, *, int schedule, double eta0, double power_t, double alpha,
                 double t0, double lam1, double lam2, double average_start,
                 bint fit_intercept, double intercept_decay,
                 double intercept_drift=0.0, str optimizer="sgd", double momentum=0.9, double beta_1=0.9, double beta_2=0.999,
                 double rho=0.99, double eps=1e-8):
        names = [spec.name for spec in OPTIMIZERS]
        if optimizer not in names:
            raise ValueError(f"optimizer must be one of {names}; got {optimizer!r}")
        self.params = dict(schedule=schedule, eta0=eta0, power_t=power_t, alpha=alpha,
                           t0=t0, lam1=lam1, lam2=lam2, average_start=average_start,
                           fit_intercept=fit_intercept, intercept_decay=intercept_decay,
                           intercept_drift=intercept_drift,
                           optimizer=optimizer, momentum=momentum, beta_1=beta_1,
                           beta_2=beta_2, rho=rho, eps=eps)
        self.view.schedule = schedule
        self.view.eta = eta0
        self.view.power_t = power_t
        self.view.alpha = alpha
        self.view.t0 = t0
        self.view.lam1 = lam1
        self.view.lam2 = lam2
        self.view.average_start = average_start
        self.view.fit_intercept = fit_intercept
        self.view.intercept_decay = intercept_decay
        self.view.intercept_drift = intercept_drift
        self.view.optimizer.kind = names.index(optimizer)
        self.view.optimizer.momentum = momentum
        self.view.optimizer.beta_1 = beta_1
        self.view.optimizer.beta_2 = beta_2
        self.view.optimizer.rho = rho
        self.view.optimizer.eps = eps
        self.view.optimizer.log_beta_1 = log(beta_1) if beta_1 > 0.0 else -1e300
        self.view.optimizer.log_beta_2 = log(beta_2) if beta_2 > 0.0 else -1e300
        self.view.optimizer.bias_count = -1.0

    def __reduce__(self):
        return _step_rule, (self.params,)

    @property
    def averaging(self):
        return self.view.average_start > 0

    @property
    def n_optimizer_slots(self):
        """Doubles of optimizer state per coordinate."""
        return len(OPTIMIZERS[self.view.optimizer.kind].slots)


def check_model(Rows X, Targets targets, coef, intercept=None, rows=None):
    """Raise unless a model fits X and its targets: ``coef`` of X's dtype with a row
    per model row of the targets and a column per feature, the targets (and
    ``intercept``, and ``rows``) over the rows (models) they must cover."""
    coef = np.asarray(coef)
    if coef.dtype != X.dtype or targets.dtype != X.dtype:
        raise TypeError(f"coef ({coef.dtype}) and the targets ({targets.dtype}) must "
                        f"have X's dtype ({X.dtype})")
    if coef.shape != (targets.n_models, X.n_features):
        raise ValueError(f"coef must have shape ({targets.n_models}, {X.n_features}); "
                         f"got {coef.shape}")
    if intercept is not None and len(intercept) != targets.n_models:
        raise ValueError(f"intercept must have {targets.n_models} entries; got "
                         f"{len(intercept)}")
    if targets.n_rows != X.n_rows:
        raise ValueError(f"the targets must be over the {X.n_rows} rows of X; they "
                         f"cover {targets.n_rows}")
    if rows is not None and len(rows) and (np.min(rows) < 0
                                           or np.max(rows) >= X.n_rows):
        raise ValueError(f"rows must lie in [0, {X.n_rows})")


def _step_rule(params):
    return StepRule(**params)
