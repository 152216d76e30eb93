"""The training layer: from a resolved plan and validated data to a trained model.

Nothing here takes an estimator: the estimators resolve their parameters into a
``Plan`` and hand it down with the data.  One fit reads top to bottom:

* ``plan``       the ``Plan``: which algorithm runs and every setting it acts on;
* ``targets``    y as the kernels' targets (``TargetEncoding``), class weights;
* ``problem``    what a fit trains on (``Problem``) and hands back (``Result``);
* ``state``      the ``TrainingState`` carried from epoch to epoch and call to call;
* ``sources``    the data in memory as the factory reads it (``InMemory``), the
                 early-stopping split (a Dask cluster's source is ``_dask.source``);
* ``epochs``     the epoch factory (``make_epochs``) and the solvers' table
                 (``SOLVERS``): SGD epochs, and a solver of the whole objective
                 one iteration per epoch;
* ``runners``    one kernel call per epoch or evaluation: per-sample, mini-batch,
                 summed gradient; the visiting order and its window;
* ``loop``       the epoch loop: stopping rules, ``'auto'``'s restarts, verbose;
* ``diagnosis``  the errors and warnings of a run that went wrong;
* ``step_rule``  the kernels' ``StepRule``: schedules, ``'auto'``'s step;
* ``objective``  the regularisation beside the mean loss, the constant model;
* ``curvature``  curvature bounds of the mean loss from X, row norms and samples.
"""
