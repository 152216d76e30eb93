"""asv suite: time to a relative objective gap (1e-2 and 1e-4), fastgd's documented
settings next to its peers on the same arrays, one and all threads (the method and
the contenders of ``python -m fastgd bench --tta``, ``fastgd.bench.time_to_gap``).

Each ``track_`` benchmark records seconds to the gap (asv's ``nan`` when it was not
reached within the budgets), so that a change that makes epochs faster but the model
slower to reach the goal shows up.
"""
import os

import numpy as np

from fastgd.bench import time_to_gap

PROBLEMS = ["L2-logistic dense", "L2-logistic sparse", "ridge dense"]
CONTENDERS = ["fastgd lbfgs", "fastgd SGD defaults", "fastgd averaged SGD",
              "sklearn lbfgs", "sklearn saga",
              "sklearn ridge cholesky", "snapml", "pytorch lbfgs"]
THREADS = sorted({1, os.cpu_count() or 1})


class TimeToGap:
    params = (PROBLEMS, CONTENDERS, THREADS)
    param_names = ["problem", "contender", "threads"]
    timeout = 900
    unit = "seconds"

    def setup_cache(self):
        problems = time_to_gap.problems(100_000, np.random.default_rng(0))
        return {p.name: p for p in problems}

    def setup(self, problems, problem, contender, threads):
        found = time_to_gap.contenders(problems[problem], threads)
        if contender not in found:
            raise NotImplementedError(f"{contender} does not run {problem} here")
        fit, budgets, _ = found[contender]
        self.result = time_to_gap.time_to_gaps(fit, budgets, problems[problem],
                                               threads, max_seconds=20.0)

    def _seconds(self, gap):
        found = self.result[gap]
        return float("nan") if found is None else found[0]

    def track_seconds_to_1e_2(self, problems, problem, contender, threads):
        return self._seconds(1e-2)

    def track_seconds_to_1e_4(self, problems, problem, contender, threads):
        return self._seconds(1e-4)
