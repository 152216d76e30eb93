"""SGDRegressor and SGDClassifier: parameters, validation, and dispatch to the kernels.

The path of one fit: validate X, y and the parameters -> encode the targets of every
model row -> one ``_sgd.sgd_epoch`` call per epoch (all model rows in parallel) ->
stopping rule in Python -> public attributes.  Nothing here loops over samples.
"""
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    assert_all_finite,
    check_is_fitted,
    validate_data,
)

from fastgd import _batch, _linear, _sgd, _shuffle
from fastgd._config import effective_n_threads
from fastgd._enums import Schedule, State
from fastgd._losses import loss_and_derivative
from fastgd._proximal import CURVATURE, NON_SMOOTH, ProximalGradient, block_lipschitz
from fastgd._params import (
    CLASSIFICATION_LOSSES,
    CLASSIFIER_CONSTRAINTS,
    COMMON_CONSTRAINTS,
    LEARNING_RATES,
    MIN_LAZY_WINDOW,
    OPTIMIZERS,
    REGRESSION_LOSSES,
    REGRESSOR_CONSTRAINTS,
    MIN_REPLICA_ROWS,
    REPLICA_ROUND_ROWS,
    SHUFFLE_OPEN_WINDOWS,
    SPARSE_INTERCEPT_DECAY,
)

DIVERGENCE_MESSAGE = (
    "Training diverged at epoch {epoch}: the weights or the objective became "
    "non-finite (inf or NaN). The learning rate is likely too large for this data "
    "(learning_rate={lr!r}, eta0={eta0}): lower eta0, use learning_rate='optimal' or "
    "'invscaling', or scale the features (e.g. with StandardScaler)."
)


class _KernelX:
    """X as the kernels take it: the dense array, or the three CSR arrays."""

    def __init__(self, X):
        self.sparse = sp.issparse(X)
        self.n_rows, self.n_features = X.shape
        if self.sparse:
            index_dtype = np.result_type(X.indices.dtype, X.indptr.dtype)
            self.dense = np.empty((0, 0), dtype=X.dtype)
            self.data = X.data
            self.indices = X.indices.astype(index_dtype, copy=False)
            self.indptr = X.indptr.astype(index_dtype, copy=False)
        else:
            self.dense = X
            self.data = np.empty(0, dtype=X.dtype)
            self.indices = np.empty(0, dtype=np.int32)
            self.indptr = np.empty(0, dtype=np.int32)
        self.dtype = X.dtype

    def args(self):
        return self.sparse, self.dense, self.data, self.indices, self.indptr


class _Targets:
    """What every model row is trained on.

    Model ``k`` regresses on ``y`` when ``pos_classes[k] == -1``; otherwise it
    separates class index ``pos_classes[k]`` (+1) from the others (-1), with sample
    weight ``w_pos[k]`` on its positive samples and ``w_neg`` on the others.
    """

    def __init__(self, y, y_class, pos_classes, w_pos, w_neg, dtype, soft=None,
                 multinomial=False):
        self.y = np.empty(0, dtype=dtype) if y is None else y
        self.y_class = (np.empty(0, dtype=np.int32) if y_class is None
                        else y_class)
        self.pos_classes = np.asarray(pos_classes, dtype=np.int32)
        self.w_pos = np.asarray(w_pos, dtype=np.float64)
        self.w_neg = float(w_neg)
        # multinomial: the rows of coef are the classes, trained jointly on the
        # cross-entropy with hard labels y_class (class weights w_pos) or soft labels
        self.multinomial = multinomial
        self.soft = np.empty((0, 0), dtype=dtype) if soft is None else soft
        if soft is not None:
            self.stratify = np.argmax(soft, axis=1)
        else:
            self.stratify = None if y_class is None else y_class

    @property
    def n_models(self):
        return len(self.pos_classes)

    def args(self):
        return self.y, self.y_class, self.pos_classes


class _VisitingOrder:
    """The order in which an epoch visits the training rows.

    ``shuffle_window == 1`` draws a uniform random permutation every epoch.  Larger
    windows use ``_shuffle.windowed_shuffle``: every row once per epoch, in random order,
    drawn from ``SHUFFLE_OPEN_WINDOWS`` open windows of consecutive rows, with a
    read-ahead order the kernels prefetch from, so that a shuffled epoch reads X
    nearly sequentially instead of at random.

    When one call trains several models (one-vs-rest), each starts the epoch's order
    at its own random position (``model_starts``), as if each had its own shuffle:
    models that met the same rows last would share the noise of their last steps,
    and one-vs-rest would lean towards the classes of those rows.
    """

    def __init__(self, rows, shuffle, window, n_models=1, n_threads=1):
        self.rows = rows
        self.n_threads = n_threads
        self.shuffle = shuffle
        self.window = window
        self.n_models = n_models
        self.model_starts = None
        if shuffle and window > 1:
            # the windowed shuffle writes every entry of order and of stream
            self.order = np.empty_like(rows)
            self.stream = np.empty_like(rows)
            # one working set ahead: a window is read into L2 about when it opens
            self.stream_ahead = window * SHUFFLE_OPEN_WINDOWS
        else:
            self.order = rows.copy()
            self.stream = np.empty(0, dtype=np.int32)
            self.stream_ahead = 0

    def reshuffle(self, seed):
        if not self.shuffle:
            return
        if self.n_models > 1 and len(self.rows) > 0:
            starts = np.random.default_rng(seed).integers(len(self.rows),
                                                          size=self.n_models)
            self.model_starts = starts.astype(np.int64)
        if self.window == 1:
            _shuffle.shuffle(self.order, seed)
        else:
            _shuffle.windowed_shuffle(self.rows, self.order, self.stream, seed,
                                      self.window, SHUFFLE_OPEN_WINDOWS,
                                      self.n_threads)


