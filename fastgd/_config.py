"""Build configuration, and threads: how ``n_jobs`` becomes a number of threads and how
each kernel family uses them.

``n_jobs`` means one thing: the number of OpenMP threads, resolved once per call by
``effective_n_threads``.  The kernels spend them as follows, with the policy numbers
below (the kernels take them as arguments and hold none of their own):

* per-sample SGD of several models (one-vs-rest): the models in parallel;
* per-sample SGD of one model: one thread (its model does not depend on ``n_jobs``;
  see ``_sgd.pyx`` for the parallel schemes measured and why they were dropped);
* mini-batch and full-batch gradients: blocks of ``MIN_ROWS_PER_PARALLEL_BATCH`` rows
  in parallel, their sums added in block order (the same bits at every thread count;
  a batch of fewer rows is one block on one thread: it is not worth a
  barrier: on 200k-row fits with batches of 256 to 16384 rows, 2 threads took 1.52,
  1.24, 1.03 and 0.97 times the one-thread time on sparse rows and about 1.0 on dense
  ones, whose memory is the bound on this 2-core machine);
* the windowed shuffle: its parts in parallel (the order does not depend on it);
* prediction and objective: the rows in parallel.
"""
import os

# Threads that wait (for the next parallel region, or at a barrier) sleep rather than
# spin: a spinning thread holds its core, and when another process wants that core
# (a second fit, a test run, a GridSearchCV worker) the spinning turns one busy core
# into a several-fold slowdown.  Measured beside one CPU-bound process, 2 threads
# against 1: a mini-batch fit with a barrier every 256 rows took 6.2 times as long
# with GCC's default spinning and 1.08 times with passive waiting; with passive
# waiting and no barrier for batches under MIN_ROWS_PER_PARALLEL_BATCH, every case of
# ``benchmarks/busy_machine.py`` takes at most 1.07 times the one-thread time
# (mini-batch 8192 rows on CSR: 1.20 with spinning).
# libgomp reads the policy once, when it is loaded: fastgd's first extension loads it
# here, and the environment is put back at once.  A policy the user set
# (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``) is kept.
_POLICY_SET_BY_USER = any(name in os.environ
                          for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
if not _POLICY_SET_BY_USER:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    from fastgd._kernels._openmp import omp_max_threads, openmp_enabled
finally:
    if not _POLICY_SET_BY_USER:
        del os.environ["OMP_WAIT_POLICY"]

MIN_ROWS_PER_PARALLEL_BATCH = 4096

#: the largest ``n_jobs``
MAX_N_JOBS = 4096


def effective_n_threads(n_jobs):
    """Number of OpenMP threads a kernel call uses for ``n_jobs``.

    A limit on OpenMP's threads (``OMP_NUM_THREADS``, a threadpoolctl
    ``threadpool_limits``, or the inner limit joblib sets in its workers, e.g. under
    GridSearchCV) caps every value, so that nested use does not oversubscribe the
    cores.  Within it: ``None`` means one thread unless such a limit gives a number;
    ``-1`` means all the cores the limit allows, ``-2`` all but one, and so on; a
    positive integer is taken as is.  Without OpenMP it is always 1.

    Parameters
    ----------
    n_jobs : int or None

    Returns
    -------
    n_threads : int
    """
    if not openmp_enabled():
        return 1
    n_cpus = os.cpu_count() or 1
    limit = max(1, omp_max_threads())
    limited = "OMP_NUM_THREADS" in os.environ or limit < n_cpus
    if n_jobs is None:
        return limit if limited else 1
    if n_jobs == 0:
        raise ValueError("The 'n_jobs' parameter must be a non-zero integer or None; "
                         "got 0.")
    if n_jobs < 0:
        return max(1, min(limit, n_cpus) + 1 + n_jobs)
    return min(int(n_jobs), limit) if limited else int(n_jobs)


def show_config():
    """Print fastgd's version, whether OpenMP is compiled in and the default threads."""
    from fastgd import __version__

    from fastgd._kernels._structs import DEBUG_BUILD

    print(f"fastgd {__version__}")
    print(f"  debug build (index checks): {DEBUG_BUILD}")
    print(f"  OpenMP compiled in: {openmp_enabled()}")
    print(f"  OpenMP max threads: {omp_max_threads()}")
    print(f"  threads for n_jobs=None: {effective_n_threads(None)}")
    print(f"  threads for n_jobs=-1: {effective_n_threads(-1)}")
