"""Full-batch proximal Newton for smooth losses with an L1 part in the penalty (the
lasso and the elastic net), as glmnet and glum solve them: exact zeros, and a few
iterations whatever the scales of the features.

Minimises ``F(w, b) = f(w, b) + lam1 |w|_1 + lam2 / 2 |w|^2`` where ``f`` is the mean
(weighted) loss, given with its gradient (``smooth``, one pass over X) and its Hessian
(``hessian``, per model row, the intercept last; of all the rows or of a fixed sample
of them, as for ``newton.Newton``).  Each model row (one-vs-rest) is its own
problem.

* Direction: the minimiser ``z`` of the quadratic model of ``f`` at the iterate plus
  the penalty, ``g.(z - x) + (z - x)' H (z - x) / 2 + lam1 |z_w|_1 + lam2 / 2
  |z_w|^2``, by cyclic coordinate descent on ``H`` (soft-thresholding each weight;
  no pass over X; the sweeps are ``_kernels._coordinate``'s): sweeps until no
  coordinate moves by more than ``INNER_TOLERANCE`` times the iterate's
  optimality (in units of the gradient), ``MAX_SWEEPS`` at most.  Coordinates at zero whose gradient lies within ``lam1``
  stay out of the sweeps while they stay there (an active set, checked again at
  the end).
* Exact on the support: coordinate descent crawls where columns are nearly
  collinear (make_classification's redundant features, one-hot categories beside
  the intercept), and a model minimiser it left short stalls the outer iterations
  (elastic-net log loss, 100k x 50: a gap of 4e-6 for 130 iterations).  So after
  the sweeps, the model is minimised exactly on their support with their signs
  (the Newton system of the nonzero weights and the intercept, the L1 part then a
  linear term): where it keeps the signs and leaves every zero weight's gradient
  within ``lam1``, it is the model's minimiser; else the iterate moves towards it
  as far as the signs allow (the first weight to reach zero stays there) and the
  sweeps go on from there (``SUPPORT_ROUNDS`` rounds at most).
* Step: Newton's backtracking (``NewtonType.backtracking_step``, halving from the
  unit step) along ``z - x``, with the model's first-order prediction as the
  predicted decrease (Tseng and Yun's condition: the slope of the smooth part
  plus the change of the penalty); each trial is one pass over X.  Near the
  optimum the unit step is taken and the iterates converge as Newton's do.
* For squared error the quadratic model is the objective itself: with the whole
  Hessian, one iteration solves the problem to the inner tolerance.
* A flat model (huber's rows beyond ``epsilon``: the sweeps leave a weight of
  no curvature where it is) is damped as Newton's is (``NewtonType.damped_step``).
* No progress left (``step`` returns False): the predicted decrease is below the
  rounding of ``F``, or no trial decreases ``F``, damped or not.

Like Newton's method, it suits data with few features (``newton.MAX_FEATURES``):
a sweep costs ``n_features^2`` per model row.
"""
import numpy as np

from fastgd._kernels import _coordinate
from fastgd._solvers.newton import NewtonType, positive_definite_solve
from fastgd._solvers.penalty import penalty_value

# the inner coordinate descent stops when no coordinate's change, times its
# curvature, exceeds this fraction of the iterate's optimality
INNER_TOLERANCE = 1e-2
# sweeps of the inner coordinate descent at most per round
MAX_SWEEPS = 200
# rounds of sweeps and of the Newton system on their support, at most per iteration
SUPPORT_ROUNDS = 20
# a weight leaves zero when its gradient exceeds lam1 by more than rounding (at the
# top of a regularization path the largest gradient is lam1 itself)
ZERO_MARGIN = 1.0 + 1e-10


