"""asv suite: time to a relative objective gap (1e-2, 1e-4, 1e-6) on a Dask LocalCluster
(2 worker processes, 1 thread each), fastgd next to dask-ml on the same persisted
chunks (the method and the contenders of ``python -m fastgd bench --dask``,
``fastgd.bench.cluster``), and the workers' peak memory after fastgd's fit.

Each ``track_`` benchmark records seconds to the gap (``nan`` when it was not reached
within the budgets).  A cluster per benchmark process: asv runs each one in a process
of its own.
"""
import numpy as np

from fastgd.bench import cluster

CONTENDERS = ["fastgd lbfgs, Dask", "fastgd auto, Dask", "fastgd averaged SGD, Dask",
              "fastgd SGD defaults, Dask", "fastgd lbfgs, in memory, 2 threads",
              "dask-ml lbfgs", "dask-ml newton", "dask-ml admm",
              "dask-ml Incremental(sklearn SGD)"]
PROBLEMS = ["dense", "sparse"]


class DaskTimeToGap:
    params = (PROBLEMS, CONTENDERS)
    param_names = ["problem", "contender"]
    timeout = 900
    unit = "seconds"

    def setup(self, problem, contender):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise NotImplementedError("needs fastgd[dask]")
        self.cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                                    processes=True, dashboard_address=None)
        self.client = Client(self.cluster)
        dense, sparse = cluster.problems(400_000, 200_000, np.random.default_rng(0))
        self.problem = dense if problem == "dense" else sparse
        Xd, yd = cluster.persist_chunks(self.client, self.problem.X, self.problem.y,
                                        50_000)
        found = cluster.contenders(self.problem, Xd, yd, 2,
                                   lambda: cluster.dask_ml_chunks(self.client, Xd))
        if contender not in found:
            raise NotImplementedError(f"{contender} is not installed or not run on "
                                      f"{problem} data")
        fit, budgets, _ = found[contender]
        self.found, self.last = cluster.measure(fit, budgets, self.problem,
                                                max_seconds=30.0)
        self.peak = max(self.client.run(cluster._peak_mib).values())

    def teardown(self, problem, contender):
        self.client.close()
        self.cluster.close()

    def _seconds(self, gap):
        found = self.found.get(gap)
        return float("nan") if found is None else found[0]

    def track_seconds_to_1e_2(self, problem, contender):
        return self._seconds(1e-2)

    def track_seconds_to_1e_4(self, problem, contender):
        return self._seconds(1e-4)

    def track_seconds_to_1e_6(self, problem, contender):
        return self._seconds(1e-6)

    def track_worker_peak_mib(self, problem, contender):
        return self.peak

    track_worker_peak_mib.unit = "MiB"
