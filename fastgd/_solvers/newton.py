"""Full-batch Newton's method for smooth losses with an L2 penalty (or none).

Minimises ``F(w, b) = f(w, b) + lam2 / 2 |w|^2`` where ``f`` is the mean (weighted)
loss, given with its gradient (``smooth``, one pass over X) and its Hessian
(``hessian``: ``X1' diag(c) X1 / sum s`` per model row).  The caller's Hessian may be
that of a fixed sample of the rows (the estimators take at most 20,000 rows, scaled
to the whole: a sub-sampled Newton method, whose steps cost about a pass of the
gradient); the gradient and the line search are exact, so the iterates converge to
the exact optimum, quadratically with the whole Hessian and fast-linearly with a
sample of it.  Each model row (one-vs-rest) is its own problem: its Hessian block is
solved alone.

* Direction: the Newton system ``(H + lam2 I_w) p = -g`` solved by Cholesky
  (SciPy's ``cho_factor``); a Hessian that is not positive definite (a flat loss with
  no penalty: the rows' curvature vanishes on a direction) gets a small ridge,
  growing until the factorisation holds, so the direction is always one of descent.
* Step: backtracking from the unit step (halving) until the Armijo condition holds;
  each trial is one pass over X, and the accepted trial's gradient is the next
  iteration's.  Near the optimum the unit step is taken and convergence is
  quadratic: a few iterations reach the optimum to rounding from any start.
* Damping (Levenberg's): a step that had to be cut adds ``mu`` times the mean of
  the Hessian's diagonal to it for the next iterations (``mu`` grows 4-fold per cut
  step, shrinks 4-fold per unit step, to 0).  A sampled Hessian can miss the
  curvature of a feature that few rows hold (a rare category, one-hot): undamped,
  its coordinate would take steps the line search cuts to nothing, and the fit
  would stall (measured on nycflights13, 327k rows, 132 features: a gap of 2e-2
  after 38 iterations).
* A flat model: where the loss's curvature vanishes (huber's rows beyond
  ``epsilon``) the Hessian misses directions the loss still slopes along, and a
  direction that makes no progress short of the optimum is tried again with the
  curvature bound's diagonal added (``NewtonType.damped_step``, which proximal
  Newton shares with its iterate, Hessian and step; on make_regression-like data
  with huber, the undamped fit stopped after one iteration at 16-40 times the
  optimal objective).
* No progress left (``step`` returns False): the predicted decrease is below the
  rounding of ``F``, or no trial decreases ``F``, damped or not.

Newton's method suits data with few features (the auto choice of the estimators
sends many features elsewhere): its memory and the cost of a solve grow as
``n_features^2`` and ``n_features^3``; ``MAX_FEATURES`` bounds them.
"""
import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

# sufficient decrease of the Armijo condition
ARMIJO = 1e-4
# halvings of the step before a direction is given up
MAX_BACKTRACKS = 40
# Levenberg's damping after the first cut step, as a multiple of the Hessian's mean
# diagonal
DAMPING_START = 1e-3
# a predicted decrease below this fraction of |F| is the rounding of F
ROUNDING = 1e-14
# the multiples of the curvature bound added, in turn, to a Hessian whose direction
# made no progress (``NewtonType.damped_step``)
DAMPING_STEPS = (1e-2, 1.0)
# the largest number of features Newton's method takes (a Hessian of 8 * 4097^2
# bytes, 134 MB, per model row and group of the sum)
MAX_FEATURES = 4096
# a Hessian is cheap when its products cost at most this many passes' worth of a
# gradient's (BLAS's products run several times a pass's speed): about 63 features
# of dense X
CHEAP_HESSIAN_PASSES = 64.0


def cheap_hessian(n_rows, n_features, stored):
    """Whether the Hessian of ``n_rows`` rows of X (``stored`` values) costs at most
    ``CHEAP_HESSIAN_PASSES`` passes over them: read from every row then, not from a
    sample (which misses the curvature of rare features: one-hot categories)."""
    return (n_rows * (n_features + 1) ** 2
            <= CHEAP_HESSIAN_PASSES * (stored + n_rows))


