"""Each chapter notebook's .md and the paired .ipynb that Colab opens agree."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SYNC_HINT = "run `make sync` (jupytext --sync) and commit both files"


def toc_sources() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]] + [entry["file"] for entry in toc["chapters"]]
    return [ROOT / f"{name}.md" for name in names]


def is_notebook(path: Path) -> bool:
    """A MyST notebook: its front matter names a kernel (so the book runs it)."""
    text = path.read_text()
    if not text.startswith("---\n"):
        return False
    meta = yaml.safe_load(text.split("---\n", 2)[1]) or {}
    return "kernelspec" in meta


NOTEBOOKS = [path for path in toc_sources() if is_notebook(path)]


def cells(notebook) -> list[tuple[str, str, list[str]]]:
    """What must agree: each cell's type, source and tags, in order."""
    return [
        (cell.cell_type, cell.source, sorted(cell.metadata.get("tags", [])))
        for cell in notebook.cells
    ]


def test_the_chapter_has_notebooks_to_pair():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("md", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_notebook_in_the_toc_has_its_ipynb(md):
    assert md.with_suffix(".ipynb").is_file(), f"{md.name} has no pair: {SYNC_HINT}"


@pytest.mark.parametrize("md", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_pair_has_the_same_cells(md):
    ipynb = md.with_suffix(".ipynb")
    if not ipynb.is_file():
        pytest.fail(f"{ipynb.name} is missing: {SYNC_HINT}")
    text_version = jupytext.read(md)
    notebook = jupytext.read(ipynb)
    assert cells(notebook) == cells(text_version), f"{md.name} diverged: {SYNC_HINT}"
    assert notebook.metadata["kernelspec"] == text_version.metadata["kernelspec"]


@pytest.mark.parametrize("md", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_committed_ipynb_carries_no_outputs(md):
    # The pairs are inputs for Colab and Binder; outputs would bloat every diff.
    notebook = jupytext.read(md.with_suffix(".ipynb"))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{md.stem}: clear the outputs ({SYNC_HINT})"
            assert cell.execution_count is None


def test_every_ipynb_in_chapters_has_its_md():
    orphans = [
        path.name
        for path in CHAPTERS.glob("*.ipynb")
        if not path.with_suffix(".md").is_file()
    ]
    assert orphans == []


def test_jupytext_pairs_the_chapters_folder():
    # `jupytext --sync` (and Jupyter's jupytext extension) read this file.
    config = (CHAPTERS / "jupytext.toml").read_text()
    assert 'formats = "ipynb,md:myst"' in config


def test_sphinx_reads_only_the_md_of_a_pair():
    # Two sources for one page would be a build warning (an error under -W).
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "chapters/*.ipynb" in config["exclude_patterns"]


def test_a_diverged_pair_is_caught(tmp_path):
    """The comparison sees a one-character change in a code cell."""
    md = NOTEBOOKS[0]
    notebook = jupytext.read(md)
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    first_code.source += "\n# edited"
    assert cells(notebook) != cells(jupytext.read(md))
