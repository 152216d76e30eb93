"""The objective a solver of the whole objective minimises, as it is handed over: the
smooth part (the weighted mean loss, a callable that returns it with its gradient, and
one for its Hessian and one for a diagonal of its scale), the penalty's strengths, and
the curvature bounds for the solvers whose steps start from one."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Objective:
    """``f(w, b) + lam1 |w|_1 + lam2 / 2 |w|^2``, intercepts not penalised.

    Attributes
    ----------
    smooth : callable
        ``smooth(w, b) -> (f, grad_w, grad_b)``: the mean loss and its gradient (one
        pass over X per call).
    lam1, lam2 : float
        The penalty's strengths.
    fit_intercept : bool
        When False, ``b`` stays where it starts.
    differentiable : bool
        Whether the loss is smooth (else subgradients).
    lipschitz : callable
        ``() -> (L_w, L_b)``: curvature bounds of the weight and intercept blocks,
        computed only by the solvers that ask for them.
    hessian : callable
        ``hessian(w, b) -> H`` of shape (n_models, n_features + 1, n_features + 1):
        the mean loss's Hessian per model row, the intercept last (a pass over X;
        only the solvers that ask for it call it).
    hessian_diagonal : callable or None
        ``hessian_diagonal(w, b) -> D`` of shape (n_models, n_features + 1): a
        diagonal of the scale of ``hessian`` (the fit's: the loss's largest
        curvature times the columns' weighted second moments), the preconditioner
        of L-BFGS; None where the fit has none to give (the softmax).
    """

    smooth: Callable
    lam1: float
    lam2: float
    fit_intercept: bool
    differentiable: bool
    lipschitz: Callable
    hessian: Callable
    hessian_diagonal: Callable = None
