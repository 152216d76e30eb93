"""Documentation shared by the estimators' docstrings, filled in by ``shared_docs``.

A docstring names a slot ``{name}`` where a shared text goes: a whole parameter or
attribute entry (``{penalty}``, ``{t_}``; see ``PARAMETER_DOCS`` and
``ATTRIBUTE_DOCS``), the list of a schedule's values (``{learning_rates}``), or the
options of ``loss`` and ``optimizer`` (read off the tables of ``_tables.py``, so the
documentation lists what the estimators accept).  Each entry is written once, in
words that hold for every estimator that uses it.
"""
import textwrap

from fastgd._params import (
    CLASSIFICATION_LOSSES, LEARNING_RATES, ONE_CLASS_LEARNING_RATES, OPTIMIZER_NAMES,
    REGRESSION_LOSSES,
)

# a docstring's entry names its parameter at 4 spaces and describes it at 8
_DESCRIPTION_INDENT = " " * 8


def _entry(header, description):
    """A numpydoc entry: ``header`` on its line, ``description`` indented below.

    Parameters
    ----------
    header : str
        ``"name : type, default=value"``.
    description : str
        The description, at any common indentation (removed first).

    Returns
    -------
    str
        The entry, to go at a slot of a docstring indented by 4 spaces.
    """
    body = textwrap.indent(textwrap.dedent(description).strip(), _DESCRIPTION_INDENT)
    return f"{header}\n{body}"


def _options(names, quote="'"):
    """``{'a', 'b', ...}``."""
    return "{" + ", ".join(f"{quote}{name}{quote}" for name in names) + "}"


# what each value of ``learning_rate`` does (``t`` counts the steps from 1), as prose
# that ``learning_rate_items`` wraps into a bullet list
LEARNING_RATE_ITEMS = {
    "auto": (
        "``'auto'``: with ``batch_size=1``, ``optimizer=\"sgd\"`` and one-vs-rest "
        "models (scikit-learn's algorithm) it is scikit-learn's default schedule of "
        "this estimator, exactly (``'optimal'`` for the classifier, ``'invscaling'`` "
        "for the regressor).  Elsewhere (mini-batch, full batch with an optimizer, "
        "the other optimizers, ``multi_class='multinomial'``) the first step comes "
        "from the data (``eta0`` is not used), is kept for the first half of "
        "``max_iter`` epochs, then decays linearly to ``2 / max_iter`` of itself at "
        "the last (``partial_fit`` keeps it: it has no horizon to decay over): plain "
        "SGD steps ``1 / L`` with ``L`` the curvature bound of the mean loss of a "
        "batch (from the largest row norm, or the 99th percentile for the losses of "
        "bounded slope, and the top eigenvalue of ``X^T X / n``), momentum and "
        "Nesterov ``(1 - momentum) / L``; AdaGrad ``0.1 * b ** 0.25``, RMSProp and "
        "Adam ``0.001 * sqrt(b)``, with ``b = min(batch_size, 256)``.  If those "
        "steps diverge, the fit starts again with a step four times smaller (three "
        "times at most) before it fails."),
    "optimal": (
        "``'optimal'``: ``eta = 1 / (alpha * (t0 + t - 1))``, where the offset "
        "``t0`` (Bottou's heuristic, as in scikit-learn) makes the first step the "
        "one a weight of the typical size ``1 / sqrt(alpha)`` calls for; it needs "
        "``alpha > 0`` and does not use ``eta0``."),
    "constant": "``'constant'``: ``eta = eta0`` at every step.",
    "invscaling": (
        "``'invscaling'``: ``eta = eta0 / t ** power_t``, falling as the steps add "
        "up."),
    "adaptive": (
        "``'adaptive'``: ``eta = eta0`` while the fit improves; each time the "
        "stopping rule (see ``tol``) finds no improvement, ``eta`` is divided by 5 "
        "instead of stopping, and the fit stops once ``eta`` is below ``1e-6``."),
    "exponential": (
        "``'exponential'``: ``eta = eta0 * decay_rate ** epoch``, fixed within an "
        "epoch (the epochs of ``partial_fit`` calls count on)."),
    "linear": (
        "``'linear'``: ``eta = eta0 + (eta_min - eta0) * epoch / max_iter``, from "
        "``eta0`` at the first epoch down towards ``eta_min``, fixed within an "
        "epoch."),
    "pa1": (
        "``'pa1'``: the passive-aggressive rule PA-I (Crammer et al., 2006): a row "
        "that costs a loss moves the weights just far enough to remove it, with the "
        "step capped at ``eta0``: ``eta = min(eta0, loss / |x|^2)``.  It needs "
        "``loss='hinge'`` (classifier) or ``'epsilon_insensitive'`` (regressor), "
        "``batch_size=1`` and ``optimizer='sgd'``."),
    "pa2": (
        "``'pa2'``: the passive-aggressive rule PA-II, ``eta = loss / (|x|^2 + 1 / "
        "(2 * eta0))``: a step damped by ``eta0`` rather than capped; the same "
        "conditions as ``'pa1'``."),
}

