"""Build configuration, and threads: how ``n_jobs`` becomes a number of threads and how
each kernel family uses them.

``n_jobs`` means one thing: the number of OpenMP threads, resolved once per call by
``effective_n_threads``.  The kernels spend them as follows, with the policy numbers
below (the kernels take them as arguments and hold none of their own):

* per-sample SGD of several models (one-vs-rest): the models in parallel;
* per-sample SGD of one model: one thread (its model does not depend on ``n_jobs``;
  see ``_sgd.pyx`` for the parallel schemes measured and why they were dropped);
* mini-batch and full-batch gradients: the rows of a batch in parallel, for batches of
  at least ``MIN_ROWS_PER_PARALLEL_BATCH`` rows;
* the windowed shuffle: its parts in parallel (the order does not depend on it);
* prediction and objective: the rows in parallel.
"""
import os

from fastgd._openmp import omp_max_threads, openmp_enabled

MIN_ROWS_PER_PARALLEL_BATCH = 256

#: the largest ``n_jobs``
MAX_N_JOBS = 4096


def effective_n_threads(n_jobs):
    """Number of OpenMP threads a kernel call uses for ``n_jobs``.

    ``None`` means one thread unless ``OMP_NUM_THREADS`` or a threadpoolctl limit on
    OpenMP says otherwise; ``-1`` means all cores, ``-2`` all but one, and so on;
    a positive integer is taken as is.  Without OpenMP it is always 1.

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
    if n_jobs is None:
        limit = omp_max_threads()
        limited = "OMP_NUM_THREADS" in os.environ or limit < n_cpus
        return max(1, limit) if limited else 1
    if n_jobs == 0:
        raise ValueError("The 'n_jobs' parameter must be a non-zero integer or None; "
                         "got 0.")
    if n_jobs < 0:
        return max(1, n_cpus + 1 + n_jobs)
    return int(n_jobs)


def show_config():
    """Print fastgd's version, whether OpenMP is compiled in and the default threads."""
    from fastgd import __version__

    from fastgd._structs import DEBUG_BUILD

    print(f"fastgd {__version__}")
    print(f"  debug build (index checks): {DEBUG_BUILD}")
    print(f"  OpenMP compiled in: {openmp_enabled()}")
    print(f"  OpenMP max threads: {omp_max_threads()}")
    print(f"  threads for n_jobs=None: {effective_n_threads(None)}")
    print(f"  threads for n_jobs=-1: {effective_n_threads(-1)}")
