"""The penalty ``lam1 |w|_1 + lam2 / 2 |w|^2`` on the Python side: its value and its
exact proximal operator (the kernels apply their own, fused into their steps).
Intercepts are never penalised."""
import numpy as np


def prox_elastic_net(w, step, lam1, lam2):
    """Exact proximal operator of ``step * (lam1 |w|_1 + lam2 / 2 |w|^2)``.

    Parameters
    ----------
    w : ndarray
    step, lam1, lam2 : float

    Returns
    -------
    ndarray
        ``sign(w) * max(|w| - step * lam1, 0) / (1 + step * lam2)``.
    """
    shrunk = np.sign(w) * np.maximum(np.abs(w) - step * lam1, 0.0)
    return shrunk / (1.0 + step * lam2)


def penalty_value(coef, lam1, lam2):
    """``lam1 |w|_1 + lam2 / 2 |w|^2`` of the weights, summed in float64.

    Parameters
    ----------
    coef : ndarray
    lam1, lam2 : float

    Returns
    -------
    float
    """
    value = 0.0
    if lam1:
        value += lam1 * np.abs(coef).sum(dtype=np.float64)
    if lam2:
        value += 0.5 * lam2 * np.square(coef, dtype=np.float64).sum()
    return value
