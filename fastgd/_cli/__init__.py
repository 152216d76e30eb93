"""fastgd._cli: the ``fastgd train`` and ``fastgd predict`` commands.

* ``commands``     the two commands: options, the in-memory or streamed training
  (``_files.streaming.fit_stream``), the summary, the predictions.
* ``params``       every estimator parameter as an option, checked before any data
  is read; which estimator the labels ask for.
* ``standardize``  ``--standardize``: column moments gathered block by block, and the
  scaling the model file keeps.
"""
