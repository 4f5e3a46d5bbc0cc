"""glue(): myst-nb's glue in the book build, a plain display elsewhere."""

from __future__ import annotations

import sys

import IPython.display
import pytest

from dropout_utils.notebook import glue


@pytest.fixture
def myst_displays(monkeypatch):
    """What myst-nb's glue hands to IPython's display (captured, not shown)."""
    import myst_nb.ext.glue

    calls = []
    monkeypatch.setattr(
        myst_nb.ext.glue,
        "ipy_display",
        lambda *objs, **kwargs: calls.append((objs, kwargs)),
    )
    return calls


@pytest.fixture
def plain_displays(monkeypatch):
    calls = []
    monkeypatch.setattr(
        IPython.display, "display", lambda *objs, **kwargs: calls.append(objs)
    )
    return calls


def test_glue_records_the_value_with_myst_nb(myst_displays, plain_displays):
    glue("final_acc", 0.8725)
    assert len(myst_displays) == 1
    (bundle,), kwargs = myst_displays[0]
    # Hidden (display=False): the MIME type carries papermill's record prefix.
    assert bundle == {"application/papermill.record/text/plain": "0.8725"}
    assert kwargs["raw"] is True
    assert kwargs["metadata"]["scrapbook"] == {
        "name": "final_acc",
        "mime_prefix": "application/papermill.record/",
    }
    assert plain_displays == []


def test_glue_with_display_shows_the_value(myst_displays):
    glue("epochs", 10, display=True)
    (bundle,), kwargs = myst_displays[0]
    assert bundle == {"text/plain": "10"}
    assert kwargs["metadata"]["scrapbook"] == {"name": "epochs", "mime_prefix": ""}


def test_glue_passes_its_arguments_to_myst_nb(monkeypatch):
    import myst_nb

    calls = []
    monkeypatch.setattr(
        myst_nb,
        "glue",
        lambda name, value, display=True: calls.append((name, value, display)),
    )
    value = object()
    glue("thing", value)
    glue("shown", 3, display=True)
    assert calls == [("thing", value, False), ("shown", 3, True)]


def test_without_myst_nb_glue_is_silent(monkeypatch, plain_displays, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)
    with pytest.raises(ImportError):
        import myst_nb  # noqa: F401
    assert glue("final_acc", 0.87) is None
    assert plain_displays == []
    assert capsys.readouterr().out == ""


def test_without_myst_nb_glue_can_display_the_value(monkeypatch, plain_displays):
    monkeypatch.setitem(sys.modules, "myst_nb", None)
    value = {"acc": 0.87}
    glue("final_acc", value, display=True)
    assert len(plain_displays) == 1
    assert plain_displays[0] == (value,)
    assert plain_displays[0][0] is value


def test_a_figure_is_glued_as_a_png_image(myst_displays):
    # Our figures never enter pyplot, so no backend formatter would render
    # them: glue must store real PNG bytes, not "<Figure size ...>".
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    glue("fig_line", fig)
    (bundle,), _ = myst_displays[0]
    png = bundle["application/papermill.record/image/png"]
    assert isinstance(png, str) and len(png) > 100  # base64-encoded bytes
    assert "Figure size" not in bundle.get(
        "application/papermill.record/text/plain", ""
    )