class NewtonType:
    """What Newton's method and proximal Newton share: the iterate and its sums, the
    Hessian of each direction (``next_hessian``), the step along it
    (``backtracking_step``) and the damping of a flat model (``damped_step``).
    A subclass sets its penalty's strengths before this ``__init__`` (which
    evaluates ``F``) and gives ``_objective``, ``optimality``, ``direction`` and
    ``step``.

    Parameters
    ----------
    smooth : callable
        ``smooth(w, b) -> (f, grad_w, grad_b)``: the mean loss and its gradient.
    hessian : callable
        ``hessian(w, b) -> H`` of shape (n_models, n_features + 1, n_features + 1):
        the mean loss's Hessian per model row, the intercept last.
    w0 : ndarray of shape (n_models, n_features)
    b0 : ndarray of shape (n_models,)
    fit_intercept : bool
    curvature : CurvatureMemory or None
        The last Hessian carried from one solve to the next (a path).
    bound : callable or None
        ``bound(w, b) -> D`` of shape (n_models, n_features + 1): the diagonal of a
        bound on the mean loss's Hessian (the objective's ``hessian_diagonal``),
        for the damping of a flat model.

    Attributes
    ----------
    w, b : ndarrays
        The current iterate.
    F, f : float
        The objective and the mean loss at ``(w, b)``; ``F`` never increases.
    n_evaluations, n_hessians : int
        Passes over X for the loss and gradient, and for the Hessian.
    """

    def __init__(self, smooth, hessian, w0, b0, *, fit_intercept, curvature=None,
                 bound=None):
        check_features(w0)
        self.smooth, self.hessian, self.bound = smooth, hessian, bound
        self.last_hessian = None
        self.curvature = curvature
        self.kept_hessian = None if curvature is None else curvature.hessian
        self.fit_intercept = fit_intercept
        self.w, self.b = w0.astype(np.float64), b0.astype(np.float64)
        self.n_evaluations, self.n_hessians = 1, 0
        self.f, self.gw, self.gb = smooth(self.w, self.b)
        self.F = self._objective(self.w, self.f)

    def next_hessian(self):
        """The mean loss's Hessian for the next direction: for the first, the one
        the ``curvature`` memory kept from the solve before (which ended next to
        this one's start: a regularization path), else computed at the iterate and
        kept there for the next solve."""
        if self.kept_hessian is not None:
            H, self.kept_hessian = self.kept_hessian, None
            return H
        H = self.hessian(self.w, self.b)
        self.n_hessians += 1
        if self.curvature is not None:
            self.curvature.hessian = H
        return H

    def backtracking_step(self, p_w, p_b, predicted):
        """Move along ``(p_w, p_b)``: halving from the unit step until ``F``
        decreases by ``ARMIJO`` times the step times ``predicted``, the
        first-order change the direction predicts (negative), each trial one pass
        over X.  Returns the step taken, or None when none was (the predicted
        change is not a decrease beyond the rounding of ``F``, or no trial
        decreases ``F``)."""
        if not (predicted < 0) or -predicted <= ROUNDING * max(abs(self.F), 1e-300):
            return None
        t = 1.0
        for _ in range(MAX_BACKTRACKS + 1):
            w, b = self.w + t * p_w, self.b + t * p_b
            f, gw, gb = self.smooth(w, b)
            self.n_evaluations += 1
            F = self._objective(w, f)
            if F <= self.F + ARMIJO * t * predicted:
                self.w, self.b, self.f, self.gw, self.gb, self.F = (
                    w, b, f, gw, gb, F)
                return t
            t *= 0.5
        return None

    def damped_step(self):
        """Where the direction made no progress short of the optimum, the direction
        again on the last Hessian plus ``DAMPING_STEPS`` times the diagonal of the
        loss's curvature bound (``bound``: the loss's largest curvature times the
        columns' moments), in turn, until one decreases ``F``: a loss whose
        curvature vanishes (huber's rows beyond ``epsilon``) gives a model flat
        along some weights, whose Newton step is not to be trusted.  Returns the
        step taken, or None."""
        if self.bound is None or not self.optimality() > 0:
            return None
        bound = self.bound(self.w, self.b)
        for scale in DAMPING_STEPS:
            H = self.last_hessian.copy()
            for k in range(H.shape[0]):
                H[k][np.diag_indices(H.shape[1])] += scale * bound[k]
            t = self.backtracking_step(*self.direction(H))
            if t is not None:
                return t
        return None


