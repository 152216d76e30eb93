"""``LossCurveDisplay``: the training objective of every epoch, and the validation
loss with early stopping, in the style of scikit-learn's Display objects (a
``from_estimator`` class method, ``plot`` that returns the display, the drawn
objects as ``ax_``, ``figure_`` and ``lines_``).  matplotlib is an optional
dependency, imported only when a curve is drawn."""
import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted


class LossCurveDisplay:
    """Loss curves of a fitted fastgd estimator.

    Build it with :meth:`from_estimator` (or from the curves themselves and call
    :meth:`plot`).

    Parameters
    ----------
    loss_curve : array-like of float
        The training objective of each epoch (``loss_curve_``).
    validation_loss_curve : array-like of float, default=None
        The held-out loss of each epoch (``validation_loss_curve_``).
    estimator_name : str, default=None
        Shown in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The training curve, then the validation curve when there is one.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from fastgd import LossCurveDisplay, SGDRegressor
    >>> X = np.random.default_rng(0).standard_normal((200, 3))
    >>> est = SGDRegressor(max_iter=5, tol=None).fit(X, X[:, 0])
    >>> display = LossCurveDisplay.from_estimator(est, log_scale=True)
    """

    def __init__(self, *, loss_curve, validation_loss_curve=None,
                 estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, log_scale=False, name=None, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        log_scale : bool, default=False
            A logarithmic loss axis (the objective falls by orders of magnitude
            when the model converges).
        name : str, default=None
            Legend label of the training curve (default: the estimator's name).
        **kwargs
            Passed to matplotlib's ``plot`` for both curves.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_matplotlib_support("LossCurveDisplay.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        name = name if name is not None else self.estimator_name
        train = np.asarray(self.loss_curve, dtype=np.float64)
        epochs = np.arange(1, len(train) + 1)
        label = "training objective" + (f" ({name})" if name else "")
        self.lines_ = ax.plot(epochs, train, marker="o", label=label, **kwargs)
        if self.validation_loss_curve is not None and len(self.validation_loss_curve):
            val = np.asarray(self.validation_loss_curve, dtype=np.float64)
            self.lines_ += ax.plot(np.arange(1, len(val) + 1), val, marker="s",
                                   linestyle="--", label="validation loss", **kwargs)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        if log_scale:
            ax.set_yscale("log")
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False, name=None,
                       **kwargs):
        """Draw the loss curves of a fitted fastgd estimator.

        Parameters
        ----------
        estimator : SGDRegressor, SGDClassifier or SGDOneClassSVM
            Fitted (``loss_curve_``, and ``validation_loss_curve_`` with
            ``early_stopping=True``).
        ax, log_scale, name, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if not hasattr(estimator, "loss_curve_"):
            raise TypeError(f"{type(estimator).__name__} has no loss_curve_: "
                            "LossCurveDisplay draws fastgd's estimators.")
        display = cls(loss_curve=estimator.loss_curve_,
                      validation_loss_curve=getattr(estimator,
                                                    "validation_loss_curve_", None),
                      estimator_name=type(estimator).__name__)
        return display.plot(ax=ax, log_scale=log_scale, name=name, **kwargs)
