"""Figures with panels side by side, shared by the experiments' figure functions."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["two_panels", "panels"]


def two_panels(title: str) -> tuple[Figure, Any]:
    """A figure of 11 x 4.2 inches titled ``title`` with two panels side by side.

    Args:
        title: the figure's title.

    Returns:
        The figure and its ``[2]`` array of axes.
    """
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    fig.suptitle(title)
    return fig, fig.subplots(1, 2)


def panels(n: int, title: str, width: float = 5.2) -> tuple[Figure, list[Axes]]:
    """A figure titled ``title`` with ``n`` panels side by side, each ``width`` inches wide.

    Args:
        n: the number of panels.
        title: the figure's title.
        width: the width of one panel in inches (the height is 4.2).

    Returns:
        The figure and its ``n`` axes.
    """
    fig = Figure(figsize=(width * n, 4.2), layout="constrained")
    fig.suptitle(title)
    return fig, list(fig.subplots(1, n)) if n > 1 else [fig.subplots()]