class Newton(NewtonType):
    """Iterations of Newton's method, one ``step()`` at a time.

    Parameters
    ----------
    smooth, hessian, w0, b0, fit_intercept, curvature, bound
        As ``NewtonType`` takes them.
    lam2 : float

    Attributes
    ----------
    w, b, F, f, n_evaluations, n_hessians
        As ``NewtonType``'s.
    """

    def __init__(self, smooth, hessian, w0, b0, *, lam2, fit_intercept,
                 curvature=None, bound=None):
        self.lam2 = float(lam2)
        self.damping = 0.0
        super().__init__(smooth, hessian, w0, b0, fit_intercept=fit_intercept,
                         curvature=curvature, bound=bound)

    @classmethod
    def of(cls, objective, w0, b0, curvature=None):
        """The solver of an ``Objective`` (which must have a Hessian) from
        ``(w0, b0)``; its first direction uses the Hessian ``curvature`` (a
        ``CurvatureMemory``) kept from an earlier solve, and it keeps its last
        there."""
        return cls(objective.smooth, objective.hessian, w0, b0, lam2=objective.lam2,
                   fit_intercept=objective.fit_intercept, curvature=curvature,
                   bound=objective.hessian_diagonal)

    def _objective(self, w, f):
        return f + 0.5 * self.lam2 * float(np.vdot(w, w))

    def optimality(self):
        """The largest entry of the objective's gradient at the iterate: 0 at the
        optimum."""
        largest = float(np.max(np.abs(self.gw + self.lam2 * self.w), initial=0.0))
        if self.fit_intercept:
            largest = max(largest, float(np.max(np.abs(self.gb), initial=0.0)))
        return largest

    def direction(self, H=None):
        """The Newton direction of every model row: (p_w, p_b) and the slope of F
        along it (negative), on the Hessian ``H`` (default: the next one,
        ``next_hessian``)."""
        H = self.next_hessian() if H is None else H
        self.last_hessian = H
        n_models, d = self.w.shape
        p_w, p_b = np.zeros_like(self.w), np.zeros_like(self.b)
        size = d + 1 if self.fit_intercept else d
        for k in range(n_models):
            A = H[k, :size, :size].copy()
            diagonal = np.arange(size)
            if self.damping:
                A[diagonal, diagonal] += self.damping * (
                    float(np.mean(np.diag(A))) + self.lam2)
            A[np.arange(d), np.arange(d)] += self.lam2
            g = np.concatenate([self.gw[k] + self.lam2 * self.w[k],
                                self.gb[k:k + 1]])[:size]
            p = -positive_definite_solve(A, g)
            p_w[k] = p[:d]
            if self.fit_intercept:
                p_b[k] = p[d]
        slope = (float(np.vdot(self.gw + self.lam2 * self.w, p_w))
                 + (float(np.vdot(self.gb, p_b)) if self.fit_intercept else 0.0))
        return p_w, p_b, slope

    def step(self):
        """One iteration.  Returns False when no progress is left (the optimum to
        rounding), True otherwise."""
        p_w, p_b, slope = self.direction()
        t = self.backtracking_step(p_w, p_b, slope)
        if t is None:
            t = self.damped_step()
        if t is None:
            return False
        self.damping = (max(4.0 * self.damping, DAMPING_START) if t < 1.0
                        else (self.damping / 4.0
                              if self.damping > DAMPING_START else 0.0))
        return True


def check_features(w0):
    """Raise for more features than a Newton method takes (``MAX_FEATURES``)."""
    if w0.shape[1] > MAX_FEATURES:
        raise ValueError(
            f"optimizer='newton' solves a model of n_features + 1 unknowns per "
            f"iteration: it takes at most {MAX_FEATURES} features, got "
            f"{w0.shape[1]}; use optimizer='lbfgs' (or 'auto').")


def positive_definite_solve(A, g):
    """``A^-1 g`` for a symmetric ``A`` that should be positive definite: Cholesky,
    with a ridge of growing size added to the diagonal when it is not (a loss flat
    along a direction, without a penalty)."""
    ridge = 0.0
    scale = max(float(np.max(np.abs(np.diag(A)))), 1e-300)
    for _ in range(20):
        try:
            factor = cho_factor(A + ridge * np.eye(len(A)), check_finite=False)
            return cho_solve(factor, g, check_finite=False)
        except LinAlgError:
            ridge = scale * 1e-10 if ridge == 0.0 else ridge * 100.0
    return g / scale  # the gradient, scaled: still a direction of descent
