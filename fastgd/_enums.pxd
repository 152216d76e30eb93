# Named enums shared by the kernels and mirrored in Python (``fastgd._enums``).
# Python code imports these names instead of using magic integers.

cpdef enum Loss:
    SQUARED_ERROR = 0
    HUBER = 1
    EPSILON_INSENSITIVE = 2
    SQUARED_EPSILON_INSENSITIVE = 3
    LOG_LOSS = 4
    HINGE = 5
    SQUARED_HINGE = 6
    MODIFIED_HUBER = 7
    PERCEPTRON = 8

cpdef enum Schedule:
    # eta is the same for every step of an epoch (constant, adaptive, exponential,
    # linear: Python computes it per epoch)
    FIXED = 0
    # eta = 1 / (alpha * (t0 + t - 1))
    OPTIMAL = 1
    # eta = eta0 / t ** power_t
    INVSCALING = 2
    # passive-aggressive step sizes (Crammer et al. 2006)
    PA1 = 3
    PA2 = 4

cpdef enum State:
    # Slots of the per-model float64 state vector carried from epoch to epoch.
    T = 0               # step counter, 1 before the first sample ever seen
    INTERCEPT = 1
    AVG_COUNT = 2       # number of averaged steps
    AVG_INTERCEPT_SUM = 3
    SUM_LOSS = 4        # weighted loss summed over the last epoch (progressive)
    L1_TOTAL = 5        # cumulative L1 penalty every weight could have received
    N_STATE = 6

cpdef enum Optimizer:
    # how a gradient g becomes a step (PyTorch conventions); the penalty's prox
    # follows with the same per-coordinate step size
    PLAIN = 0           # w -= eta * g
    MOMENTUM = 1        # v = mu v + g;            w -= eta * v
    NESTEROV = 2        # v = mu v + g;            w -= eta * (g + mu v)
    ADAGRAD = 3         # G += g^2;                w -= eta g / (sqrt(G) + eps)
    RMSPROP = 4         # s = rho s + (1-rho) g^2; w -= eta g / (sqrt(s) + eps)
    ADAM = 5            # m, v moments, bias-corrected; w -= eta m^ / (sqrt(v^) + eps)
