# Named enums shared by the kernels and mirrored in Python (``_enums.pyx``, imported as
# ``fastgd._kernels._enums``).  (The losses are types and the optimizers an enum
# generated from ``_tables.py``; see ``_losses.pxd`` and ``_optimizers.pxd``.)

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
