"""Early stopping on a cluster: the validation rows held out of every chunk.

On one machine the validation rows are drawn from all of X at once
(``_training.sources.split_rows``: stratified for a classifier).  On a cluster no
task sees all of X, so each chunk holds out its own ``ceil(validation_fraction *
rows)`` rows, drawn at random from the fit's seed and the chunk's index: every task
that reads the chunk (an SGD epoch, the validation loss) finds the same rows without
the client sending them, the client counts them from the chunks' sizes alone, and
the split depends neither on where the chunks are nor on the threads.  The draw is
not stratified (a chunk's labels are not known to the client); with chunks of many
rows each class is held out in about its share.
"""
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state


@dataclass(frozen=True)
class HoldOut:
    """The validation rows of every chunk.

    Attributes
    ----------
    fraction : float
        ``validation_fraction``.
    seed : int
        Drawn once per fit from ``random_state``.
    """

    fraction: float
    seed: int

    @classmethod
    def of(cls, plan):
        """The hold-out of a plan with early stopping (None without)."""
        if not plan.early_stopping:
            return None
        seed = check_random_state(plan.random_state).randint(np.iinfo(np.int32).max)
        return cls(float(plan.validation_fraction), int(seed))

    def held_out(self, n_rows):
        """How many of a chunk's ``n_rows`` rows are validation rows."""
        return int(np.ceil(self.fraction * n_rows))

    def rows(self, n_rows, index):
        """(training rows, validation rows) of chunk ``index``, sorted, int32."""
        order = np.random.default_rng([self.seed, index]).permutation(n_rows)
        held = self.held_out(n_rows)
        return (np.sort(order[held:]).astype(np.int32),
                np.sort(order[:held]).astype(np.int32))

    def counts(self, chunk_rows):
        """(training rows, validation rows) over chunks of ``chunk_rows`` rows; raises
        scikit-learn's error when either is empty."""
        held = sum(self.held_out(n) for n in chunk_rows)
        n_rows = int(sum(chunk_rows))
        if held == 0 or held == n_rows:
            raise ValueError(
                f"Splitting {n_rows} samples into a train set and a validation set "
                f"with validation_fraction={self.fraction} (held out of each chunk "
                f"of the Dask input) led to an empty set ({n_rows - held} and {held} "
                f"samples). Please either change validation_fraction, use chunks of "
                f"more rows, or disable early_stopping.")
        return n_rows - held, held
