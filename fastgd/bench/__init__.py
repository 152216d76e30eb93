"""fastgd.bench: the benchmarks against the peers and the demo, apart from the library.

The library does not import this package; ``python -m fastgd`` (its command table, when
a command runs) and the asv suites in ``benchmarks/`` do.

  demo         ``fastgd compare`` (``python -m fastgd``): fastgd beside scikit-learn
  cli          ``fastgd bench``: its options, and which benchmark below they run
  compare      ``fastgd bench``: fit time and score next to every installed peer
  time_to_gap  ``--tta``: time to an objective gap per thread count; ``GapProblem``
  cluster      ``--dask``: time to gap on a Dask LocalCluster, next to dask-ml
  reading      ``--read``: reading a libsvm file, next to scikit-learn and Vowpal Wabbit
  synthetic    the generated data of the demo, the benchmarks and ``benchmarks/``
  timing       contenders timed in turn (A B C A B C ...), and their median times
  tables       table output: Markdown and aligned rows, ratio and time-to-goal cells
"""
