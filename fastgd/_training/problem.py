"""What a fit trains on (``Problem``: the validated data, its targets and its loss) and
what it hands back (``Result``)."""
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np


@dataclass
class Problem:
    """What a fit trains on, validated.

    Attributes
    ----------
    X : ndarray or CSR matrix
        The validated X (for the curvature estimates); on a Dask cluster, the
        sample of rows the client keeps.
    rows : Rows
        X as the kernels read it.
    targets : Targets
    loss : LossFunction
    spec : LossSpec
        The loss's row of ``_tables.LOSSES``.
    sample_weight : ndarray or None
    stratify : ndarray or None
        Class of every row, for a stratified early-stopping split.
    """

    X: Any
    rows: Any
    targets: Any
    loss: Any
    spec: Any
    sample_weight: Optional[np.ndarray]
    stratify: Optional[np.ndarray]

    @property
    def class_scale(self):
        """The largest class weight: it scales the curvature of its rows."""
        return max(float(np.max(self.targets.arrays["w_pos"])), self.targets.w_neg)

    @property
    def curvature(self):
        """The bound on the loss's second derivative, times the largest class
        weight."""
        return self.spec.curvature * self.class_scale


@dataclass
class Result:
    """A finished run of epochs (``converged``: a solver of the whole objective met
    its tolerance or the optimum to rounding; ``passes``: the passes over X the run
    made, its restarts included)."""

    state: Any
    n_iter: int
    loss_curve: list
    validation_loss_curve: list = field(default_factory=list)
    converged: bool = False
    passes: int = 0