# the width of a docstring line
_LINE_WIDTH = 88


def learning_rate_items(names):
    """The bullet list of the given values of ``learning_rate``, for a description.

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    str
        Lines at 8 spaces but the first (which goes at a slot so indented).
    """
    items = [_wrap_item(LEARNING_RATE_ITEMS[name]) for name in names]
    return "\n".join(items).lstrip()


# stands for a space inside an inline literal while a text is wrapped
_KEPT_SPACE = "\x00"


def _wrap_item(text):
    """``text`` as a bullet of a description, wrapped to the docstring's width
    between words, never inside an inline literal (````...````)."""
    pieces = text.split("``")
    # the odd pieces are the literals' insides
    pieces[1::2] = [piece.replace(" ", _KEPT_SPACE) for piece in pieces[1::2]]
    wrapped = textwrap.fill("``".join(pieces), width=_LINE_WIDTH,
                            initial_indent=_DESCRIPTION_INDENT + "- ",
                            subsequent_indent=_DESCRIPTION_INDENT + "  ",
                            break_long_words=False, break_on_hyphens=False)
    return wrapped.replace(_KEPT_SPACE, " ")


# the values of learning_rate in the order of LEARNING_RATE_ITEMS (a value without
# an item fails here, at import)
LEARNING_RATE_NAMES = sorted(LEARNING_RATES, key=list(LEARNING_RATE_ITEMS).index)

N_JOBS_DOC = _entry("n_jobs : int or None, default=None", """
    The number of threads of every kernel.  They run the one-vs-rest models in
    parallel, the mini-batch and full-batch gradients, the shuffle, prediction and
    the objective.  Per-sample SGD of one model is a sequence of steps and runs on
    one thread; the sums of the others are added in blocks of rows in a fixed
    order: every model is the same, bit for bit, at every ``n_jobs``.  ``None`` is
    one thread unless ``OMP_NUM_THREADS`` / a threadpoolctl limit says otherwise,
    ``-1`` all cores (within such a limit).""")

