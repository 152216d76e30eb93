"""The time-to-gap benchmark (``python -m fastgd bench --tta``) on a small problem:
its exact optimum, budgets that grow until the gaps are reached, the table."""
import numpy as np

from fastgd.bench import time_to_gap as tta
from fastgd.bench.synthetic import dense_logistic


def test_lbfgs_reaches_both_gaps_and_the_table_says_so():
    X, y = dense_logistic(3000, 20, np.random.default_rng(0))
    problem = tta.GapProblem("logistic", X, y, 1e-3, "logistic")
    # the optimum's gap to itself is zero; the zero model's is large
    assert problem.gap(*problem._solve()) == 0.0
    assert problem.gap(np.zeros(20), np.zeros(1)) > 0.1
    found = {name: tta.time_to_gaps(fit, budgets, problem, 1, max_seconds=5.0)
             for name, (fit, budgets, _) in tta.contenders(problem, 1).items()}
    for gap in tta.GAPS:
        seconds, budget, reached = found["fastgd lbfgs"][gap]
        assert reached <= gap and seconds > 0 and budget in tta.ITERATIONS
    rows = [("logistic", 1, name, "it", result) for name, result in found.items()]
    table = "\n".join(tta.table(rows, 3000))
    assert "| logistic | 1 | fastgd lbfgs |" in table
    assert table.count("x |") >= 1  # a ratio against the peers
