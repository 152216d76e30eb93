"""How the side-by-side benchmarks time their contenders: each one in turn, repeatedly
(A B C A B C ...), so that a slow phase of the machine falls on all of them alike, and
the median of each one's times."""
import time

import numpy as np


def alternating_medians(contenders, repeat):
    """Run every contender ``repeat`` times, alternating; return each one's median time
    and the result of its last run.

    Parameters
    ----------
    contenders : dict of str to callable
        Name -> a callable of no arguments (a fit), run in the dict's order.
    repeat : int
        Runs per contender.

    Returns
    -------
    dict of str to (float, object)
        Name -> (median seconds, what its last run returned).
    """
    times = {name: [] for name in contenders}
    results = {}
    for _ in range(repeat):
        for name, run in contenders.items():
            start = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - start)
    return {name: (float(np.median(times[name])), results[name]) for name in contenders}
