"""The tables of the benchmarks and the demo: rows of cells as Markdown or as aligned
plain text, the cells they share (a ratio such as ``2.50x``, the time a budget took to
reach a goal such as ``0.123s (5it)``), and the output of a finished table (printed,
and written to a Markdown file when one is asked for).

Every benchmark builds its cells with these functions, so that the same quantity reads
the same in every table; what goes in a table (its columns, its notes) stays with the
benchmark.
"""


def times(ratio, digits=2, missing=""):
    """A ratio as a table cell: ``"2.50x"``.

    Parameters
    ----------
    ratio : float or None
    digits : int, default=2
        Decimals shown.
    missing : str, default=""
        The cell for no ratio (None or NaN).

    Returns
    -------
    str
    """
    if ratio is None or ratio != ratio:  # NaN is the only value unequal to itself
        return missing
    return f"{ratio:.{digits}f}x"


def time_to_goal(found, unit, digits=3):
    """The time a fit took to reach a goal, with its budget: ``"0.123s (5it)"``.

    Parameters
    ----------
    found : tuple or None
        ``(seconds, budget, ...)`` of the first budget that reached the goal; None:
        no budget did (the cell reads ``"not reached"``).
    unit : str
        The budget's unit, written after it (``"it"``, ``"ep"``, ``"passes"``, or
        ``""`` for a solver without one).
    digits : int, default=3
        Decimals of the seconds.

    Returns
    -------
    str
    """
    if found is None:
        return "not reached"
    seconds, budget = found[:2]
    return f"{seconds:.{digits}f}s ({budget}{unit})"


def markdown_row(cells):
    """One row of a Markdown table: ``"| a | b |"``.

    Parameters
    ----------
    cells : iterable of str

    Returns
    -------
    str
    """
    return "| " + " | ".join(cells) + " |"


def markdown_table(header, rows):
    """The lines of a Markdown table: the header, the separator line and the rows.

    Parameters
    ----------
    header : sequence of str
    rows : iterable of sequences of str
        As many cells each as ``header``.

    Returns
    -------
    lines : list of str
    """
    return ([markdown_row(header), "|" + "---|" * len(header)]
            + [markdown_row(row) for row in rows])


def aligned_row(cells, widths):
    """One row of a plain-text table: the first cell left-aligned in its width (a name),
    the others right-aligned in theirs (numbers), one space apart.

    Parameters
    ----------
    cells : sequence of str
    widths : sequence of int
        A width per cell; a longer cell is written whole.

    Returns
    -------
    str
    """
    first, *rest = zip(cells, widths)
    return " ".join([first[0].ljust(first[1])]
                    + [cell.rjust(width) for cell, width in rest])


def show(lines, markdown=None):
    """Print the lines of a table, and write them to ``markdown`` when it is a path.

    Parameters
    ----------
    lines : list of str
    markdown : str or None, default=None
        Path of a Markdown file to write the same lines to.
    """
    print("\n".join(lines))
    if markdown:
        with open(markdown, "w") as f:
            f.write("\n".join(lines) + "\n")
