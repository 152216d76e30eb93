"""asv suites: fit time, peak memory and the quality reached, fastgd next to
scikit-learn on the same arrays (``asv run --python=same --quick``).

Every suite is parametrised by library so that a ratio is read off one run; the
``track_`` benchmarks record the score so a faster but worse fit shows up.
"""
import numpy as np

import fastgd
from fastgd.bench.synthetic import (
    dense_multiclass, dense_regression, sparse_classification,
)
from sklearn import linear_model

LIBS = ["fastgd", "sklearn"]


def _dense(n=200_000, d=100, dtype=np.float64):
    return dense_regression(n, d, np.random.default_rng(0), dtype=dtype)


def _sparse(n=200_000, d=50_000, k=50):
    return sparse_classification(n, d, k, np.random.default_rng(0))


def _regressor(lib, **kw):
    if lib == "sklearn":
        return linear_model.SGDRegressor(max_iter=5, tol=None, random_state=0, **kw)
    if lib == "fastgd-uniform":  # a uniform permutation per epoch instead of windows
        kw["shuffle_window"] = 1
    return fastgd.SGDRegressor(max_iter=5, tol=None, random_state=0, **kw)


def _classifier(lib, **kw):
    cls = fastgd.SGDClassifier if lib == "fastgd" else linear_model.SGDClassifier
    return cls(max_iter=5, tol=None, random_state=0, **kw)


class DenseRegression:
    """Squared error + L2, 5 epochs of per-sample SGD, dense float64 / float32."""

    params = (["fastgd", "fastgd-uniform", "sklearn"], ["float64", "float32"])
    param_names = ["lib", "dtype"]
    timeout = 300

    def setup(self, lib, dtype):
        self.X, self.y = _dense(dtype=np.dtype(dtype))

    def time_fit(self, lib, dtype):
        _regressor(lib).fit(self.X, self.y)

    def peakmem_fit(self, lib, dtype):
        _regressor(lib).fit(self.X, self.y)

    def track_r2(self, lib, dtype):
        return _regressor(lib).fit(self.X, self.y).score(self.X, self.y)


class SparseLogistic:
    """Log loss on CSR data with Zipf features, 5 epochs."""

    params = (LIBS,)
    param_names = ["lib"]
    timeout = 300

    def setup(self, lib):
        self.X, self.y = _sparse()

    def time_fit(self, lib):
        _classifier(lib, loss="log_loss", alpha=1e-6).fit(self.X, self.y)

    def peakmem_fit(self, lib):
        _classifier(lib, loss="log_loss", alpha=1e-6).fit(self.X, self.y)

    def track_accuracy(self, lib):
        m = _classifier(lib, loss="log_loss", alpha=1e-6).fit(self.X, self.y)
        return m.score(self.X, self.y)


class MulticlassOvR:
    """Hinge one-vs-rest on 8 classes; fastgd with 1 and all threads."""

    params = (["fastgd-1", "fastgd-all", "sklearn"],)
    param_names = ["lib"]
    timeout = 300

    def setup(self, lib):
        self.X, self.y = dense_multiclass(50_000, 50, 8, np.random.default_rng(0))

    def _model(self, lib):
        if lib == "sklearn":
            return _classifier("sklearn")
        return _classifier("fastgd", n_jobs=1 if lib == "fastgd-1" else -1)

    def time_fit(self, lib):
        self._model(lib).fit(self.X, self.y)

    def track_accuracy(self, lib):
        return self._model(lib).fit(self.X, self.y).score(self.X, self.y)


class Floor:
    """The memory floor: numpy reading the dense X once, next to one fastgd epoch."""

    def setup(self):
        self.X, self.y = _dense()

    def time_numpy_reads_X(self):
        self.X.sum()

    def time_fastgd_one_epoch(self):
        fastgd.SGDRegressor(max_iter=1, tol=None, random_state=0).fit(self.X, self.y)


class FullBatchGradient:
    """One full-batch gradient over dense X (log loss), at 1 and 2 threads: fastgd's
    fused pass (loss, derivative and gradient in one read of X, rows split over the
    threads, the sums added in a fixed order), next to numpy reading X once with
    the same threads (``X[block].sum()`` per thread, which releases the GIL: the
    memory floor of a parallel pass) and numpy's two passes ``X.T @ (X @ w - y)``."""

    params = ([1, 2],)
    param_names = ["n_threads"]

    def setup(self, n_threads):
        from concurrent.futures import ThreadPoolExecutor

        from fastgd._config import MIN_ROWS_PER_PARALLEL_BATCH
        from fastgd._kernels import _batch
        from fastgd._kernels._losses import LogLoss
        from fastgd._kernels._structs import Rows, Targets

        self.X, y = _dense()
        n, d = self.X.shape
        self.y = y
        self.coef = np.full((1, d), 0.01)
        self.loss, self.rows = LogLoss(), Rows(self.X)
        labels = (y > np.median(y)).astype(np.int32)
        self.targets = Targets(self.X.dtype, n, [1], [1.0], 1.0, y_class=labels,
                               n_classes=2)
        self.work = _batch.Workspace(self.loss, self.rows, 1, n_threads,
                                     min_parallel_rows=MIN_ROWS_PER_PARALLEL_BATCH)
        self.gradient = _batch.gradient
        self.blocks = np.array_split(np.arange(n), n_threads)
        self.pool = ThreadPoolExecutor(n_threads)

    def teardown(self, n_threads):
        self.pool.shutdown()

    def time_fastgd_fused_gradient(self, n_threads):
        self.gradient(self.loss, self.rows, self.targets, None, self.coef, np.zeros(1),
                      self.work)

    def time_numpy_reads_X(self, n_threads):
        X = self.X
        sum(self.pool.map(lambda b: X[b[0]:b[-1] + 1].sum(), self.blocks))

    def time_numpy_two_passes(self, n_threads):
        self.X.T @ (self.X @ self.coef[0] - self.y)


