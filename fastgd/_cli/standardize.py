"""Standardization of the command line's data files, computed in one pass of blocks.

``ColumnMoments`` gathers each column's mean and variance block by block (Chan,
Golub and LeVeque's pairwise update, so a file is read once and the result does not
depend on the block size beyond rounding); a column first seen in a later block (a
sparse file) counted zeros in every earlier row.  ``Standardizer`` is what the model
file keeps: scikit-learn's ``StandardScaler`` rule (subtract the mean, divide by the
standard deviation; a constant column is divided by 1), without centring for sparse
data (``with_mean=False``), which would fill the zeros in.  It scales a block in
place: the blocks are the reader's own arrays, never the user's.
"""
import numpy as np
import scipy.sparse as sp


class ColumnMoments:
    """Count, mean and sum of squared deviations of each column, block by block."""

    def __init__(self):
        self.n = 0
        self.mean = np.zeros(0)
        self.m2 = np.zeros(0)

    def _widen(self, width):
        if width > self.mean.size:
            grow = width - self.mean.size
            self.mean = np.concatenate([self.mean, np.zeros(grow)])
            self.m2 = np.concatenate([self.m2, np.zeros(grow)])

    def add(self, X):
        """Count the rows of ``X`` (dense or CSR; its width may grow block to block)."""
        rows = X.shape[0]
        if rows == 0:
            return
        self._widen(X.shape[1])
        if sp.issparse(X):
            sums = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
            squares = np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).ravel()
            block_mean = sums / rows
            block_m2 = np.maximum(squares - rows * block_mean * block_mean, 0.0)
        else:
            block_mean = X.mean(axis=0, dtype=np.float64)
            block_m2 = ((X - block_mean) ** 2).sum(axis=0)
        width = block_mean.size
        total = self.n + rows
        delta = block_mean - self.mean[:width]
        self.mean[:width] += delta * (rows / total)
        self.m2[:width] += block_m2 + delta * delta * (self.n * rows / total)
        # the columns this block does not reach: its rows are zeros there
        rest = self.mean[width:]
        self.m2[width:] += rest * rest * (self.n * rows / total)
        self.mean[width:] -= rest * (rows / total)
        self.n = total


class Standardizer:
    """``(X - mean) / scale`` per column, as ``StandardScaler``.

    Parameters
    ----------
    mean : ndarray or None
        None: no centring (sparse data).
    scale : ndarray
    """

    def __init__(self, mean, scale):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    @classmethod
    def from_moments(cls, moments, n_features, center, first_column=0):
        """The standardizer of the columns ``first_column ..`` of ``moments``,
        ``n_features`` of them (columns it never saw are zeros)."""
        moments._widen(first_column + n_features)
        columns = slice(first_column, first_column + n_features)
        std = np.sqrt(moments.m2[columns] / max(moments.n, 1))
        scale = np.where(std > 10 * np.finfo(np.float64).eps, std, 1.0)
        return cls(moments.mean[columns].copy() if center else None, scale)

    def apply(self, X):
        """Standardize ``X`` (dense or CSR, of this many columns) in place; return
        it."""
        if X.shape[1] != self.scale.size:
            raise ValueError(f"the standardization has {self.scale.size} columns; "
                             f"the data has {X.shape[1]}.")
        if sp.issparse(X):
            X.data /= self.scale[X.indices]
        else:
            if self.mean is not None:
                X -= self.mean
            X /= self.scale
        return X

    def to_json(self):
        """A JSON-able mapping (the model file's metadata)."""
        return dict(mean=None if self.mean is None else self.mean.tolist(),
                    scale=self.scale.tolist())

    @classmethod
    def from_json(cls, mapping, n_features, source):
        """The standardizer stored by ``to_json``, checked against the model's
        ``n_features`` (``source`` names the file in errors)."""
        try:
            scale = np.asarray(mapping["scale"], dtype=np.float64)
            mean = mapping.get("mean")
            mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ValueError(f"{source}: its standardization is damaged.") from None
        sizes_ok = scale.shape == (n_features,) and (mean is None
                                                     or mean.shape == (n_features,))
        if not sizes_ok or not np.all(np.isfinite(scale) & (scale > 0)) or (
                mean is not None and not np.all(np.isfinite(mean))):
            raise ValueError(f"{source}: its standardization does not fit the "
                             f"model's {n_features} features.")
        return cls(mean, scale)