class _StoppingRule:
    """scikit-learn's stopping rule: stop when the criterion (lower is better) has not
    improved by ``tol`` for ``n_iter_no_change`` epochs; with the adaptive learning
    rate, divide eta by 5 instead, until it falls below 1e-6."""

    def __init__(self, tol, n_iter_no_change, adaptive, eta):
        self.tol = -np.inf if tol is None else tol
        self.n_iter_no_change = n_iter_no_change
        self.adaptive = adaptive
        self.eta = eta
        self.best = np.inf
        self.no_improvement = 0

    def should_stop(self, criterion):
        self.no_improvement = (self.no_improvement + 1
                               if criterion > self.best - self.tol else 0)
        self.best = min(self.best, criterion)
        if self.no_improvement < self.n_iter_no_change:
            return False
        if self.adaptive and self.eta > 1e-6:
            self.eta /= 5.0
            self.no_improvement = 0
            return False
        return True


class _BaseSGD(BaseEstimator):
    """Shared training machinery of SGDRegressor and SGDClassifier."""

    _parameter_constraints = COMMON_CONSTRAINTS

    # ------------------------------------------------------------------ parameters

    def _check_params(self, for_partial_fit):
        if self.early_stopping and for_partial_fit:
            raise ValueError("early_stopping should be False with partial_fit")
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError("alpha must be > 0 since learning_rate is 'optimal'. "
                             "alpha is used to compute the optimal learning rate.")
        if self.learning_rate in ("pa1", "pa2") and self.loss != self._pa_loss:
            raise ValueError(f"Learning rate {self.learning_rate!r} only works with "
                             f"loss {self._pa_loss!r}; got loss={self.loss!r}.")
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if self.batch_size != 1 and self.learning_rate in ("pa1", "pa2"):
            raise ValueError(f"learning_rate={self.learning_rate!r} is a per-sample rule;"
                             f" it needs batch_size=1, got batch_size={self.batch_size!r}.")
        if self.batch_size != 1 and self.average:
            raise ValueError("average (averaged SGD) needs batch_size=1; got "
                             f"batch_size={self.batch_size!r}.")
        if self.optimizer != "sgd":
            if self.average:
                raise ValueError("average (averaged SGD) needs optimizer='sgd'; got "
                                 f"optimizer={self.optimizer!r}.")
            if self.learning_rate in ("pa1", "pa2"):
                raise ValueError(f"learning_rate={self.learning_rate!r} needs "
                                 f"optimizer='sgd'; got optimizer={self.optimizer!r}.")

    def _penalty_strengths(self):
        """(lam1, lam2): the L1 and L2 strengths of the proximal step."""
        if self.penalty is None:
            return 0.0, 0.0
        if self.penalty == "l2":
            return 0.0, float(self.alpha)
        if self.penalty == "l1":
            return float(self.alpha), 0.0
        return (float(self.alpha * self.l1_ratio),
                float(self.alpha * (1.0 - self.l1_ratio)))

    def _penalty_value(self, coef):
        lam1, lam2 = self._penalty_strengths()
        value = 0.0
        if lam1:
            value += lam1 * np.abs(coef).sum(dtype=np.float64)
        if lam2:
            value += 0.5 * lam2 * np.square(coef, dtype=np.float64).sum()
        return value

    def _optimal_t0(self, loss_id):
        """Offset of the 'optimal' schedule (Bottou's heuristic, as scikit-learn)."""
        typw = np.sqrt(1.0 / np.sqrt(self.alpha))
        _, d = loss_and_derivative(loss_id, [-typw], [1.0], self.epsilon)
        eta_init = typw / max(1.0, d[0])
        return 1.0 / (eta_init * self.alpha)

    def _epoch_eta(self, epoch, adaptive_eta):
        """eta of an epoch for the schedules that are fixed within an epoch."""
        if self.learning_rate == "adaptive":
            return adaptive_eta
        if self.learning_rate == "exponential":
            return self.eta0 * self.decay_rate ** epoch
        if self.learning_rate == "linear":
            frac = min(1.0, epoch / self.max_iter)
            return self.eta0 + (self.eta_min - self.eta0) * frac
        return self.eta0

    # --------------------------------------------------------------------- state

    def _new_state(self, n_models, n_features, dtype, coef_init, intercept_init,
                   partial):
        """Training arrays: zeros, the state of the previous call (``partial_fit``:
        weights, step counter, averages, L1 bookkeeping), then coef_init /
        intercept_init on top."""
        coef = np.zeros((n_models, n_features), dtype=dtype)
        state = np.zeros((n_models, State.N_STATE))
        state[:, State.T] = 1.0
        avg_sum = np.zeros((n_models, n_features if self.average else 0))
        l1_received = np.zeros((n_models, n_features if self._penalty_strengths()[0]
                                else 0))
        previous = getattr(self, "_train_state", None)
        if partial and previous is not None:
            state[:] = previous["state"]
            if previous["l1_received"].shape == l1_received.shape:
                l1_received[:] = previous["l1_received"]
            else:
                state[:, State.L1_TOTAL] = 0.0
            if self.average or previous["coef"].shape != _dense(self.coef_).reshape(
                    -1, n_features).shape:
                coef[:] = previous["coef"]
                if previous["avg_sum"].shape == avg_sum.shape:
                    avg_sum[:] = previous["avg_sum"]
                else:
                    state[:, [State.AVG_COUNT, State.AVG_INTERCEPT_SUM]] = 0.0
            else:
                coef[:] = _dense(self.coef_).reshape(n_models, n_features)
                state[:, State.INTERCEPT] = np.ravel(self.intercept_)
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=dtype)
            if coef_init.size != coef.size:
                raise ValueError(f"Provided coef_init does not match dataset: expected "
                                 f"shape {coef.shape if n_models > 1 else (n_features,)}"
                                 f", got {coef_init.shape}.")
            coef[:] = coef_init.reshape(coef.shape)
        if intercept_init is not None:
            intercept_init = np.ravel(np.asarray(intercept_init, dtype=np.float64))
            if intercept_init.size != n_models:
                raise ValueError(f"Provided intercept_init does not match dataset: "
                                 f"expected shape ({n_models},), got "
                                 f"{intercept_init.shape}.")
            state[:, State.INTERCEPT] = intercept_init
        # per coordinate (weights, then the intercept): two optimizer slots and the
        # number of steps taken
        optimizer_state = np.zeros((n_models, n_features + 1, 3))
        if partial and previous is not None and previous.get(
                "optimizer_state", optimizer_state).shape == optimizer_state.shape:
            optimizer_state[:] = previous["optimizer_state"]
        return {"coef": coef, "state": state, "avg_sum": avg_sum,
                "l1_received": l1_received, "optimizer_state": optimizer_state}

    def _lazy_scratch(self, kx, n_models):
        """Scratch of the lazy sparse updates (``last``, ``hist``); empty when unused."""
        lazy = kx.sparse and (self.average or self._penalty_strengths()[0] > 0)
        window = max(MIN_LAZY_WINDOW, kx.n_features)
        last = np.zeros((n_models, kx.n_features if lazy else 0), np.int32)
        hist = np.zeros((n_models, 3 * (window + 1) if lazy else 0))
        return last, hist

    def _model_from_state(self, train_state):
        """(coef, intercept) of the model to return: the average when it has started."""
        state = train_state["state"]
        count = state[0, State.AVG_COUNT]
        if self.average and count > 0:
            coef = (train_state["avg_sum"] / count).astype(train_state["coef"].dtype)
            intercept = state[:, State.AVG_INTERCEPT_SUM] / count
        else:
            coef = train_state["coef"].copy()
            intercept = state[:, State.INTERCEPT].copy()
        return coef, intercept

    # ------------------------------------------------------------------ training

    def _split(self, n_rows, targets, sample_weight):
        """Training rows and validation rows (int32) for early stopping."""
        all_rows = np.arange(n_rows, dtype=np.int32)
        if not self.early_stopping:
            return all_rows, np.empty(0, dtype=np.int32)
        splitter = StratifiedShuffleSplit if targets.stratify is not None else ShuffleSplit
        cv = splitter(test_size=self.validation_fraction,
                      random_state=self.random_state)
        strat = targets.stratify if targets.stratify is not None else np.zeros(n_rows)
        train, val = next(cv.split(np.zeros((n_rows, 1)), strat))
        if len(train) == 0 or len(val) == 0:
            raise ValueError(
                f"Splitting {n_rows} samples into a train set and a validation set "
                f"with validation_fraction={self.validation_fraction} led to an empty "
                f"set ({len(train)} and {len(val)} samples). Please either change "
                f"validation_fraction, increase number of samples, or disable "
                f"early_stopping.")
        if sample_weight.size and not np.any(sample_weight[val] > 0):
            raise ValueError("The sample weights for validation set are all zero, "
                             "consider using a different random state.")
        return np.sort(train).astype(np.int32), np.sort(val).astype(np.int32)

    def _sum_loss(self, kx, targets, sample_weight, rows, coef, intercept, n_threads):
        if targets.multinomial:
            n_classes, n_features = coef.shape
            return _batch.softmax_gradient(
                *kx.args(), targets.soft,
                targets.y_class, sample_weight, targets.w_pos, rows, len(rows), coef,
                intercept, np.empty((n_classes, n_features)), np.empty(n_classes),
                np.empty((n_threads, n_classes * (n_features + 2))), n_threads)
        return _linear.sum_loss(
            self._loss_id(), *kx.args(), *targets.args(), sample_weight,
            targets.w_pos, targets.w_neg, rows, coef, intercept, self.epsilon,
            n_threads)

    def _train(self, X, targets, sample_weight, max_iter, partial, coef_init=None,
               intercept_init=None):
        """Run the epochs; set coef_, intercept_, n_iter_, t_, loss_curve_."""
        kx = _KernelX(X)
        n_threads = effective_n_threads(self.n_jobs)
        if not partial and self.warm_start and hasattr(self, "coef_"):
            # a warm start keeps the model, not the step counter (as scikit-learn)
            if targets.multinomial and hasattr(self, "_train_state"):
                model = self._train_state  # coef_ may be the collapsed binary form
                coef_init = model["coef"] if coef_init is None else coef_init
                intercept_init = (model["state"][:, State.INTERCEPT]
                                  if intercept_init is None else intercept_init)
            coef_init = _dense(self.coef_) if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
        ts = self._new_state(targets.n_models, kx.n_features, kx.dtype, coef_init,
                             intercept_init, partial)

        loss_id = self._loss_id()
        lam1, lam2 = self._penalty_strengths()
        schedule = LEARNING_RATES[self.learning_rate]
        t0 = self._optimal_t0(loss_id) if schedule == Schedule.OPTIMAL else 0.0
        average_start = float(self.average) if self.average else 0.0
        intercept_decay = SPARSE_INTERCEPT_DECAY if kx.sparse else 1.0

        train_rows, val_rows = self._split(kx.n_rows, targets, sample_weight)
        full = self.batch_size == "full"
        # a full-batch step sums over every row: the order does not matter
        visit = _VisitingOrder(train_rows, self.shuffle and not full,
                               self.shuffle_window, targets.n_models, n_threads)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        first_epoch = getattr(self, "_epochs_done", 0) if partial else 0
        stopping = _StoppingRule(self.tol, self.n_iter_no_change,
                                 adaptive=self.learning_rate == "adaptive",
                                 eta=self.eta0)
        loss_curve = list(getattr(self, "loss_curve_", [])) if partial else []
        val_curve = []

        hyper = dict(epsilon=self.epsilon, schedule=schedule, power_t=self.power_t,
                     alpha=self.alpha, t0=t0, lam1=lam1, lam2=lam2,
                     fit_intercept=self.fit_intercept, intercept_decay=intercept_decay)
        per_sample = not (full or self.batch_size > 1 or targets.multinomial
                          or self.optimizer != "sgd")
        if not per_sample or self.early_stopping:
            # only the per-sample kernel checks every margin it computes (a NaN or
            # inf in X makes its epoch loss NaN); the other paths check X first
            self._check_finite(X)
        if full and self.optimizer in ("sgd", "nesterov"):
            run_epoch = self._full_batch_runner(X, kx, targets, sample_weight, ts,
                                                train_rows, n_threads)
        elif not per_sample:
            batch = len(train_rows) if full else self.batch_size
            run_epoch = self._minibatch_runner(kx, targets, sample_weight, ts, visit,
                                               n_threads, hyper, batch)
        else:
            run_epoch = self._per_sample_runner(kx, targets, sample_weight, ts, visit,
                                                n_threads, hyper, average_start)

        n_iter = 0
        for epoch in range(max_iter):
            visit.reshuffle(seed + epoch)
            eta = (self._epoch_eta(first_epoch + epoch, stopping.eta)
                   if schedule == Schedule.FIXED else self.eta0)
            objective = run_epoch(eta)
            n_iter = epoch + 1
            if not (np.isfinite(objective) and np.all(np.isfinite(ts["coef"]))
                    and np.all(np.isfinite(ts["state"]))):
                self._check_finite(X)  # bad input, or else divergence
                raise ValueError(DIVERGENCE_MESSAGE.format(
                    epoch=n_iter, lr=self.learning_rate, eta0=self.eta0))
            loss_curve.append(float(objective))
            if self.early_stopping:
                coef, intercept = self._model_from_state(ts)
                criterion = self._sum_loss(kx, targets, sample_weight, val_rows, coef,
                                           intercept, n_threads) / len(val_rows)
                val_curve.append(float(criterion))
            else:
                criterion = objective
            if self.verbose:
                print(f"-- Epoch {n_iter}\nNorm: {np.linalg.norm(ts['coef']):.2f}, "
                      f"NNZs: {np.count_nonzero(ts['coef'])}, "
                      f"Bias: {ts['state'][0, State.INTERCEPT]:.6f}, "
                      f"T: {int(ts['state'][0, State.T]) - 1}, "
                      f"Objective: {objective:.6f}"
                      + (f", Validation loss: {criterion:.6f}"
                         if self.early_stopping else ""))
            if stopping.should_stop(criterion):
                if self.verbose:
                    print(f"Convergence after {n_iter} epochs")
                break

        self._train_state = ts
        self._epochs_done = first_epoch + n_iter
        coef, intercept = self._model_from_state(ts)
        if targets.multinomial and coef.shape[0] == 2:
            # two classes: the softmax is the logistic function of the logit difference
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        self._set_coef(coef, intercept.astype(kx.dtype))
        self.n_iter_ = n_iter
        self.t_ = float(ts["state"][0, State.T])
        self.loss_curve_ = loss_curve
        if self.early_stopping:
            self.validation_loss_curve_ = val_curve
        if (not partial and self.tol is not None and n_iter == max_iter):
            warnings.warn("Maximum number of iteration reached before convergence. "
                          "Consider increasing max_iter to improve the fit.",
                          ConvergenceWarning)
        return self

    def _per_sample_runner(self, kx, targets, sample_weight, ts, visit, n_threads,
                           hyper, average_start):
        """One epoch of per-sample SGD per call (``_sgd.sgd_epoch``); returns the
        epoch's mean loss met before each step plus the penalty.

        Several models (one-vs-rest) run in parallel, one per thread.  One model on
        ``n_threads > 1`` threads runs on replicas: in rounds of ``REPLICA_ROUND_ROWS``
        rows per thread, every thread runs a copy of the model over its share of the
        round, from the same start, and the copies are averaged at the end of the
        round (weights, intercept, L1 received); averaged SGD sums the iterates of
        every copy.  Each thread reads its own rows and writes its own weights: no
        locks and no shared cache lines, and the result is reproducible for a given
        ``n_jobs``.  The step counter advances by the rows of one share per round
        (the steps each copy took)."""
        coef, state = ts["coef"], ts["state"]
        n_train = len(visit.order)
        replicas = {}
        n_scratch_rows = targets.n_models
        if n_threads > 1 and targets.n_models == 1:
            replicas = dict(
                replica_coef=np.empty((n_threads, kx.n_features), coef.dtype),
                replica_state=np.empty((n_threads, state.shape[1])),
                replica_avg=np.empty((n_threads, ts["avg_sum"].shape[1])),
                replica_l1=np.empty((n_threads, ts["l1_received"].shape[1])),
                round_rows=REPLICA_ROUND_ROWS, min_share=MIN_REPLICA_ROWS)
            n_scratch_rows = n_threads
        last, hist = self._lazy_scratch(kx, n_scratch_rows)

        def run_epoch(eta):
            _sgd.sgd_epoch(
                self._loss_id(), *kx.args(), kx.n_features, *targets.args(),
                sample_weight, targets.w_pos, targets.w_neg, visit.order, visit.stream,
                visit.stream_ahead, coef, ts["avg_sum"], ts["l1_received"], state,
                last, hist, eta=eta, average_start=average_start, n_threads=n_threads,
                order_starts=visit.model_starts, **replicas, **hyper)
            return (state[:, State.SUM_LOSS].sum() / max(n_train, 1)
                    + self._penalty_value(coef))

        return run_epoch

    def _minibatch_runner(self, kx, targets, sample_weight, ts, visit, n_threads,
                          hyper, batch_size):
        """One epoch of mini-batch proximal SGD per call (``_batch.minibatch_epoch``);
        returns the epoch's mean loss met before each step plus the penalty."""
        n_models, n_features = ts["coef"].shape
        grad = np.empty((n_models, n_features))
        grad_b = np.empty(n_models)
        extra = 2 if targets.multinomial else 1
        scratch = np.empty((n_threads, n_models * (n_features + extra)))
        state = ts["state"]
        multinomial = dict(multinomial=True, Y=targets.soft,
                           class_weight=targets.w_pos) if targets.multinomial else {}
        optimizer = dict(optimizer=OPTIMIZERS[self.optimizer], momentum=self.momentum,
                         beta_1=self.beta_1, beta_2=self.beta_2, rho=self.rho,
                         eps=self.eps, optimizer_state=ts["optimizer_state"])

        def run_epoch(eta):
            intercept = np.ascontiguousarray(state[:, State.INTERCEPT])
            step = state[:1, State.T].copy()
            total = _batch.minibatch_epoch(
                self._loss_id(), *kx.args(), *targets.args(), sample_weight,
                targets.w_pos, targets.w_neg, visit.order, batch_size,
                ts["coef"], intercept, step, eta=eta, grad=grad, grad_intercept=grad_b,
                scratch=scratch, n_threads=n_threads, **hyper, **multinomial,
                **optimizer)
            state[:, State.INTERCEPT] = intercept
            state[:, State.T] = step[0]
            return (total / max(len(visit.order), 1)
                    + self._penalty_value(ts["coef"]))

        return run_epoch

    def _full_batch_runner(self, X, kx, targets, sample_weight, ts, train_rows,
                           n_threads):
        """One iteration of full-batch proximal gradient descent per call (ISTA with
        a backtracking line search from a Lipschitz estimate, ``_proximal``); returns
        the exact objective, which never increases.

        The objective is the weighted mean ``sum_i s_i loss_i / sum_i s_i`` plus the
        penalty, so a sample of weight 2 is the same as two copies of it."""
        n_models, n_features = ts["coef"].shape
        all_rows = len(train_rows) == kx.n_rows
        rows = np.empty(0, np.int32) if all_rows else train_rows
        total_weight = (float(np.sum(sample_weight[train_rows])) if sample_weight.size
                        else float(len(train_rows)))
        grad = np.empty((n_models, n_features))
        grad_b = np.empty(n_models)
        extra = 2 if targets.multinomial else 1
        scratch = np.empty((n_threads, n_models * (n_features + extra)))

        def smooth(w, b):
            coef = np.ascontiguousarray(w, dtype=kx.dtype)
            if targets.multinomial:
                total = _batch.softmax_gradient(
                    *kx.args(), targets.soft,
                    targets.y_class, sample_weight, targets.w_pos, rows,
                    len(train_rows), coef, b, grad, grad_b, scratch, n_threads)
            else:
                total = _batch.batch_gradient(
                    self._loss_id(), *kx.args(), *targets.args(), sample_weight,
                    targets.w_pos, targets.w_neg, rows, len(train_rows), coef, b,
                    self.epsilon, grad, grad_b, scratch, n_threads)
            return total / total_weight, grad / total_weight, grad_b / total_weight

        lam1, lam2 = self._penalty_strengths()
        # class weights scale the curvature of their samples: bound by the largest
        class_scale = max(float(np.max(targets.w_pos)), targets.w_neg)
        # the softmax Hessian is below 1/2 in every direction of the logits
        curvature = 0.5 if targets.multinomial else CURVATURE[self.loss]
        L_w, L_b = block_lipschitz(X, sample_weight, curvature * class_scale,
                                   max(total_weight, 1e-300))
        solver = ProximalGradient(smooth, ts["coef"], ts["state"][:, State.INTERCEPT],
                                  lam1=lam1, lam2=lam2,
                                  fit_intercept=self.fit_intercept, lipschitz=L_w,
                                  lipschitz_intercept=L_b,
                                  accelerated=self.optimizer == "nesterov",
                                  differentiable=self.loss not in NON_SMOOTH)

        def run_epoch(eta):
            solver.step()
            ts["coef"][:] = solver.w
            ts["state"][:, State.INTERCEPT] = solver.b
            ts["state"][:, State.T] += 1.0
            ts["state"][:, State.SUM_LOSS] = solver.f * total_weight
            return solver.F

        return run_epoch

    def _fit_or_partial(self, X, y, sample_weight, partial, max_iter, classes=None,
                        coef_init=None, intercept_init=None):
        """Validate, encode the targets (``_fit_targets`` of the subclass), train."""
        self._validate_params()
        self._check_params(for_partial_fit=partial)
        first = not partial or not hasattr(self, "coef_")
        # X's values are checked by the training pass itself (``_train``): a
        # separate check would read X once more
        X, y = self._validate_X_y(X, y, reset=first, y_numeric=self._y_numeric,
                                  ensure_all_finite=False)
        targets = self._fit_targets(X, y, partial, classes)
        sample_weight = self._sample_weight(sample_weight, X)
        return self._train(X, targets, sample_weight, max_iter, partial, coef_init,
                           intercept_init)

    def _validate_X_y(self, X, y, reset, **kwargs):
        return validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32], order="C",
                             accept_large_sparse=True, reset=reset, **kwargs)

    def _check_finite(self, X):
        """scikit-learn's error for NaN or infinity in X."""
        assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)

    def _sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return np.empty(0, dtype=X.dtype)
        return _check_sample_weight(sample_weight, X, dtype=X.dtype)

    # ---------------------------------------------------------------- prediction

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          order="C", accept_large_sparse=True, reset=False)
        kx = _KernelX(X)
        coef, intercept = self._kernel_model(kx)
        out = np.empty((kx.n_rows, coef.shape[0]), dtype=X.dtype)
        _linear.decision_function(*kx.args(), kx.n_rows, coef, intercept, out,
                                  effective_n_threads(self.n_jobs))
        return out

    def _kernel_model(self, kx):
        """coef_ (n_models, n_features) in X's dtype and intercept_ in float64."""
        coef = np.ascontiguousarray(_dense(self.coef_), dtype=kx.dtype)
        return (coef.reshape(-1, kx.n_features),
                np.ravel(self.intercept_).astype(np.float64))

    def objective(self, X, y, sample_weight=None):
        """Regularised training objective of the current model on (X, y).

        ``mean_i(s_i * loss(x_i . w + b, y_i)) + lam1 * |w|_1 + lam2 / 2 * |w|^2``,
        computed by a parallel kernel (an OpenMP reduction over rows).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        objective : float
        """
        check_is_fitted(self)
        X, y = self._validate_X_y(X, y, reset=False)
        targets = self._targets(y, X.dtype, fitting=False)
        sample_weight = self._sample_weight(sample_weight, X)
        kx = _KernelX(X)
        coef, intercept = self._kernel_model(kx)
        if targets.multinomial:  # the penalty is on the class rows, not their difference
            coef = np.ascontiguousarray(self._train_state["coef"], dtype=kx.dtype)
            intercept = self._train_state["state"][:, State.INTERCEPT].copy()
        rows = np.arange(kx.n_rows, dtype=np.int32)
        total = self._sum_loss(kx, targets, sample_weight, rows, coef, intercept,
                               effective_n_threads(self.n_jobs))
        return total / kx.n_rows + self._penalty_value(coef)

    # -------------------------------------------------------------- sparse coef

    def densify(self):
        """Convert a sparse ``coef_`` back to a dense array (the default format).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse CSR matrix (worth it for L1 models).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _dense(coef):
    return coef.toarray() if sp.issparse(coef) else np.asarray(coef)


def _store_init_params(estimator, init_locals):
    """Store every ``__init__`` argument unchanged, as scikit-learn's API requires."""
    for name, value in init_locals.items():
        if name != "self":
            setattr(estimator, name, value)