EXTRA_PARAMETERS_DOC = "\n    ".join([
    _entry("decay_rate : float, default=0.9", """
        The factor by which ``learning_rate='exponential'`` multiplies the step at
        each epoch, in (0, 1].  Not used by the other schedules."""),
    _entry("eta_min : float, default=0.0", """
        The step ``learning_rate='linear'`` decreases towards over ``max_iter``
        epochs.  Not used by the other schedules."""),
    _entry('shuffle_window : int or "auto", default="auto"', """
        How each epoch's random order is drawn, with ``shuffle=True``.  Every epoch
        visits each row once, drawing it from one of 32 open windows of
        ``shuffle_window`` consecutive rows, so that X is read nearly sequentially.
        ``1`` draws a uniform random permutation of the rows (slower on data larger
        than the CPU caches, and better on rows that come ordered).  ``"auto"``:
        uniform for X up to 32 MB, windows of 32 rows beyond."""),
    _entry('batch_size : int or "full", default=1', """
        Rows per gradient step.  ``1`` is per-sample SGD (scikit-learn's
        algorithm); ``k > 1`` is mini-batch SGD, the mean gradient of ``k`` rows per
        step followed by the exact proximal step of the penalty; ``"full"`` takes one
        step per epoch on the weighted mean loss of all rows.  With ``"full"`` and
        ``optimizer`` ``"sgd"`` or ``"nesterov"`` that step is proximal gradient
        descent (ISTA, FISTA), its size from the Lipschitz constant and a
        backtracking line search, and with ``"lbfgs"`` an L-BFGS iteration:
        ``learning_rate`` and ``eta0`` are then not used, and the objective never
        increases; the other optimizers take their rule's step with the schedule's
        ``eta``.  ``average`` and the ``pa1``/``pa2`` rules need ``batch_size=1``."""),
    _entry("optimizer : {optimizers}, default=\"sgd\"", """
        How a gradient becomes a step, for every batch size.  These are PyTorch's update
        rules; the learning-rate schedule gives eta, and the penalty's prox uses each
        coordinate's step.  With ``batch_size="full"``, ``"nesterov"`` is FISTA
        (accelerated proximal gradient with the line search), and three solvers of the
        whole objective take ``batch_size="full"`` only: ``"lbfgs"`` is L-BFGS
        (OWL-QN with an L1 or elastic-net penalty), about one pass over X per
        iteration; ``"newton"`` is Newton's method with the Hessian of a fixed sample
        of at most 20,000 rows and an exact gradient (an L2 penalty or none, at most
        4096 features, one-vs-rest models), which reaches the optimum in a few
        iterations even on features of very different scales; ``"auto"`` picks one
        of them (or ``"sgd"`` for a loss that is not differentiable) from the loss,
        the penalty and the shape of X (see the README's "Which settings").  L-BFGS
        and Newton need a differentiable loss.  On CSR input a step updates only the columns stored in
        its rows: exact for ``"sgd"`` (and ``"adagrad"`` with a constant learning rate);
        the others then run on each coordinate's own steps, as PyTorch's SparseAdam
        does."""),
    _entry("momentum : float, default=0.9", """
        The share of the previous step the ``"momentum"`` and ``"nesterov"``
        optimizers carry into the next, in [0, 1).  Not used by the others."""),
    _entry("beta_1 : float, default=0.9", """
        The decay of ``"adam"``'s running mean of the gradients, in [0, 1)."""),
    _entry("beta_2 : float, default=0.999", """
        The decay of ``"adam"``'s running mean of the squared gradients, in
        [0, 1)."""),
    _entry("rho : float, default=0.99", """
        The decay of ``"rmsprop"``'s running mean of the squared gradients, in
        [0, 1)."""),
    _entry("eps : float, default=1e-8", """
        Added to the denominator of ``"adagrad"``, ``"rmsprop"`` and ``"adam"``'s
        steps, so that a coordinate with tiny gradients does not take a huge one."""),
])