class ProximalNewton(NewtonType):
    """Iterations of proximal Newton, one ``step()`` at a time.

    Parameters
    ----------
    smooth, hessian, w0, b0, fit_intercept, curvature, bound
        As ``newton.NewtonType`` takes them.
    lam1, lam2 : float

    Attributes
    ----------
    w, b, F, f, n_evaluations, n_hessians
        As ``newton.NewtonType``'s.
    """

    def __init__(self, smooth, hessian, w0, b0, *, lam1, lam2, fit_intercept,
                 curvature=None, bound=None):
        self.lam1, self.lam2 = float(lam1), float(lam2)
        super().__init__(smooth, hessian, w0, b0, fit_intercept=fit_intercept,
                         curvature=curvature, bound=bound)

    @classmethod
    def of(cls, objective, w0, b0, curvature=None):
        """The solver of an ``Objective`` (which must have a Hessian) from
        ``(w0, b0)``, with Newton's use of a ``curvature`` memory
        (``NewtonType.next_hessian``)."""
        return cls(objective.smooth, objective.hessian, w0, b0, lam1=objective.lam1,
                   lam2=objective.lam2, fit_intercept=objective.fit_intercept,
                   curvature=curvature, bound=objective.hessian_diagonal)

    def _objective(self, w, f):
        return f + penalty_value(w, self.lam1, self.lam2)

    def _subgradient(self, w, gw):
        """The minimum-norm subgradient of ``F`` in the weights: 0 at the
        optimum."""
        g = gw + self.lam2 * w
        at_zero = np.sign(g) * np.maximum(np.abs(g) - self.lam1, 0.0)
        return np.where(w != 0, g + self.lam1 * np.sign(w), at_zero)

    def optimality(self):
        """The largest entry of the objective's minimum-norm subgradient at the
        iterate: 0 at the optimum."""
        largest = float(np.max(np.abs(self._subgradient(self.w, self.gw)),
                               initial=0.0))
        if self.fit_intercept:
            largest = max(largest, float(np.max(np.abs(self.gb), initial=0.0)))
        return largest

    def direction(self, H=None):
        """The proximal Newton step of every model row, ``(p_w, p_b)``, and the
        first-order change of ``F`` it predicts (negative), on the Hessian ``H``
        (default: the next one, ``NewtonType.next_hessian``)."""
        H = self.next_hessian() if H is None else H
        self.last_hessian = H
        tolerance = INNER_TOLERANCE * self.optimality()
        p_w, p_b = np.zeros_like(self.w), np.zeros_like(self.b)
        for k in range(self.w.shape[0]):
            p_w[k], p_b[k] = self._model_minimiser(H[k], k, tolerance)
        predicted = (float(np.vdot(self.gw, p_w))
                     + penalty_value(self.w + p_w, self.lam1, self.lam2)
                     - penalty_value(self.w, self.lam1, self.lam2))
        if self.fit_intercept:
            predicted += float(np.vdot(self.gb, p_b))
        return p_w, p_b, predicted

    def _model_minimiser(self, H, k, tolerance):
        """The step ``(z_w - w, z_b - b)`` to the minimiser of the quadratic model of
        model row ``k``: rounds of coordinate descent, each followed by the
        model's minimiser on the sweeps' support (``_on_support``), until that is
        the model's minimiser, ``SUPPORT_ROUNDS`` at most."""
        d = self.w.shape[1]
        w = self.w[k]
        z = np.append(w, self.b[k])
        # the gradient of the model's smooth part (without lam2) at z
        r = np.append(self.gw[k], self.gb[k])
        H = np.ascontiguousarray(H, dtype=np.float64)
        coordinates = np.arange(d + 1 if self.fit_intercept else d, dtype=np.intp)
        g = self.gw[k] + self.lam2 * w
        # weights at zero with a gradient within lam1 stay out while they stay zero
        in_model = np.append(w != 0, True)  # the intercept always
        could_move = np.append(np.abs(g) > self.lam1, True)
        active = coordinates[(in_model | could_move)[coordinates]]
        for _ in range(SUPPORT_ROUNDS):
            self._sweeps(H, z, r, active, coordinates, d, tolerance)
            if self._on_support(H, z, r, d):
                break
            active = coordinates
        return z[:d] - w, z[d] - self.b[k]

    def _sweeps(self, H, z, r, active, coordinates, d, tolerance):
        """Sweeps of coordinate descent over ``active`` until no coordinate moves
        by more than ``tolerance``, then over all ``coordinates`` once more (the
        ones left out: still at their optimum?), ``MAX_SWEEPS`` at most."""
        for _ in range(MAX_SWEEPS):
            largest = self._sweep(H, z, r, active, d)
            if largest <= tolerance:
                if len(active) == len(coordinates):
                    return
                if self._sweep(H, z, r, coordinates, d) <= tolerance:
                    return
                active = coordinates

    def _on_support(self, H, z, r, d):
        """Move ``z`` (and the model's smooth gradient ``r`` at it, without
        ``lam2``), in place, towards the model's minimiser on the support and
        signs of ``z`` (the nonzero weights, and the intercept): a Newton system
        of those coordinates, the L1 part a linear term there.  Returns True when
        that minimiser is the model's (the signs kept, every zero weight's gradient
        within ``lam1``: ``z`` is then it); otherwise ``z`` moves as far as the
        signs allow (the first weight to reach zero stops there, at zero), and the
        sweeps go on from it."""
        support = np.flatnonzero(z[:d])
        free = np.append(support, d) if self.fit_intercept else support
        if len(free) == 0:
            return True
        n_weights = len(support)
        A = H[np.ix_(free, free)].copy()
        A[np.arange(n_weights), np.arange(n_weights)] += self.lam2
        signs = np.sign(z[support])
        g = r[free].copy()
        g[:n_weights] += self.lam2 * z[support] + self.lam1 * signs
        step = -positive_definite_solve(A, g)
        moved = z[support] + step[:n_weights]
        crossing = np.flatnonzero(np.sign(moved) != signs)
        t, first = 1.0, None
        if len(crossing):
            fractions = z[support[crossing]] / (z[support[crossing]] - moved[crossing])
            first = support[crossing[np.argmin(fractions)]]
            t = float(np.min(fractions))
        z[free] += t * step
        r += H[:, free] @ (t * step)
        if first is not None:
            r -= H[:, first] * z[first]
            z[first] = 0.0
            return False
        zeros = np.setdiff1d(np.arange(d), support)
        return not np.any(np.abs(r[zeros]) > self.lam1 * ZERO_MARGIN)

    def _sweep(self, H, z, r, coordinates, d):
        """One cyclic pass of coordinate descent over ``coordinates`` (the
        intercept is ``d``), updating ``z`` and the model's gradient ``r`` in
        place (``_coordinate.sweep``); returns the largest change times its
        curvature."""
        return _coordinate.sweep(H, z, r, coordinates, d, self.lam1, self.lam2,
                                 ZERO_MARGIN)

    def step(self):
        """One iteration.  Returns False when no progress is left (the optimum to
        rounding), True otherwise; a flat model's direction is damped
        (``NewtonType.damped_step``)."""
        p_w, p_b, predicted = self.direction()
        if self.backtracking_step(p_w, p_b, predicted) is not None:
            return True
        return self.damped_step() is not None