# Parameter documentation shared by SGDRegressor and SGDClassifier; placed into their
# docstrings by _shared_docs.
_N_JOBS_DOC = f"""n_jobs : int or None, default=None
        Threads of every kernel: one-vs-rest models in parallel, one model by
        per-sample SGD on averaged replicas (one per thread, averaged every
        {REPLICA_ROUND_ROWS} rows per thread), mini-batch gradients, prediction and
        objective.  ``None`` is one thread unless ``OMP_NUM_THREADS`` / a
        threadpoolctl limit says otherwise, ``-1`` all cores.  Every fixed ``n_jobs``
        is reproducible with ``random_state``."""

_EXTRA_PARAMETERS_DOC = """decay_rate : float, default=0.9
        Factor per epoch of ``learning_rate='exponential'``.
    eta_min : float, default=0.0
        Floor of ``learning_rate='linear'``.
    shuffle_window : int, default=32
        With ``shuffle=True``, every epoch visits each row once in random order,
        drawing it from one of 32 open windows of ``shuffle_window`` consecutive rows,
        so that X is read nearly sequentially.  ``1`` draws a uniform random
        permutation of the rows (slower on data larger than the CPU caches).
    batch_size : int or "full", default=1
        Rows per gradient step: ``1`` is per-sample SGD (scikit-learn's algorithm);
        ``k > 1`` is mini-batch SGD, the mean gradient of ``k`` rows per step followed
        by the exact proximal step of the penalty; ``"full"`` is full-batch proximal
        gradient descent, one step per epoch on the weighted mean loss, with the step
        size from the Lipschitz constant and a backtracking line search
        (``learning_rate`` and ``eta0`` are not used; the objective never increases).
        ``average`` and the ``pa1``/``pa2`` rules need ``batch_size=1``.
    optimizer : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}, \
            default="sgd"
        How a gradient becomes a step, for every batch size (PyTorch's update rules;
        the learning-rate schedule gives eta, and the penalty's prox uses each
        coordinate's step).  With ``batch_size="full"``, ``"nesterov"`` is FISTA
        (accelerated proximal gradient with the line search).  On CSR input a step
        updates only the columns stored in its rows: exact for ``"sgd"`` (and
        ``"adagrad"`` with a constant learning rate); the others then run on each
        coordinate's own steps, as PyTorch's SparseAdam does.
    momentum : float, default=0.9
        Of ``"momentum"`` and ``"nesterov"``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays of ``"adam"``.
    rho : float, default=0.99
        Decay of the squared-gradient average of ``"rmsprop"``.
    eps : float, default=1e-8
        Added to the denominator of ``"adagrad"``, ``"rmsprop"`` and ``"adam"``."""