# whole parameter entries shared by the estimators that take the parameter
PARAMETER_DOCS = {
    "penalty": _entry("penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'", """
        The regularisation term of the objective, on the weights (never on the
        intercept).  It is applied as an exact proximal step after each gradient step:
        ``'l2'`` adds ``alpha / 2 * |w|^2``, ``'l1'`` adds ``alpha * |w|_1`` (which sets
        weights exactly to zero), ``'elasticnet'`` mixes the two by ``l1_ratio``;
        ``None`` trains without a penalty."""),
    "alpha": _entry("alpha : float, default=0.0001", """
        The strength of the penalty, which multiplies it (see ``penalty``); the
        larger, the smaller the weights.  With ``learning_rate='optimal'`` it also
        sets the steps (``1 / (alpha * (t0 + t - 1))``), and must then be
        positive."""),
    "l1_ratio": _entry("l1_ratio : float or None, default=0.15", """
        The share of L1 in the elastic-net penalty, in [0, 1]: its L1 strength is
        ``alpha * l1_ratio`` and its L2 strength ``alpha * (1 - l1_ratio)``, so 0 is
        the L2 penalty and 1 the L1 penalty.  Used only with
        ``penalty='elasticnet'``, which needs it set."""),
    "fit_intercept": _entry("fit_intercept : bool, default=True", """
        Whether to learn an intercept ``b``.  With False, ``b`` is not trained: it
        keeps its starting value (0, or the one given to ``fit``), which suits data
        that are already centred."""),
    "max_iter": _entry("max_iter : int, default=1000", """
        The most epochs (passes over the training rows) ``fit`` runs; it stops
        sooner when the stopping rule of ``tol`` fires.  ``partial_fit`` runs one
        epoch whatever its value (``learning_rate='linear'`` still counts its epochs
        against it)."""),
    "tol": _entry("tol : float or None, default=1e-3", """
        The stopping criterion.  SGD (and mini-batches) stop once the training
        objective (the validation loss with ``early_stopping=True``) has failed to fall
        by at least ``tol`` below its best for ``n_iter_no_change`` epochs in a row.
        The solvers of the whole objective of a differentiable loss (``batch_size=
        "full"``) stop once the largest entry of the objective's gradient (its
        gradient mapping with an L1 part) is at most ``tol``, or at the optimum to
        rounding.  ``None`` runs all ``max_iter`` epochs (the solvers still stop at
        the optimum).  A fit that runs all ``max_iter`` epochs with ``tol`` set, short
        of it, warns (``ConvergenceWarning``)."""),
    "shuffle": _entry("shuffle : bool, default=True", """
        Whether each epoch visits the training rows in a new random order (drawn
        from ``random_state``); False visits them in the order given.  A full-batch
        step sums over every row: the order does not change it."""),
    "verbose": _entry("verbose : int, default=0", """
        Whether to print a report after each epoch (when above 0).  It gives the
        weights' norm and non-zeros, the intercept, the step counter, the average loss
        and the objective (and, with early stopping, the validation loss), and the time
        so far."""),
    "epsilon": _entry("epsilon : float, default=0.1", """
        The error scale of the losses that have one.  It is the margin of the
        epsilon-insensitive losses (``'epsilon_insensitive'``,
        ``'squared_epsilon_insensitive'``: errors smaller than it cost nothing) and
        the error at which ``'huber'`` turns from squared to linear.  Not used by
        the other losses."""),
    "random_state": _entry(
        "random_state : int, RandomState instance or None, default=None", """
        Seeds the random order of the rows in each epoch (``shuffle=True``) and,
        with early stopping, the split of the validation rows.  An int gives the
        same model at every fit; ``None`` draws from NumPy's global generator."""),
    "eta0": _entry("eta0 : float, default=0.01", """
        The base step size of the schedules that take one.  It is the step of
        ``'constant'``, ``'invscaling'``, ``'adaptive'``, ``'exponential'`` and
        ``'linear'`` (where they start), and the aggressiveness ``C`` of ``'pa1'`` /
        ``'pa2'`` (the largest step of PA-I; the smaller, the more PA-II damps its
        steps).  Not used by ``'optimal'``, nor by ``'auto'`` but where ``'auto'`` is
        scikit-learn's ``'invscaling'``."""),
    "early_stopping": _entry("early_stopping : bool, default=False", """
        Whether to stop on the loss of held-out rows.  ``fit`` then holds out
        ``validation_fraction`` of the training rows (stratified by class for the
        classifier) and stops when their mean loss has failed to fall by ``tol`` for
        ``n_iter_no_change`` epochs in a row; the model is the last epoch's.  On
        Dask collections each chunk holds out ``ceil(validation_fraction * rows)``
        of its rows, drawn at random (not stratified), and the validation loss is
        summed on the workers (SGD only: not with ``batch_size='full'``).  Not
        available with ``partial_fit``."""),
    "validation_fraction": _entry("validation_fraction : float, default=0.1", """
        The share of the training rows held out as the validation set, in (0, 1).
        Used only with ``early_stopping=True``."""),
    "n_iter_no_change": _entry("n_iter_no_change : int, default=5", """
        The number of epochs in a row without an improvement of ``tol`` that stops
        the fit (or, with ``learning_rate='adaptive'``, divides the step by 5)."""),
    "warm_start": _entry("warm_start : bool, default=False", """
        Whether ``fit`` starts from the model of the previous fit instead of zeros.
        The step counter starts again, as in scikit-learn, and starting values
        given to ``fit`` take precedence.  ``partial_fit`` always continues
        from the current model."""),
    "average": _entry("average : bool or int, default=False", """
        Whether to average the weights over the steps (Polyak-Ruppert averaged
        SGD).  With True, ``coef_`` and ``intercept_`` are the average of the
        weights over the steps; with an int ``n > 1``, the
        average starts once ``n`` steps (rows) have been taken, leaving the first,
        noisy weights out.  Training continues from the last weights, not from the
        average.  It needs per-sample SGD (``batch_size=1`` and
        ``optimizer='sgd'``, where those can be set)."""),
}

