"""Glue between notebooks and the book: numbers and figures quoted in the prose."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from .plotting import figure_to_png


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record `value` under `name` for the book's `{glue}` roles and directives.

    A matplotlib `Figure` is stored as a PNG image, so it renders whatever
    plotting backend the kernel uses (our figures never touch pyplot).
    Uses myst-nb's `glue` when it is installed (the book build); elsewhere,
    for example on Colab, the value is simply shown when `display` is True.
    """
    if isinstance(value, Figure):
        from IPython.display import Image

        value = Image(data=figure_to_png(value), format="png")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)
