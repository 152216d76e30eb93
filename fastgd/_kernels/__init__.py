"""fastgd._kernels: the compiled kernels of training and evaluation (Cython + OpenMP).

The layers above hand the kernels checked structs (``_structs``) and call them once per
epoch or evaluation; the kernels release the GIL, run on ``n_threads`` threads and give
the same bits every time at a given thread count.  Every loss and optimizer comes from
the tables of ``_tables.py``, with which ``setup.py`` renders the ``*.tp`` templates.

Extensions (``.pyx``; their ``.pxd`` declare what other kernels ``cimport``):

  _sgd             per-sample SGD: one epoch of every model row (``sgd_epoch``)
  _batch           summed loss and gradient over rows; the mini-batch SGD epoch
  _evaluate        decision function and summed loss of a fitted model
  _shuffle         the epochs' visiting orders: uniform or windowed, with read-ahead
  _structs         the boundary structs' Python classes: ``Rows``, ``Targets``, ...
  _losses          the loss types, one per table row (from ``_losses.pyx.tp``)
  _enums           the learning-rate schedules (``Schedule``), in C and in Python
  _openmp          whether OpenMP is compiled in, and its default thread count

Inline C-level code (``.pxd``, and ``_simd.h``):

  _loss_functions  every loss's point functions: value, derivative (and both at once)
  _losses.pxd      fused loss types and their dispatch (from ``_losses.pxd.tp``)
  _optimizers      the optimizers' update rules (from ``_optimizers.pxd.tp``)
  _sgd_step        one per-sample step, its penalty's scalars and lazy sparse updates
  _batch_lazy      the mini-batch step's elastic-net prox, applied lazily on CSR rows
  _schedules       per-step learning rates (``'optimal'``, ``'invscaling'``), in blocks
  _rows            one row of X, dense or CSR: dot product and scaled addition
  _targets         one row's target and weight for a model row
  _thread_private  threads' copies on cache lines of their own; sums in thread order
  _simd            vector primitives (``_simd.h``: AVX2 + FMA, or portable C)

Python:

  _tables          the table of losses and the table of optimizers
"""
