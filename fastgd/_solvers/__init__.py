"""Solvers of the whole objective, one iteration at a time, in NumPy on top of the
gradient kernel (each evaluation of the smooth part is one pass over X, however the
caller sums it: one machine or the workers of a Dask cluster).

* ``objective``     the ``Objective`` a solver is handed (the smooth part, the
                    penalty, the curvature bounds);
* ``penalty``       the penalty's value and exact prox, on the Python side;
* ``proximal``      proximal gradient descent: ISTA and monotone FISTA;
* ``quasi_newton``  L-BFGS, and OWL-QN for L1 and the elastic net.

The estimators reach them through ``fastgd._training.epochs.SOLVERS``.
"""
