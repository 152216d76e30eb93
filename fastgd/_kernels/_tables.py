"""The one table of losses and the one table of optimizers.

Everything else about a loss or an optimizer is derived from these rows: at build time
``setup.py`` renders the Tempita templates (``*.tp``) with them (the loss types, the
fused types the kernels are specialised over, the point-function dispatch, the
optimizer enum), and at run time the Python tables (parameter options, curvature
bounds, which losses give probabilities) are read off them.  This module is plain
Python with no imports from fastgd, so that the build can load it before anything is
compiled.

Adding a loss: its point functions ``<name>_value`` and ``<name>_derivative`` in
``_loss_functions.pxd`` (and ``<name>_value_and_derivative`` when the two share work,
with ``own_value_and_derivative=True`` in its row), a row here, and its textbook
formula in ``tests/reference.py``.  Adding an optimizer: a row here and its update rule
in ``_optimizers.pxd.tp`` (``optimizer_direction``, and ``coordinate_scale`` when its
step size depends on its state).
"""
from collections import namedtuple

LossSpec = namedtuple("LossSpec", [
    "name",        # the ``loss`` parameter (scikit-learn's names)
    "type_name",   # the extension type that selects the kernels' specialisation
    "task",        # "regression", "classification" (targets -1/+1) or "multiclass"
    "smooth",      # differentiable: full batch takes proximal gradient steps (else
                   # subgradient steps)
    "curvature",   # bound on the second derivative in the prediction (the full-batch
                   # Lipschitz estimate); 1 for the non-smooth ones
    "has_proba",   # predict_proba is available
    "own_value_and_derivative",  # _loss_functions.pxd has
                                 # <name>_value_and_derivative
    "bounded_slope",  # a bounded derivative: one row's step is at most a constant
                      # times eta |x|, so a row of large norm cannot make the iterates
                      # blow up (learning_rate='auto' sizes steps for typical rows)
    "quadratic",   # a constant second derivative: the Hessian does not depend on
                   # the model (Newton's is computed once, from every row)
], defaults=(False, False))

LOSSES = [
    LossSpec("squared_error", "SquaredError", "regression", True, 1.0, False, False,
             quadratic=True),
    LossSpec("huber", "Huber", "regression", True, 1.0, False, False,
             bounded_slope=True),
    LossSpec("epsilon_insensitive", "EpsilonInsensitive", "regression", False, 1.0,
             False, False, bounded_slope=True),
    LossSpec("squared_epsilon_insensitive", "SquaredEpsilonInsensitive", "regression",
             True, 2.0, False, False),
    LossSpec("log_loss", "LogLoss", "classification", True, 0.25, True, True,
             bounded_slope=True),
    LossSpec("hinge", "Hinge", "classification", False, 1.0, False, False,
             bounded_slope=True),
    LossSpec("squared_hinge", "SquaredHinge", "classification", True, 2.0, False,
             False),
    LossSpec("modified_huber", "ModifiedHuber", "classification", True, 2.0, True,
             False, bounded_slope=True),
    LossSpec("perceptron", "Perceptron", "classification", False, 1.0, False, False,
             bounded_slope=True),
    # the multinomial cross-entropy of a softmax over the model rows (log-sum-exp);
    # ``loss="log_loss", multi_class="multinomial"``.  Its Hessian in the logits is
    # below 1/2 in every direction.
    LossSpec("multinomial", "Softmax", "multiclass", True, 0.5, True, False,
             bounded_slope=True),
]

SCALAR_LOSSES = [spec for spec in LOSSES if spec.task != "multiclass"]

OptimizerSpec = namedtuple("OptimizerSpec", [
    "name",        # the ``optimizer`` parameter
    "kind",        # its member of the Optimizer enum
    "slots",       # state per coordinate, in this order (``steps``: the number of
                   # steps the coordinate has taken, for Adam's bias correction)
    "auto_step",   # learning_rate='auto': None for 1 / L of the batch (times
                   # 1 - momentum for the momentum methods); for the per-coordinate
                   # methods (base, power): base * min(batch_size, 256) ** power
                   # (measured on standardized real data, see ``auto_eta`` in
                   # ``fastgd._training.step_rule``)
])

OPTIMIZERS = [
    OptimizerSpec("sgd", "PLAIN", (), None),
    OptimizerSpec("momentum", "MOMENTUM", ("velocity",), None),
    OptimizerSpec("nesterov", "NESTEROV", ("velocity",), None),
    OptimizerSpec("adagrad", "ADAGRAD", ("squared_sum",), (0.1, 0.25)),
    OptimizerSpec("rmsprop", "RMSPROP", ("squared_mean",), (1e-3, 0.5)),
    OptimizerSpec("adam", "ADAM", ("mean", "squared_mean", "steps"), (1e-3, 0.5)),
]