def _shared_docs(cls):
    """Fill the ``{n_jobs}`` and ``{extra_parameters}`` slots of a docstring."""
    cls.__doc__ = (cls.__doc__.replace("{n_jobs}", _N_JOBS_DOC)
                   .replace("{extra_parameters}", _EXTRA_PARAMETERS_DOC))
    return cls


@_shared_docs
class SGDRegressor(RegressorMixin, _BaseSGD):
    """Linear regression by per-sample stochastic gradient descent.

    A drop-in replacement of :class:`sklearn.linear_model.SGDRegressor` (same
    parameters, defaults and attributes) on typed Cython + OpenMP kernels.  Penalties
    are proximal steps (L1 gives exact zeros); on sparse input the work per sample is
    proportional to its non-zeros.

    Parameters
    ----------
    loss : {'squared_error', 'huber', 'epsilon_insensitive', \
            'squared_epsilon_insensitive'}, default='squared_error'
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
    alpha : float, default=0.0001
        Regularisation strength.
    l1_ratio : float or None, default=0.15
        Elastic-net mixing: ``lam1 = alpha * l1_ratio``, ``lam2 = alpha * (1 - l1_ratio)``.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Maximum number of epochs.
    tol : float or None, default=1e-3
        Stop when the epoch objective (or validation loss with ``early_stopping``)
        has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    shuffle : bool, default=True
    verbose : int, default=0
    epsilon : float, default=0.1
        Parameter of the huber and epsilon-insensitive losses.
    random_state : int, RandomState instance or None, default=None
    learning_rate : {'invscaling', 'constant', 'optimal', 'adaptive', 'exponential', \
            'linear', 'pa1', 'pa2'}, default='invscaling'
        ``'exponential'``: ``eta0 * decay_rate ** epoch``; ``'linear'``: from ``eta0``
        down to ``eta_min`` linearly over ``max_iter`` epochs; the others as in
        scikit-learn.
    eta0 : float, default=0.01
    power_t : float, default=0.25
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its loss stops
        improving.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    warm_start : bool, default=False
    average : bool or int, default=False
        Averaged SGD; an int starts averaging after that many samples.
    {n_jobs}
    {extra_parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
    t_ : float
        Number of weight updates performed plus one.
    loss_curve_ : list of float
        Training objective of each epoch: the mean of the (weighted) per-sample losses
        met during the epoch plus the penalty at its end.
    validation_loss_curve_ : list of float
        With ``early_stopping``: the loss on the held-out set after each epoch.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    _parameter_constraints = REGRESSOR_CONSTRAINTS
    _pa_loss = "epsilon_insensitive"

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=0.0001,
                 l1_ratio=0.15, fit_intercept=True, max_iter=1000, tol=1e-3,
                 shuffle=True, verbose=0, epsilon=0.1, random_state=None,
                 learning_rate="invscaling", eta0=0.01, power_t=0.25,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 warm_start=False, average=False, n_jobs=None, decay_rate=0.9,
                 eta_min=0.0, shuffle_window=32, batch_size=1, optimizer="sgd",
                 momentum=0.9, beta_1=0.9, beta_2=0.999, rho=0.99, eps=1e-8):
        _store_init_params(self, locals())

    def _loss_id(self):
        return REGRESSION_LOSSES[self.loss]

    def _targets(self, y, dtype, fitting):
        return _Targets(np.asarray(y, dtype=dtype), None, [-1], [1.0], 1.0, dtype)

    def _set_coef(self, coef, intercept):
        self.coef_ = coef.ravel()
        self.intercept_ = intercept

    _y_numeric = True

    def _fit_targets(self, X, y, partial, classes):
        return self._targets(y, X.dtype, fitting=True)

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model with ``max_iter`` epochs of SGD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        coef_init : array of shape (n_features,), default=None
        intercept_init : array of shape (1,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, False, self.max_iter,
                                    coef_init=coef_init, intercept_init=intercept_init)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of SGD over the given samples, continuing the step counter.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, True, 1)

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._decision(X).ravel()


@_shared_docs
class SGDClassifier(ClassifierMixin, _BaseSGD):
    """Linear classification by per-sample stochastic gradient descent.

    A drop-in replacement of :class:`sklearn.linear_model.SGDClassifier` (same
    parameters, defaults and attributes) on typed Cython + OpenMP kernels.  With more
    than two classes the one-vs-rest models are trained together, in parallel across
    ``n_jobs`` threads.

    Parameters
    ----------
    loss : {'hinge', 'log_loss', 'modified_huber', 'squared_hinge', 'perceptron', \
            'squared_error', 'huber', 'epsilon_insensitive', \
            'squared_epsilon_insensitive'}, default='hinge'
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
    alpha : float, default=0.0001
    l1_ratio : float or None, default=0.15
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float or None, default=1e-3
    shuffle : bool, default=True
    verbose : int, default=0
    epsilon : float, default=0.1
    {n_jobs}
    random_state : int, RandomState instance or None, default=None
    learning_rate : {'optimal', 'constant', 'invscaling', 'adaptive', 'exponential', \
            'linear', 'pa1', 'pa2'}, default='optimal'
    eta0 : float, default=0.01
    power_t : float, default=0.5
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    class_weight : dict, 'balanced' or None, default=None
    warm_start : bool, default=False
    average : bool or int, default=False
    {extra_parameters}
    multi_class : {"ovr", "multinomial"}, default="ovr"
        ``"ovr"``: one binary model per class (scikit-learn's scheme).
        ``"multinomial"`` (``loss="log_loss"`` only): one softmax model, the class rows
        trained jointly on the cross-entropy; ``fit`` then also takes soft labels,
        an ``(n_samples, n_classes)`` array of probabilities as ``y``.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
    t_ : float
    loss_curve_ : list of float
        Training objective of each epoch (summed over the one-vs-rest models).
    validation_loss_curve_ : list of float
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    _parameter_constraints = CLASSIFIER_CONSTRAINTS
    _pa_loss = "hinge"

    def __init__(self, loss="hinge", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=0.1, n_jobs=None, random_state=None, learning_rate="optimal",
                 eta0=0.01, power_t=0.5, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False,
                 average=False, decay_rate=0.9, eta_min=0.0, shuffle_window=32,
                 batch_size=1, multi_class="ovr", optimizer="sgd", momentum=0.9,
                 beta_1=0.9, beta_2=0.999, rho=0.99, eps=1e-8):
        _store_init_params(self, locals())

    def _loss_id(self):
        return CLASSIFICATION_LOSSES[self.loss]

    def _check_params(self, for_partial_fit):
        super()._check_params(for_partial_fit)
        if self.multi_class == "multinomial":
            if self.loss != "log_loss":
                raise ValueError("multi_class='multinomial' needs loss='log_loss'; got "
                                 f"loss={self.loss!r}.")
            if self.average:
                raise ValueError("average (averaged SGD) is not available with "
                                 "multi_class='multinomial'.")
            if self.learning_rate in ("pa1", "pa2"):
                raise ValueError(f"learning_rate={self.learning_rate!r} is not "
                                 "available with multi_class='multinomial'.")

    def _validate_X_y(self, X, y, reset, **kwargs):
        shape = getattr(y, "shape", None) or np.asarray(y).shape
        if len(shape) == 2 and shape[1] > 1:  # soft labels
            kwargs.update(multi_output=True, y_numeric=True)
        return super()._validate_X_y(X, y, reset, **kwargs)

    def _soft_targets(self, Y, dtype):
        """Validate soft labels; return them as _Targets of the multinomial model."""
        if self.multi_class != "multinomial":
            raise ValueError("Soft labels (a 2D y of class probabilities) need "
                             "multi_class='multinomial'.")
        if self.class_weight is not None:
            raise ValueError("class_weight is not used with soft labels: weight the "
                             "samples (sample_weight) or the probabilities instead.")
        Y = np.ascontiguousarray(Y, dtype=dtype)
        if Y.shape[1] != len(self.classes_):
            raise ValueError(f"Soft labels have {Y.shape[1]} columns but there are "
                             f"{len(self.classes_)} classes {self.classes_!r}.")
        if np.any(Y < 0):
            raise ValueError("Soft labels must be probabilities: got negative values.")
        sums = Y.sum(axis=1, dtype=np.float64)
        bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-4)
        if bad.size:
            raise ValueError(f"Each row of soft labels must sum to 1; row {bad[0]} "
                             f"sums to {sums[bad[0]]:.6g}.")
        n_classes = len(self.classes_)
        return _Targets(None, None, np.arange(n_classes), np.ones(n_classes), 1.0,
                        dtype, soft=Y, multinomial=True)

    def _targets(self, y, dtype, fitting):
        if np.ndim(y) == 2:
            return self._soft_targets(y, dtype)
        y_class = np.searchsorted(self.classes_, y)
        y_class = np.minimum(y_class, len(self.classes_) - 1)
        unknown = self.classes_[y_class] != y
        if np.any(unknown):
            raise ValueError(f"y contains labels not in classes_ {self.classes_!r}: "
                             f"{np.unique(np.asarray(y)[unknown])!r}")
        y_class = y_class.astype(np.int32)
        n_classes = len(self.classes_)
        if fitting:
            weights = compute_class_weight(self.class_weight, classes=self.classes_,
                                           y=y)
        else:
            weights = getattr(self, "_class_weight", np.ones(n_classes))
        self._class_weight = weights
        if self.multi_class == "multinomial":
            return _Targets(None, y_class, np.arange(n_classes), weights, 1.0, dtype,
                            multinomial=True)
        if n_classes == 2:
            return _Targets(None, y_class, [1], [weights[1]], weights[0], dtype)
        return _Targets(None, y_class, np.arange(n_classes), weights, 1.0, dtype)

    def _set_coef(self, coef, intercept):
        self.coef_ = coef
        self.intercept_ = intercept

    _y_numeric = False

    def _fit_targets(self, X, y, partial, classes):
        soft = np.ndim(y) == 2
        if not soft:
            check_classification_targets(y)
        if not partial:
            if classes is not None:
                self.classes_ = np.unique(classes)
            else:
                self.classes_ = np.arange(y.shape[1]) if soft else np.unique(y)
        elif not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to "
                                 "partial_fit.")
            self.classes_ = np.unique(classes)
        elif classes is not None and not np.array_equal(self.classes_,
                                                        np.unique(classes)):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call "
                             f"to partial_fit, was: {self.classes_!r}")
        if partial and self.class_weight == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In order "
                "to use 'balanced' weights, use compute_class_weight('balanced', "
                "classes=classes, y=y) on a large enough sample of the targets and "
                "pass the resulting weights as the class_weight parameter.")
        if len(self.classes_) < 2:
            raise ValueError("The number of classes has to be greater than one; got "
                             f"{len(self.classes_)} class")
        return self._targets(y, X.dtype, fitting=True)

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None,
            classes=None):
        """Fit the model with ``max_iter`` epochs of SGD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or (``multi_class="multinomial"``) soft labels: rows of
            class probabilities, e.g. a larger model's ``predict_proba``.
        coef_init : array of shape (n_classes, n_features), default=None
        intercept_init : array of shape (n_classes,), default=None
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            The class labels; by default the labels found in ``y``, or
            ``arange(n_classes)`` for soft labels.

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, False, self.max_iter,
                                    classes=classes, coef_init=coef_init,
                                    intercept_init=intercept_init)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of SGD over the given samples, continuing the step counter.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit_or_partial(X, y, sample_weight, True, 1, classes=classes)

    def decision_function(self, X):
        """Signed distance to the separating hyperplane(s), rows in parallel.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        scores = self._decision(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def _has_proba(self):
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError("probability estimates are not available for "
                                 f"loss={self.loss!r}")
        return True

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities (log_loss: logistic; modified_huber: clipped).

        With more than two classes the one-vs-rest probabilities are normalised to
        sum to one; a multinomial model gives the softmax of its logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self._decision(X).astype(np.float64)
        if self.multi_class == "multinomial" and scores.shape[1] > 1:
            scores -= scores.max(axis=1, keepdims=True)
            prob = np.exp(scores)
            return prob / prob.sum(axis=1, keepdims=True)
        if self.loss == "log_loss":
            prob = 0.5 * (1.0 + np.tanh(0.5 * scores))  # the logistic function
        else:
            prob = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
        if prob.shape[1] == 1:
            return np.hstack([1.0 - prob, prob])
        norm = prob.sum(axis=1, keepdims=True)
        zero = norm[:, 0] == 0
        prob[zero] = 1.0
        norm[zero] = prob.shape[1]
        return prob / norm

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
