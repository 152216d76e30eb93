"""What the loop says when training goes wrong: the error of a run that diverged,
naming the likely causes for its setting, and the warning for a model worse than the
constant one."""
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

# sample or class weights from this size on are named as a likely cause of divergence
LARGE_WEIGHT = 1e3
# an epoch objective this many times above both the constant model's objective and the
# fit's first epoch means the steps diverge: the fit stops with an error
DIVERGED_GROWTH = 10.0
# a trained model whose objective is this many times the constant model's gets a
# warning
WORSE_THAN_CONSTANT = 2.0


def divergence_error(plan, epoch, problem, grew=None, auto_eta=None):
    """The error of a run whose weights or objective stopped being finite (or, with
    ``grew`` = (objective, yardstick), grew far beyond the yardstick), naming the
    likely causes for this setting (``auto_eta``: the step ``'auto'`` took)."""
    causes = []
    sw = problem.sample_weight
    if sw is not None and sw.size and np.max(np.abs(sw)) >= LARGE_WEIGHT:
        causes.append(f"sample weights up to {np.max(np.abs(sw)):g} make a row's step "
                      "that many times larger: rescale sample_weight (e.g. to a mean "
                      "of 1)")
    w_pos = problem.targets.arrays["w_pos"]
    if problem.spec.task != "regression" and np.max(np.abs(w_pos)) >= LARGE_WEIGHT:
        causes.append(f"class weights up to {np.max(np.abs(w_pos)):g} scale the steps "
                      "of their rows alike: rescale class_weight")
    lr = plan.learning_rate
    if (plan.optimizer in ("momentum", "nesterov") and not plan.whole_objective
            and lr != "auto"):
        causes.append(f"optimizer={plan.optimizer!r} with momentum="
                      f"{plan.momentum:g} moves up to "
                      f"{1 / max(1 - plan.momentum, 1e-12):.3g} times the step: "
                      f"lower eta0 or the momentum, or use learning_rate='auto'")
    if plan.whole_objective:
        pass  # step sizes come from the line search
    elif lr == "auto":
        causes.append("learning_rate='auto' took its step from the data"
                      + (f" ({auto_eta:.3g})" if auto_eta else "")
                      + ": pass learning_rate='constant' with a smaller eta0")
    elif lr == "optimal":
        causes.append(f"learning_rate='optimal' steps 1 / (alpha * (t0 + t)): a larger "
                      f"alpha (now {plan.alpha:g}), or learning_rate='constant' "
                      f"or 'invscaling' with a small eta0, takes smaller steps")
    else:
        hint = "lower eta0" + ("" if lr in ("pa1", "pa2")
                               else ", use learning_rate='optimal' or 'invscaling'")
        causes.append(f"the learning rate is likely too large for this data "
                      f"(learning_rate={lr!r}, eta0={plan.eta0}): {hint}")
    causes.append("scale the features (e.g. with StandardScaler)")
    what = ("the weights or the objective became non-finite (inf or NaN)"
            if grew is None else
            f"the objective grew to {grew[0]:.4g}, over {DIVERGED_GROWTH:g} times "
            f"{grew[1]:.4g} (the larger of the first epoch's and the constant model's)")
    return ValueError(f"Training diverged at epoch {epoch}: {what}. Possible causes "
                      f"and fixes: " + "; or ".join(causes) + ".")


def warn_worse_than_constant(plan, objective, constant):
    """Warn that the trained model's ``objective`` is over ``WORSE_THAN_CONSTANT``
    times the constant model's, naming the step's settings."""
    shown = (repr(plan.requested_learning_rate)
             if plan.learning_rate == plan.requested_learning_rate
             else f"'auto', here scikit-learn's {plan.learning_rate!r}")
    warnings.warn(
        f"The trained model's objective ({objective:.4g}) is over "
        f"{WORSE_THAN_CONSTANT:g} times that of the constant model "
        f"({constant:.4g}): "
        f"the steps are likely too large (learning_rate={shown}, eta0={plan.eta0:g}, "
        f"optimizer={plan.optimizer!r}); scale the features (e.g. with "
        f"StandardScaler), or take smaller steps.", ConvergenceWarning)
