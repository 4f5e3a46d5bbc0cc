"""Static checks of the book's sources: table of contents, front matter, citations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dropout_utils import frameworks

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]] + [entry["file"] for entry in toc["chapters"]]
    return [ROOT / f"{name}.md" for name in names]


def front_matter(path: Path) -> dict:
    text = path.read_text()
    if not text.startswith("---\n"):
        return {}
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_every_toc_entry_exists():
    missing = [str(path) for path in toc_files() if not path.is_file()]
    assert not missing


def code_pages() -> list[Path]:
    return [path for path in toc_files() if "```{code-cell}" in path.read_text()]


def test_the_chapter_has_executable_pages():
    assert len(code_pages()) >= 5


@pytest.mark.parametrize("path", code_pages(), ids=lambda path: path.stem)
def test_pages_with_code_declare_a_kernel(path):
    # Without jupytext + kernelspec front matter, myst-nb shows code cells
    # but never runs them (MyST-NB #313).
    meta = front_matter(path)
    assert meta["kernelspec"]["name"] == "python3"
    assert meta["jupytext"]["text_representation"]["format_name"] == "myst"


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    cited = set()
    for path in toc_files():
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text()):
            cited.update(key.strip() for key in group.split(","))
    assert cited, "no citations found: the pattern is broken"
    assert cited <= keys, f"unknown keys: {sorted(cited - keys)}"


def test_every_glued_name_in_the_prose_is_glued_by_a_cell():
    for path in toc_files():
        text = path.read_text()
        used = set(re.findall(r"\{glue:(?:text|figure)?\}`?\s*([A-Za-z_]\w*)", text))
        used |= set(re.findall(r"```\{glue:figure\}\s+(\w+)", text))
        glued = set(re.findall(r"glue\(\s*\"(\w+)\"", text))
        # Names glued by the other frameworks' helper (dropout_utils.frameworks).
        if "frameworks.glue_demos(" in text:
            glued |= frameworks.glue_names()
        for model in frameworks.MODELS:
            if f'frameworks.glue_framework_outputs(fw_results, "{model}")' in text:
                glued |= frameworks.glue_names(model)
        if "{glue" in text:
            assert used, f"{path.name}: glue roles not recognised"
        assert used <= glued, f"{path.name}: not glued: {sorted(used - glued)}"
