"""Full-batch proximal gradient descent: ISTA and FISTA with a backtracking line search.

Minimises ``F(w, b) = f(w, b) + lam1 |w|_1 + lam2 / 2 |w|^2`` where ``f`` is the mean
(weighted) loss of the data, given as a callable that returns ``f`` and its gradient
(one fused pass of ``_batch.batch_gradient`` over X).  The step is ``1 / L``; ``L``
starts from a bound of the Lipschitz constant of ``grad f`` and is doubled until the
sufficient-decrease condition of Beck & Teboulle (2009) holds, and lowered gently
between iterations so that it tracks the local curvature.  The accelerated variant is
the monotone FISTA of Beck & Teboulle (2009): the iterate keeps the better of the new
point and the previous one, so ``F`` never increases from one iteration to the next.
For non-smooth losses (hinge, perceptron, epsilon-insensitive) the sufficient-decrease
test may fail for every ``L``; past ``max_backtracks`` doublings a step is accepted
only if it lowers ``F``, else the run stops.  Intercepts are not penalised.

This module is NumPy on top of the gradient kernel; every call to ``smooth`` is one
pass over X.
"""
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


def penalty(w, lam1, lam2):
    """``lam1 |w|_1 + lam2 / 2 |w|^2``."""
    return lam1 * np.abs(w).sum() + 0.5 * lam2 * np.dot(w.ravel(), w.ravel())


def proximal_gradient(smooth, w0, b0, *, lam1, lam2, fit_intercept, lipschitz,
                      max_iter, tol, accelerated, max_backtracks=40):
    """Minimise ``smooth(w, b)[0] + penalty(w)`` by (accelerated) proximal gradient.

    Parameters
    ----------
    smooth : callable
        ``smooth(w, b) -> (f, grad_w, grad_b)``: the mean loss and its gradient.
    w0 : ndarray of shape (n_models, n_features)
    b0 : ndarray of shape (n_models,)
    lam1, lam2 : float
        Penalty strengths.
    fit_intercept : bool
        When False, ``b`` stays at ``b0``.
    lipschitz : float
        Starting value of ``L`` (an estimate of the Lipschitz constant of grad f).
    max_iter : int
        Iterations (each one gradient step, i.e. one epoch of full-batch GD).
    tol : float or None
        Stop when ``F`` decreased by less than ``tol * max(1, |F|)`` in an iteration.
    accelerated : bool
        FISTA (monotone) instead of ISTA.
    max_backtracks : int, default=40

    Returns
    -------
    w, b : ndarrays
        The final iterate.
    history : list of float
        ``F`` after every iteration.
    n_iter : int
    """
    w, b = w0.astype(np.float64), b0.astype(np.float64)
    f, gw, gb = smooth(w, b)
    F = f + penalty(w, lam1, lam2)
    L = max(float(lipschitz), 1e-12)
    y_w, y_b, y_f, y_gw, y_gb = w, b, f, gw, gb  # extrapolation point of FISTA
    t = 1.0
    history = []
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        for attempt in range(max_backtracks + 1):
            z_w = prox_elastic_net(y_w - y_gw / L, 1.0 / L, lam1, lam2)
            z_b = y_b - y_gb / L if fit_intercept else y_b
            z_f, z_gw, z_gb = smooth(z_w, z_b)
            dw, db = z_w - y_w, z_b - y_b
            model = (y_f + np.vdot(y_gw, dw) + np.vdot(y_gb, db)
                     + 0.5 * L * (np.vdot(dw, dw) + np.vdot(db, db)))
            if z_f <= model + 1e-12 * abs(model):
                break
            if attempt == max_backtracks:
                break  # non-smooth loss: judged by the decrease of F below
            L *= 2.0
        z_F = z_f + penalty(z_w, lam1, lam2)
        previous_F = F
        if accelerated:
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            if z_F <= F:
                new_w, new_b, new_F, new_f, new_gw, new_gb = z_w, z_b, z_F, z_f, z_gw, z_gb
            else:
                new_w, new_b, new_F, new_f, new_gw, new_gb = w, b, F, f, gw, gb
            y_w = new_w + (t / t_next) * (z_w - new_w) + ((t - 1.0) / t_next) * (new_w - w)
            y_b = new_b + (t / t_next) * (z_b - new_b) + ((t - 1.0) / t_next) * (new_b - b)
            w, b, F, f, gw, gb = new_w, new_b, new_F, new_f, new_gw, new_gb
            t = t_next
            if y_w is w or (np.array_equal(y_w, w) and np.array_equal(y_b, b)):
                y_f, y_gw, y_gb = f, gw, gb
            else:
                y_f, y_gw, y_gb = smooth(y_w, y_b)
        else:
            if z_F > F:
                history.append(F)
                break  # no descent left (non-smooth loss at its kink)
            w, b, F, f, gw, gb = z_w, z_b, z_F, z_f, z_gw, z_gb
            y_w, y_b, y_f, y_gw, y_gb = w, b, f, gw, gb
        history.append(F)
        L *= 0.9  # let the step grow again where the curvature allows
        if tol is not None and previous_F - F < tol * max(1.0, abs(F)) and (
                not accelerated or z_F <= previous_F):
            break
    return w, b, history, n_iter


# Bound on the second derivative of each smooth loss in the prediction (1 for the
# non-smooth ones, where the line search decides).
CURVATURE = {
    "squared_error": 1.0, "huber": 1.0, "log_loss": 0.25, "squared_hinge": 2.0,
    "modified_huber": 2.0, "squared_epsilon_insensitive": 2.0, "hinge": 1.0,
    "perceptron": 1.0, "epsilon_insensitive": 1.0,
}


def lipschitz_estimate(X, sample_weight, curvature, fit_intercept, n_iter=8, seed=0):
    """Estimate of the Lipschitz constant of the mean loss' gradient.

    ``curvature * lambda_max(X1^T S X1) / n`` with ``X1 = [X, 1]`` (the intercept
    column when fitted) and ``S`` the sample weights, by a few power iterations
    (two passes over X each).  The line search of ``proximal_gradient`` corrects an
    underestimate.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    curvature : float
    fit_intercept : bool
    n_iter : int, default=8
    seed : int, default=0

    Returns
    -------
    float
    """
    n, d = X.shape
    s = np.ones(n) if sample_weight is None or len(sample_weight) == 0 else sample_weight
    v = np.random.default_rng(seed).normal(size=d + 1)
    if not fit_intercept:
        v[-1] = 0.0
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(n_iter):
        u = s * (X @ v[:-1] + v[-1])
        new = np.empty(d + 1)
        new[:-1] = X.T @ u
        new[-1] = u.sum() if fit_intercept else 0.0
        lam = np.linalg.norm(new)
        if lam == 0.0:
            break
        v = new / lam
    return curvature * lam / n
