"""Full-batch proximal gradient descent: ISTA and FISTA with a backtracking line search.

Minimises ``F(w, b) = f(w, b) + lam1 |w|_1 + lam2 / 2 |w|^2`` where ``f`` is the mean
(weighted) loss of the data, given as a callable that returns ``f`` and its gradient
(one fused pass of ``_batch.gradient`` over X).  The step is ``1 / L``; ``L``
starts from an estimate of the Lipschitz constant of ``grad f`` (a little above it) and
is doubled whenever the sufficient-decrease condition of Beck & Teboulle (2009) fails;
it is never lowered, so for smooth losses the steps are fixed and runs on data that
differ only by rounding (weights versus repeated rows) follow the same path.  The
accelerated variant is the monotone FISTA of Beck & Teboulle (2009): the iterate keeps
the better of the new point and the previous one, so ``F`` never increases from one
iteration to the next.
For non-smooth losses (hinge, perceptron, epsilon-insensitive) ``differentiable=False``
takes proximal subgradient steps of size ``1 / (L sqrt(k))`` instead and reports the
best point met, so the reported objective still never increases.  Intercepts are not
penalised.

This module is NumPy on top of the gradient kernel; every call to ``smooth`` is one
pass over X.  The penalty's value and prox are ``penalty``'s; the curvature bound that
starts the line search is the caller's (``_training.curvature.block_lipschitz``).
"""
import numpy as np

from fastgd._solvers.penalty import penalty_value, prox_elastic_net


