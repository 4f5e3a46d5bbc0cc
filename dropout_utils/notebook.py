"""Glue between notebooks and the book: numbers quoted in the prose."""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record `value` under `name` for the book's `{glue}` roles.

    Uses myst-nb's `glue` when it is installed (the book build); elsewhere,
    for example on Colab, the value is simply shown when `display` is True.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)
