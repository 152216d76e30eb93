"""Parameter tables: string options -> kernel enums, constraints and defaults."""
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from fastgd._enums import Loss, Optimizer, Schedule

REGRESSION_LOSSES = {
    "squared_error": Loss.SQUARED_ERROR,
    "huber": Loss.HUBER,
    "epsilon_insensitive": Loss.EPSILON_INSENSITIVE,
    "squared_epsilon_insensitive": Loss.SQUARED_EPSILON_INSENSITIVE,
}

CLASSIFICATION_LOSSES = {
    "hinge": Loss.HINGE,
    "log_loss": Loss.LOG_LOSS,
    "modified_huber": Loss.MODIFIED_HUBER,
    "squared_hinge": Loss.SQUARED_HINGE,
    "perceptron": Loss.PERCEPTRON,
    **REGRESSION_LOSSES,
}

# Learning rates whose eta is fixed within an epoch are computed in Python per epoch
# and passed to the kernel as Schedule.FIXED.
LEARNING_RATES = {
    "constant": Schedule.FIXED,
    "adaptive": Schedule.FIXED,
    "exponential": Schedule.FIXED,
    "linear": Schedule.FIXED,
    "optimal": Schedule.OPTIMAL,
    "invscaling": Schedule.INVSCALING,
    "pa1": Schedule.PA1,
    "pa2": Schedule.PA2,
}

# Factor of the intercept updates on sparse input (as scikit-learn: the intercept sees
# every sample while a sparse feature sees few, so it moves more slowly).
SPARSE_INTERCEPT_DECAY = 0.01

OPTIMIZERS = {
    "sgd": Optimizer.PLAIN,
    "momentum": Optimizer.MOMENTUM,
    "nesterov": Optimizer.NESTEROV,
    "adagrad": Optimizer.ADAGRAD,
    "rmsprop": Optimizer.RMSPROP,
    "adam": Optimizer.ADAM,
}

# Windows of consecutive rows that a windowed shuffle keeps open (see
# _estimators._VisitingOrder); their rows make the working set of an epoch.  With the
# default window of 32 rows, 1024 rows are in use at a time: at 100 float64 features
# that is 800 KB, which stays in a core's L2 cache while the kernel reads the next
# windows ahead into it.
SHUFFLE_OPEN_WINDOWS = 32

# Steps between two full catch-ups of the lazy sparse updates: at least this many,
# and at least n_features so that the O(n_features) catch-up costs O(1) per step.
MIN_LAZY_WINDOW = 1024

# Multi-threaded per-sample SGD of one model (binary, regression): every thread runs
# its own replica over this many rows, then the replicas are averaged.  Smaller rounds
# mix the replicas more often; larger ones cost less synchronisation.
REPLICA_ROUND_ROWS = 8192
MIN_REPLICA_ROWS = 1024

COMMON_CONSTRAINTS = {
    "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
    "fit_intercept": ["boolean"],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "shuffle": ["boolean"],
    "verbose": ["verbose"],
    "epsilon": [Interval(Real, 0, None, closed="left")],
    "random_state": ["random_state"],
    "learning_rate": [StrOptions(set(LEARNING_RATES))],
    "eta0": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, None, None, closed="neither")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "warm_start": ["boolean"],
    "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
    "n_jobs": [Integral, None],
    "decay_rate": [Interval(Real, 0, 1, closed="right")],
    "eta_min": [Interval(Real, 0, None, closed="left")],
    "shuffle_window": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"full"})],
    "optimizer": [StrOptions({"sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                              "adam"})],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "rho": [Interval(Real, 0, 1, closed="left")],
    "eps": [Interval(Real, 0, None, closed="neither")],
}

REGRESSOR_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "loss": [StrOptions(set(REGRESSION_LOSSES))],
}

CLASSIFIER_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "multi_class": [StrOptions({"ovr", "multinomial"})],
}