class ProximalGradient:
    """Iterations of (accelerated) proximal gradient descent, one ``step()`` at a time.

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
    accelerated : bool
        Monotone FISTA instead of ISTA.
    max_backtracks : int, default=40
    differentiable : bool, default=True
        False for the non-smooth losses: diminishing subgradient steps, best point kept.
    lipschitz_intercept : float, default=None
        Curvature bound of the intercept block, when it differs from ``lipschitz``
        (the intercept then steps by ``1 / L_b``; see ``block_lipschitz``).

    Attributes
    ----------
    w, b : ndarrays
        The current iterate (the best one met, for non-smooth losses).
    F : float
        The objective at ``(w, b)``; it never increases.
    L : float
        The current curvature estimate (the step is ``1 / L``).
    """

    def __init__(self, smooth, w0, b0, *, lam1, lam2, fit_intercept, lipschitz,
                 accelerated, max_backtracks=40, differentiable=True,
                 lipschitz_intercept=None):
        self.smooth = smooth
        self.differentiable = differentiable
        self.n_steps = 0
        self.lam1, self.lam2 = lam1, lam2
        self.fit_intercept = fit_intercept
        self.accelerated = accelerated
        self.max_backtracks = max_backtracks
        self.w, self.b = w0.astype(np.float64), b0.astype(np.float64)
        self.f, self.gw, self.gb = smooth(self.w, self.b)
        self.F = self.f + penalty_value(self.w, lam1, lam2)
        self.L = max(float(lipschitz), 1e-12)
        # the intercept may take its own step: 1 / L_b instead of 1 / L
        self.intercept_ratio = (1.0 if lipschitz_intercept is None
                                else max(float(lipschitz_intercept), 1e-12) / self.L)
        # extrapolation point of FISTA (the iterate itself for ISTA)
        self.y = (self.w, self.b, self.f, self.gw, self.gb)
        self.t = 1.0

    @classmethod
    def of(cls, objective, w0, b0, *, accelerated):
        """The solver of an ``Objective`` from ``(w0, b0)``: ISTA, or FISTA with
        ``accelerated``; ``L`` starts from the objective's curvature bounds."""
        lipschitz, lipschitz_intercept = objective.lipschitz()
        return cls(objective.smooth, w0, b0, lam1=objective.lam1, lam2=objective.lam2,
                   fit_intercept=objective.fit_intercept, lipschitz=lipschitz,
                   lipschitz_intercept=lipschitz_intercept, accelerated=accelerated,
                   differentiable=objective.differentiable)

    def optimality(self):
        """The largest entry of the gradient mapping at the iterate, ``L (w -
        prox(w - grad / L))`` (the gradient where no L1 term is at a kink): 0 at the
        optimum; infinite for the non-smooth losses, whose subgradients do not
        vanish there."""
        if not self.differentiable:
            return float("inf")
        step = prox_elastic_net(self.w - self.gw / self.L, 1.0 / self.L, self.lam1,
                                self.lam2)
        largest = float(np.max(np.abs(self.L * (self.w - step)), initial=0.0))
        if self.fit_intercept:
            largest = max(largest, float(np.max(np.abs(self.gb), initial=0.0)))
        return largest

    def _prox_step(self):
        """Backtracked step from the extrapolation point: (w, b, f, grad_w, grad_b)."""
        y_w, y_b, y_f, y_gw, y_gb = self.y
        for attempt in range(self.max_backtracks + 1):
            z_w = prox_elastic_net(y_w - y_gw / self.L, 1.0 / self.L, self.lam1,
                                   self.lam2)
            L_b = self.L * self.intercept_ratio
            z_b = y_b - y_gb / L_b if self.fit_intercept else y_b
            z_f, z_gw, z_gb = self.smooth(z_w, z_b)
            dw, db = z_w - y_w, z_b - y_b
            model = (y_f + np.vdot(y_gw, dw) + np.vdot(y_gb, db)
                     + 0.5 * (self.L * np.vdot(dw, dw) + L_b * np.vdot(db, db)))
            if z_f <= model + 1e-12 * abs(model) or attempt == self.max_backtracks:
                # past max_backtracks (non-smooth loss) the decrease of F decides
                return z_w, z_b, z_f, z_gw, z_gb
            self.L *= 2.0

    def _subgradient_step(self):
        """Proximal subgradient step of size ``1 / (L sqrt(k))`` from the current point
        (not the best one); ``w, b, F`` keep the best point met."""
        self.n_steps += 1
        c_w, c_b, c_f, c_gw, c_gb = self.y
        eta = 1.0 / (self.L * np.sqrt(self.n_steps))
        z_w = prox_elastic_net(c_w - eta * c_gw, eta, self.lam1, self.lam2)
        z_b = c_b - eta / self.intercept_ratio * c_gb if self.fit_intercept else c_b
        z_f, z_gw, z_gb = self.smooth(z_w, z_b)
        self.y = (z_w, z_b, z_f, z_gw, z_gb)
        z_F = z_f + penalty_value(z_w, self.lam1, self.lam2)
        if z_F < self.F:
            self.w, self.b, self.F, self.f = z_w, z_b, z_F, z_f
        return True

    def step(self):
        """One iteration.  Returns False when no descent is left (ISTA on a
        non-smooth loss at its kink), True otherwise."""
        if not self.differentiable:
            return self._subgradient_step()
        z_w, z_b, z_f, z_gw, z_gb = self._prox_step()
        z_F = z_f + penalty_value(z_w, self.lam1, self.lam2)
        progressed = z_F <= self.F
        if self.accelerated:
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * self.t * self.t))
            old_w, old_b = self.w, self.b
            if progressed:
                self.w, self.b, self.F = z_w, z_b, z_F
                self.f, self.gw, self.gb = z_f, z_gw, z_gb
            a, c = self.t / t_next, (self.t - 1.0) / t_next
            y_w = self.w + a * (z_w - self.w) + c * (self.w - old_w)
            y_b = self.b + a * (z_b - self.b) + c * (self.b - old_b)
            self.t = t_next
            if np.array_equal(y_w, self.w) and np.array_equal(y_b, self.b):
                self.y = (self.w, self.b, self.f, self.gw, self.gb)
            else:
                self.y = (y_w, y_b) + tuple(self.smooth(y_w, y_b))
        elif progressed:
            self.w, self.b, self.F = z_w, z_b, z_F
            self.f, self.gw, self.gb = z_f, z_gw, z_gb
            self.y = (self.w, self.b, self.f, self.gw, self.gb)
        return progressed or self.accelerated