# whole attribute entries shared by the estimators that set the attribute
ATTRIBUTE_DOCS = {
    "n_iter_": _entry("n_iter_ : int", """
        The epochs the last ``fit`` ran (1 after ``partial_fit``); a classifier's
        one-vs-rest models train together and share it."""),
    "n_passes_": _entry("n_passes_ : int", """
        The passes over X the last ``fit`` (or ``partial_fit`` call) made: one per
        epoch of SGD; for ``batch_size='full'``, one per evaluation of the loss and
        its gradient (a line search may take several in an iteration), one per
        Hessian of Newton's method, and one for the epoch of SGD that starts
        ``optimizer='auto'``'s L-BFGS on sparse X.  A count that no machine's speed
        changes: the cost of the fit in reads of X."""),
    "t_": _entry("t_ : float", """
        The step counter plus one: the steps taken since the last ``fit`` started
        (one per row for per-sample SGD, one per batch for mini-batches, one per
        epoch for full batch), ``partial_fit`` calls adding theirs.  The
        ``'optimal'`` and ``'invscaling'`` schedules step by it."""),
    "n_features_in_": _entry("n_features_in_ : int", """
        The number of features seen by ``fit``."""),
    "feature_names_in_": _entry(
        "feature_names_in_ : ndarray of shape (n_features_in_,)", """
        The names of the features seen by ``fit``; set only when X has feature
        names that are all strings (a pandas DataFrame, for instance)."""),
    "validation_loss_curve_": _entry("validation_loss_curve_ : list of float", """
        With ``early_stopping=True``: the mean loss on the held-out rows after each
        epoch, the criterion of the stopping rule.  Not set otherwise."""),
    "cluster_traffic_": _entry("cluster_traffic_ : dict", """
        Set by a fit on Dask collections: the means per epoch of the round trips
        (``'round_trips_per_epoch'``) and of the bytes the client sent and got back
        (``'bytes_sent_per_epoch'``, ``'bytes_received_per_epoch'``), and the round
        trips of the setup (``'setup_round_trips'``)."""),
}


def shared_docs(cls):
    """Fill the slots of ``cls``'s docstring with the shared texts.

    Parameters
    ----------
    cls : type

    Returns
    -------
    type
        ``cls``, its docstring filled.
    """
    slots = {"n_jobs": N_JOBS_DOC, "extra_parameters": EXTRA_PARAMETERS_DOC,
             "learning_rates": learning_rate_items(LEARNING_RATE_NAMES),
             "one_class_learning_rates": learning_rate_items(
                 ONE_CLASS_LEARNING_RATES),
             "learning_rate_options": _options(LEARNING_RATE_NAMES),
             "one_class_learning_rate_options": _options(ONE_CLASS_LEARNING_RATES),
             "regression_losses": _options(REGRESSION_LOSSES),
             "classification_losses": _options(CLASSIFICATION_LOSSES),
             **PARAMETER_DOCS, **ATTRIBUTE_DOCS}
    doc = cls.__doc__
    for name, text in slots.items():
        doc = doc.replace("{" + name + "}", text)
    # the optimizers' options sit inside a shared entry: filled last
    cls.__doc__ = doc.replace("{optimizers}", _options(OPTIMIZER_NAMES, '"'))
    return cls
