"""Parameter documentation shared by SGDRegressor and SGDClassifier, filled into their
docstrings by ``shared_docs`` (the options of ``loss`` and ``optimizer`` are read off
the tables of ``_tables.py``)."""
from fastgd._params import CLASSIFICATION_LOSSES, OPTIMIZER_NAMES, REGRESSION_LOSSES

N_JOBS_DOC = """n_jobs : int or None, default=None
        Threads of every kernel: one-vs-rest models in parallel, mini-batch and
        full-batch gradients, the shuffle, prediction and objective.  Per-sample SGD
        of one model is a sequence of steps and runs on one thread, so its model is
        the same at every ``n_jobs``; the other algorithms differ between thread
        counts only by the rounding of their sums.  ``None`` is one thread unless
        ``OMP_NUM_THREADS`` / a threadpoolctl limit says otherwise, ``-1`` all cores
        (within such a limit)."""

EXTRA_PARAMETERS_DOC = """decay_rate : float, default=0.9
        Factor per epoch of ``learning_rate='exponential'``.
    eta_min : float, default=0.0
        Floor of ``learning_rate='linear'``.
    shuffle_window : int or "auto", default="auto"
        With ``shuffle=True``, every epoch visits each row once in random order,
        drawing it from one of 32 open windows of ``shuffle_window`` consecutive rows,
        so that X is read nearly sequentially.  ``1`` draws a uniform random
        permutation of the rows (slower on data larger than the CPU caches, and
        better on rows that come ordered).  ``"auto"``: uniform for X up to 32 MB,
        windows of 32 rows beyond.
    batch_size : int or "full", default=1
        Rows per gradient step: ``1`` is per-sample SGD (scikit-learn's algorithm);
        ``k > 1`` is mini-batch SGD, the mean gradient of ``k`` rows per step followed
        by the exact proximal step of the penalty; ``"full"`` is full-batch proximal
        gradient descent, one step per epoch on the weighted mean loss, with the step
        size from the Lipschitz constant and a backtracking line search
        (``learning_rate`` and ``eta0`` are not used; the objective never increases).
        ``average`` and the ``pa1``/``pa2`` rules need ``batch_size=1``.
    optimizer : {optimizers}, default="sgd"
        How a gradient becomes a step, for every batch size (PyTorch's update rules;
        the learning-rate schedule gives eta, and the penalty's prox uses each
        coordinate's step).  With ``batch_size="full"``, ``"nesterov"`` is FISTA
        (accelerated proximal gradient with the line search) and ``"lbfgs"`` is
        L-BFGS (OWL-QN with an L1 or elastic-net penalty), the solver to reach the
        optimum: about one pass over X per iteration; it needs a differentiable loss
        and ``batch_size="full"``.  On CSR input a step
        updates only the columns stored in its rows: exact for ``"sgd"`` (and
        ``"adagrad"`` with a constant learning rate); the others then run on each
        coordinate's own steps, as PyTorch's SparseAdam does.
    momentum : float, default=0.9
        Of ``"momentum"`` and ``"nesterov"``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays of ``"adam"``.
    rho : float, default=0.99
        Decay of the squared-gradient average of ``"rmsprop"``.
    eps : float, default=1e-8
        Added to the denominator of ``"adagrad"``, ``"rmsprop"`` and ``"adam"``."""


AUTO_LEARNING_RATE_DOC = """``'auto'``: with ``batch_size=1``, ``optimizer="sgd"`` and
        one-vs-rest models (scikit-learn's algorithm) it is scikit-learn's default of
        this estimator, exactly.  Elsewhere (mini-batch, full batch with an
        optimizer, the other optimizers, ``multi_class='multinomial'``) the first
        step comes from the data (``eta0`` is not used), is kept for the first half
        of ``max_iter`` epochs, then decays linearly to ``2 / max_iter`` of itself
        at the last: plain SGD steps ``1 / L`` with ``L`` the curvature bound of
        the mean loss of a batch (from the largest row norm, or the 99th percentile
        for the losses of bounded slope, and the top eigenvalue of X^T X / n),
        momentum and Nesterov ``(1 - momentum) / L``; AdaGrad ``0.1 * b ** 0.25``, RMSProp and Adam ``0.001 * sqrt(b)``
        with ``b = min(batch_size, 256)``.  If those steps diverge, the fit starts
        again with a step four times smaller (three times at most) before it fails."""


def _options(names, quote="'"):
    """``{'a', 'b', ...}``."""
    return "{" + ", ".join(f"{quote}{name}{quote}" for name in names) + "}"


def shared_docs(cls):
    """Fill the slots of a docstring: ``{n_jobs}``, ``{extra_parameters}`` and the
    options of ``loss`` and ``optimizer``."""
    slots = {"{n_jobs}": N_JOBS_DOC, "{extra_parameters}": EXTRA_PARAMETERS_DOC,
             "{auto_learning_rate}": AUTO_LEARNING_RATE_DOC,
             "{regression_losses}": _options(REGRESSION_LOSSES),
             "{classification_losses}": _options(CLASSIFICATION_LOSSES),
             "{optimizers}": _options(OPTIMIZER_NAMES, '"')}
    for slot, text in slots.items():
        cls.__doc__ = cls.__doc__.replace(slot, text)
    return cls
