"""Training on a Dask cluster (``distributed``), imported only once an estimator is
given a Dask collection.

* ``chunks``     Dask collections as aligned row chunks of X, y and the weights,
                 checked and summarised on the workers; lost input named;
* ``placement``  which worker runs each chunk's task; runs and groups of chunks;
                 the targets encoded once per fit where they are used;
* ``source``     the chunks as the source of the epoch factory and the loop
                 (``OnCluster``): SGD epochs chunk after chunk, gradients summed
                 by a tree reduction; the traffic of a fit.
"""
