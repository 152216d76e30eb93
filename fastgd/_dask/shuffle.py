"""``shuffle_rows``: the rows of Dask collections put in one random order across
their chunks, once, before SGD trains on them.

SGD on a cluster visits each chunk's rows together (``source.ClusterEpochs``), so
rows ordered across the chunks (by label, by time, as partitions written by a
pipeline often are) reach the model in long runs of one kind, and it learns worse
than from rows in a random order.  Moving the rows once costs one all-to-all
exchange between the workers (``dask.array.shuffle``, which sends each chunk's rows
to the chunks they go to, never all of X through one worker) and memory for the
shuffled copy on the cluster; the epochs that follow then mix the rows as SGD on one
machine does.  The chunks keep X's sizes, and X, y and the weights move alike.
"""
import numpy as np
from sklearn.utils import check_random_state

from fastgd._dask.chunks import _aligned, is_dask, rows_of


def shuffle_rows(X, *arrays, random_state=None):
    """The rows of Dask collections in one random order across their chunks.

    Returns lazy Dask arrays: persist them (``client.persist``) before fitting, so
    that the rows move once, not once per epoch.

    Parameters
    ----------
    X : dask Array or DataFrame of shape (n_samples, n_features)
        A Dask array's or a DataFrame's rows (a DataFrame's chunk sizes are computed:
        one pass over its index).
    *arrays : dask or NumPy array-like of shape (n_samples,) or (n_samples, k)
        ``y``, the sample weights, ...: each row moves with X's.
    random_state : int, RandomState instance or None, default=None
        The order.  An int gives the same order on every call.

    Returns
    -------
    shuffled : dask Array, or list of dask Arrays
        X's rows in the new order, in chunks of X's sizes (and then each of
        ``arrays`` likewise, as a list, when there are any).

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from fastgd import shuffle_rows
    >>> X = da.from_array(np.arange(8.0).reshape(4, 2), chunks=(2, 2))
    >>> y = da.from_array(np.array([0, 0, 1, 1]), chunks=2)
    >>> Xs, ys = shuffle_rows(X, y, random_state=0)
    >>> Xs.chunks[0], sorted(ys.compute().tolist())
    ((2, 2), [0, 0, 1, 1])
    """
    import dask.array as da

    if not is_dask(X):
        raise TypeError(f"shuffle_rows shuffles Dask collections: X must be a "
                        f"dask.array.Array or a dask DataFrame; got "
                        f"{type(X).__name__} (use sklearn.utils.shuffle in memory).")
    X = rows_of(X)
    others = [_aligned(arr, X, f"arrays[{i}]") for i, arr in enumerate(arrays)]
    if any(arr is None for arr in others):
        raise ValueError("shuffle_rows takes arrays, not None.")
    order = check_random_state(random_state).permutation(X.shape[0])
    bounds = np.cumsum((0,) + X.chunks[0])
    # one group per chunk of X: the chunk its rows go to, in the order given
    groups = [order[start:stop].tolist() for start, stop in zip(bounds[:-1], bounds[1:])]
    shuffled = [da.shuffle(arr, groups, axis=0) for arr in [X] + others]
    return shuffled[0] if not arrays else shuffled
