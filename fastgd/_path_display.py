"""``PathDisplay``: the coefficients of a linear model along its regularization path,
one line per feature against alpha on a log scale, named by the features, with the
alpha cross-validation chose marked; in the style of scikit-learn's Display objects
(``from_estimator`` / ``from_path`` class methods, ``plot`` that returns the display,
the drawn objects as ``ax_``, ``figure_`` and ``lines_``).  matplotlib is an optional
dependency, imported only when a path is drawn."""
import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted

# features named in the legend at most; beyond, the lines carry their names as labels
# (``lines_[i].get_label()``) without a legend
LEGEND_MAX_FEATURES = 20


class PathDisplay:
    """Coefficients along a regularization path.

    Build it with :meth:`from_estimator` (a fitted ``SGDClassifierCV`` or
    ``SGDRegressorCV``) or :meth:`from_path` (the output of ``fastgd.sgd_path``), or
    from the arrays themselves and call :meth:`plot`.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
    coefs : array-like of shape (n_features, n_alphas)
        One model's weights at each alpha (``sgd_path``'s layout).
    feature_names : array-like of str, default=None
        The name of every feature (default: ``x0``, ``x1``, ...).
    alpha : float, default=None
        The chosen alpha, drawn as a vertical line.
    estimator_name : str, default=None
        Shown in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        One per feature, in the order of the features, labelled by its name.
    alpha_line_ : matplotlib Line2D or None
        The vertical line at ``alpha``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from fastgd import PathDisplay, sgd_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3))
    >>> y = X @ np.array([1.0, -1.0, 0.0])
    >>> display = PathDisplay.from_path(*sgd_path(X, y, penalty="l1", alphas=10))
    >>> len(display.lines_)
    3
    """

    def __init__(self, *, alphas, coefs, feature_names=None, alpha=None,
                 estimator_name=None):
        self.alphas = alphas
        self.coefs = coefs
        self.feature_names = feature_names
        self.alpha = alpha
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, legend=None, **kwargs):
        """Draw one line per feature against alpha (log scale, decreasing to the
        right: the model grows from left to right).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        legend : bool, default=None
            Name the features in a legend; None: when there are at most
            ``LEGEND_MAX_FEATURES`` of them.
        **kwargs
            Passed to matplotlib's ``plot`` for every line.

        Returns
        -------
        display : PathDisplay
        """
        check_matplotlib_support("PathDisplay.plot")
        import matplotlib.pyplot as plt

        alphas = np.asarray(self.alphas, dtype=np.float64)
        coefs = np.asarray(self.coefs, dtype=np.float64)
        if coefs.ndim != 2 or coefs.shape[1] != alphas.shape[0]:
            raise ValueError(f"coefs must have shape (n_features, n_alphas) = (n, "
                             f"{alphas.shape[0]}); got {coefs.shape}.")
        names = (np.asarray(self.feature_names, dtype=object)
                 if self.feature_names is not None
                 else np.array([f"x{j}" for j in range(coefs.shape[0])], dtype=object))
        if len(names) != coefs.shape[0]:
            raise ValueError(f"feature_names has {len(names)} names for "
                             f"{coefs.shape[0]} features.")
        if ax is None:
            _, ax = plt.subplots()
        self.lines_ = [ax.plot(alphas, coefs[j], label=str(names[j]), **kwargs)[0]
                       for j in range(coefs.shape[0])]
        self.alpha_line_ = None
        if self.alpha is not None:
            self.alpha_line_ = ax.axvline(self.alpha, color="black", linestyle="--",
                                          linewidth=1, label=f"alpha={self.alpha:.3g}")
        ax.set_xscale("log")
        if not ax.xaxis_inverted():
            ax.invert_xaxis()
        ax.set_xlabel("alpha")
        ax.set_ylabel("coefficient")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        if legend or (legend is None and coefs.shape[0] <= LEGEND_MAX_FEATURES):
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_path(cls, alphas, coefs, intercepts=None, *, feature_names=None,
                  alpha=None, model=0, ax=None, **kwargs):
        """Draw the path ``fastgd.sgd_path`` returned.

        Parameters
        ----------
        alphas, coefs, intercepts
            ``sgd_path``'s output (``intercepts`` is not drawn).
        feature_names : array-like of str, default=None
        alpha : float, default=None
            An alpha to mark.
        model : int, default=0
            The model row to draw when ``coefs`` holds several (one per class).
        ax, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : PathDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_path")
        coefs = np.asarray(coefs)
        if coefs.ndim == 3:
            coefs = coefs[model]
        display = cls(alphas=alphas, coefs=coefs, feature_names=feature_names,
                      alpha=alpha)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, fold="mean", model=0, ax=None, **kwargs):
        """Draw the path of a fitted ``SGDClassifierCV`` or ``SGDRegressorCV`` at its
        chosen ``l1_ratio_``, with ``alpha_`` marked and the features named by
        ``feature_names_in_`` (when it was fitted on a DataFrame).

        Parameters
        ----------
        estimator : SGDClassifierCV or SGDRegressorCV
            Fitted.
        fold : int or 'mean', default='mean'
            The fold whose path is drawn, or the mean of the folds' paths.
        model : int, default=0
            The model row (one per class beyond two classes).
        ax, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : PathDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if not hasattr(estimator, "coefs_paths_"):
            raise TypeError(f"{type(estimator).__name__} has no coefs_paths_: "
                            "PathDisplay.from_estimator draws SGDClassifierCV and "
                            "SGDRegressorCV; use from_path for sgd_path's output.")
        ratios = np.atleast_1d(estimator.l1_ratio)
        i = int(np.flatnonzero(ratios == estimator.l1_ratio_)[0])
        paths = estimator.coefs_paths_[:, i, :, model, :]  # (n_folds, n_alphas, d)
        path = paths.mean(axis=0) if fold == "mean" else paths[fold]
        alphas = np.atleast_2d(estimator.alphas_)[i]
        display = cls(alphas=alphas, coefs=path.T,
                      feature_names=getattr(estimator, "feature_names_in_", None),
                      alpha=estimator.alpha_,
                      estimator_name=type(estimator).__name__)
        return display.plot(ax=ax, **kwargs)
