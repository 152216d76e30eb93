"""Naive NumPy ground truth: loss formulas and a plain per-sample proximal SGD loop."""
import numpy as np


def naive_loss(name, p, y, eps):
    """Loss values written from their textbook definitions."""
    r = p - y
    z = y * p
    if name == "squared_error":
        return 0.5 * r**2
    if name == "huber":
        return np.where(np.abs(r) <= eps, 0.5 * r**2, eps * np.abs(r) - 0.5 * eps**2)
    if name == "epsilon_insensitive":
        return np.maximum(0, np.abs(r) - eps)
    if name == "squared_epsilon_insensitive":
        return np.maximum(0, np.abs(r) - eps) ** 2
    if name == "log_loss":
        return np.logaddexp(0, -z)
    if name == "hinge":
        return np.maximum(0, 1 - z)
    if name == "squared_hinge":
        return np.maximum(0, 1 - z) ** 2
    if name == "modified_huber":
        return np.where(z >= 1, 0.0, np.where(z >= -1, (1 - z) ** 2, -4 * z))
    if name == "perceptron":
        return np.maximum(0, -z)
    raise ValueError(name)


def naive_dloss(name, p, y, eps):
    """Derivatives (sub-gradients at kinks, as scikit-learn picks them)."""
    r = p - y
    z = y * p
    if name == "squared_error":
        return r
    if name == "huber":
        return np.clip(r, -eps, eps)
    if name == "epsilon_insensitive":
        return np.where(r > eps, 1.0, np.where(r < -eps, -1.0, 0.0))
    if name == "squared_epsilon_insensitive":
        return np.where(r > eps, 2 * (r - eps), np.where(r < -eps, 2 * (r + eps), 0.0))
    if name == "log_loss":
        return -y / (1 + np.exp(z))
    if name == "hinge":
        return np.where(z <= 1, -y, 0.0)
    if name == "squared_hinge":
        return np.where(z < 1, -2 * y * (1 - z), 0.0)
    if name == "modified_huber":
        return np.where(z >= 1, 0.0, np.where(z >= -1, -2 * y * (1 - z), -4 * y))
    if name == "perceptron":
        return np.where(z <= 0, -y, 0.0)
    raise ValueError(name)


def reference_sgd(X, target, *, loss, eps=0.1, lam1=0.0, lam2=0.0, etas,
                  fit_intercept=True, intercept_decay=1.0, average_start=0,
                  sample_weight=None, pa=None, pa_c=0.01, t_start=1,
                  intercept_drift=0.0):
    """Per-sample proximal SGD, one Python statement per textbook step.

    ``etas(t, epoch)`` gives the step size of step ``t`` (1-based, counted over the
    whole run) in epoch ``epoch``; ``X`` is visited in row order once per entry of
    ``range(n_epochs)`` where ``n_epochs`` is implied by ``etas.n_epochs``.
    ``intercept_drift``: the gradient of a linear term of the intercept (the One-Class
    SVM's ``nu * b``), taken at every step.

    Returns
    -------
    w, b, w_avg, b_avg
    """
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    u, q = 0.0, np.zeros(d)
    avg_w, avg_b, count = np.zeros(d), 0.0, 0
    sw = np.ones(n) if sample_weight is None else sample_weight
    t = t_start
    for epoch in range(etas.n_epochs):
        for i in range(n):
            x, y = X[i], target[i]
            p = x @ w + b
            eta = etas(t, epoch)
            if pa is None:
                step = -eta * np.clip(naive_dloss(loss, p, y, eps), -1e12, 1e12)
            else:
                ell = naive_loss(loss, p, y, eps)
                sq = x @ x
                if pa == "pa1":
                    step = 0.0 if sq == 0 else min(pa_c, ell / sq)
                else:
                    step = ell / (sq + 0.5 / pa_c)
                direction = y if loss == "hinge" else (1.0 if y - p >= 0 else -1.0)
                step *= direction
            step *= sw[i]
            w = w + step * x
            if fit_intercept:
                b += (step - eta * intercept_drift) * intercept_decay
            # L1: Tsuruoka et al. (2009) cumulative penalty; u is what every weight
            # could have received, q what each one did receive
            u += eta * lam1
            new = np.where(w > 0, np.maximum(0.0, w - (u + q)),
                           np.where(w < 0, np.minimum(0.0, w + (u - q)), 0.0))
            q += new - w
            # L2: exact prox, which also shrinks the pending L1 penalty
            c = 1.0 / (1.0 + eta * lam2)
            w, u, q = new * c, u * c, q * c
            if average_start and t >= average_start:
                count += 1
                avg_w += w
                avg_b += b
            t += 1
    if count:
        return w, b, avg_w / count, avg_b / count
    return w, b, w, b


class FixedStepGradientDescent:
    """A solver of the whole objective for the tests of the epoch factory: proximal
    gradient steps of size 1 / L (the objective's curvature bound), no line search;
    it counts its instances in ``made``."""

    made = []

    def __init__(self, objective, w0, b0):
        self.objective = objective
        self.L, self.L_b = objective.lipschitz()
        self.w, self.b = w0.astype(np.float64), b0.astype(np.float64)
        self.f, self.gw, self.gb = objective.smooth(self.w, self.b)
        self.F = self.f + self._penalty(self.w)
        FixedStepGradientDescent.made.append(self)

    @classmethod
    def of(cls, objective, w0, b0):
        return cls(objective, w0, b0)

    def optimality(self):
        o = self.objective
        return float(max(np.max(np.abs(self.gw + o.lam2 * self.w)),
                         np.max(np.abs(self.gb)) if o.fit_intercept else 0.0))

    def _penalty(self, w):
        o = self.objective
        return o.lam1 * np.abs(w).sum() + 0.5 * o.lam2 * np.square(w).sum()

    def step(self):
        o = self.objective
        v = self.w - self.gw / self.L
        w = (np.sign(v) * np.maximum(np.abs(v) - o.lam1 / self.L, 0.0)
             / (1.0 + o.lam2 / self.L))
        b = self.b - self.gb / self.L_b if o.fit_intercept else self.b
        f, gw, gb = o.smooth(w, b)
        F = f + self._penalty(w)
        moved = F < self.F
        self.w, self.b, self.f, self.gw, self.gb, self.F = w, b, f, gw, gb, F
        return moved