class BatchSizes:
    """One epoch over dense 200k x 100 per batch size (squared error + L2), and a
    PyTorch linear layer with torch.optim.SGD on the same arrays when torch is
    installed (the benchmark is skipped otherwise)."""

    params = ([1, 32, 256, "full", "torch-32", "torch-256"],)
    param_names = ["batch_size"]
    timeout = 300

    def setup(self, batch_size):
        self.X, self.y = _dense()
        if str(batch_size).startswith("torch"):
            try:
                import torch
            except ImportError:
                raise NotImplementedError("torch is not installed")
            torch.set_num_threads(1)
            self.torch = torch
            self.Xt = torch.from_numpy(self.X)
            self.yt = torch.from_numpy(self.y)

    def _epoch(self, batch_size):
        """One epoch; returns the predictions on X."""
        if str(batch_size).startswith("torch"):
            model = self._torch_epoch(int(batch_size.split("-")[1]))
            return model(self.Xt).detach().numpy().ravel()
        return fastgd.SGDRegressor(batch_size=batch_size, max_iter=1, tol=None,
                                   random_state=0, learning_rate="constant",
                                   eta0=0.01).fit(self.X, self.y).predict(self.X)

    def time_one_epoch(self, batch_size):
        self._epoch(batch_size)

    def peakmem_one_epoch(self, batch_size):
        self._epoch(batch_size)

    def track_r2(self, batch_size):
        from sklearn.metrics import r2_score

        return r2_score(self.y, self._epoch(batch_size))

    def _torch_epoch(self, k):
        torch = self.torch
        model = torch.nn.Linear(self.X.shape[1], 1, dtype=torch.float64)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)
        order = torch.randperm(len(self.yt))
        for start in range(0, len(order), k):
            rows = order[start:start + k]
            opt.zero_grad()
            loss = 0.5 * ((model(self.Xt[rows]).squeeze(1) - self.yt[rows]) ** 2).mean()
            loss.backward()
            opt.step()
        return model


class SparseOptimizers:
    """One epoch of log loss + L2 on sparse 200k x 50k (50 stored entries per row) per
    optimizer and batch size: on CSR a step costs the batch's non-zeros, not
    n_features, whatever the optimizer."""

    params = (["sgd", "adagrad", "adam"], [1, 32])
    param_names = ["optimizer", "batch_size"]
    timeout = 300

    def setup(self, optimizer, batch_size):
        self.X, self.y = _sparse()

    def _model(self, optimizer, batch_size):
        return fastgd.SGDClassifier(
            loss="log_loss", optimizer=optimizer, batch_size=batch_size, max_iter=1,
            tol=None, random_state=0, eta0=0.1 if optimizer == "adagrad" else 0.01,
            learning_rate="optimal" if optimizer == "sgd" else "constant")

    def time_one_epoch(self, optimizer, batch_size):
        self._model(optimizer, batch_size).fit(self.X, self.y)

    def track_accuracy(self, optimizer, batch_size):
        return self._model(optimizer, batch_size).fit(self.X, self.y).score(self.X, self.y)


class Threads:
    """5 epochs of per-sample SGD with one thread and with all cores: dense squared
    error + L2 and sparse log loss (one model, so the threads run averaged
    replicas), next to scikit-learn."""

    params = (["dense", "sparse"], ["fastgd-1", "fastgd-all", "sklearn"])
    param_names = ["data", "lib"]
    timeout = 300

    def setup(self, data, lib):
        self.X, self.y = _dense() if data == "dense" else _sparse()

    def _model(self, data, lib):
        n_jobs = {"fastgd-1": 1, "fastgd-all": -1}.get(lib)
        if data == "dense":
            if lib == "sklearn":
                return _regressor("sklearn")
            return _regressor("fastgd", n_jobs=n_jobs)
        kw = dict(loss="log_loss", alpha=1e-6)
        if lib == "sklearn":
            return _classifier("sklearn", **kw)
        return _classifier("fastgd", n_jobs=n_jobs, **kw)

    def time_fit(self, data, lib):
        self._model(data, lib).fit(self.X, self.y)

    def peakmem_fit(self, data, lib):
        self._model(data, lib).fit(self.X, self.y)

    def track_score(self, data, lib):
        return self._model(data, lib).fit(self.X, self.y).score(self.X, self.y)


class VisitingOrder:
    """Drawing one epoch's visiting order of 500,000 rows: the windowed shuffle (the
    default, generated in parallel parts) on one thread and on all cores, and the
    uniform permutation, next to numpy's permutation of the same rows."""

    params = ["windowed-1", "windowed-all", "uniform", "numpy"]
    param_names = ["order"]

    def setup(self, order):
        from fastgd._kernels import _shuffle
        from fastgd._config import effective_n_threads

        self.shuffle, self.n_open = _shuffle, _shuffle.SHUFFLE_OPEN_WINDOWS
        self.all_threads = effective_n_threads(-1)
        self.rows = np.arange(500_000, dtype=np.int32)
        self.order = np.empty_like(self.rows)
        self.stream = np.empty_like(self.rows)
        self.rng = np.random.default_rng(0)

    def time_draw(self, order):
        if order == "numpy":
            self.rng.permutation(self.rows)
        elif order == "uniform":
            self.shuffle.shuffle(self.order, 7)
        else:
            n_threads = 1 if order == "windowed-1" else self.all_threads
            self.shuffle.windowed_shuffle(self.rows, self.order, self.stream, 7, 32,
                                          self.n_open, n_threads)
