"""The exercises page: seven exercises, solutions that ran, a student edition."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "chapters" / "exercises.md"
PAGE = "chapters/exercises"
LABELS = [
    "ex-probabilities",
    "ex-long-training",
    "ex-activation-variance",
    "ex-test-time",
    "ex-weight-decay",
    "ex-dropconnect",
    "ex-gaussian-noise",
]
# Names that only the solutions' code uses: none may reach the student edition.
SOLUTION_CODE = ["probability_runs", "long_runs", "mc_predict", "dropconnect_runs"]


def load_student_script():
    spec = importlib.util.spec_from_file_location(
        "build_student", ROOT / "scripts" / "build_student.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the sources (fast) -------------------------------------------------------


def test_every_exercise_has_a_folded_gated_solution():
    text = SOURCE.read_text()
    labels = re.findall(r"```\{exercise-start\}\n:label: ([\w-]+)", text)
    assert labels == LABELS
    solutions = re.findall(r"```\{solution-start\} ([\w-]+)\n:class: dropdown", text)
    assert solutions == LABELS
    for name in ("exercise-end", "solution-end"):
        assert text.count(f"```{{{name}}}") == len(LABELS)
    assert "authors of this book" in text


def test_the_page_is_in_the_table_of_contents_before_the_summary():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for entry in toc["chapters"]]
    assert files.index(PAGE) == files.index("chapters/summary") - 1


def test_the_student_configuration_hides_solutions_and_their_sources(tmp_path):
    module = load_student_script()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    before = json.dumps(config, sort_keys=True)
    student = module.student_config(config, tmp_path / "cache")
    assert json.dumps(config, sort_keys=True) == before  # the input is untouched
    sphinx = student["sphinx"]
    assert sphinx["config"]["hide_solutions"] is True
    assert sphinx["config"]["html_copy_source"] is False
    assert sphinx["config"]["html_theme_options"]["use_download_button"] is False
    assert "launch_buttons" not in student
    assert student["execute"]["cache"] == str(tmp_path / "cache")
    assert "dropout_utils.solutions" in sphinx["extra_extensions"]
    assert "student edition" in student["title"]


def test_make_student_runs_the_script():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^student:.*\n\t.*scripts/build_student\.py", makefile, re.M)


# --- the built book (slow: needs the clean build of conftest.py) -------------


def page_html(build: Path) -> str:
    return (build / "html" / f"{PAGE}.html").read_text()


def glued_values(build: Path) -> dict:
    path = build / "jupyter_execute" / f"{PAGE}.glue.json"
    values = {}
    for key, value in json.loads(path.read_text()).items():
        if "text/plain" in value.get("data", {}):
            text = value["data"]["text/plain"]
            # A glued string or number is stored as its repr; a figure as
            # the repr of an image object, which is not a literal.
            try:
                values[key] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[key] = text
    return values


def number(glued: dict, key: str) -> float:
    return float(glued[key])


def images(html: str) -> list[str]:
    """The page's own images (figures), not the theme's logos and icons."""
    return [tag for tag in re.findall(r"<img[^>]*>", html) if "_images/" in tag]


@pytest.fixture(scope="module")
def student(built, tmp_path_factory) -> Path:
    """The student edition, reusing the clean build's execution cache."""
    out = tmp_path_factory.mktemp("student")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_student.py"),
            "--output",
            str(out),
            "--cache",
            str(built / ".jupyter_cache"),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    # Nothing ran again: every page came from the regular build's cache.
    assert "Executed notebook" not in result.stdout, result.stdout[-3000:]
    return out / "_build"


@pytest.mark.book
def test_the_regular_edition_has_seven_folded_solutions(built):
    html = page_html(built)
    for label in LABELS:
        assert f'id="{label}"' in html
    solutions = re.findall(r'<div class="([^"]*\bsolution\b[^"]*)"', html)
    assert len(solutions) == len(LABELS), solutions
    assert all("dropdown" in classes for classes in solutions)
    for name in SOLUTION_CODE:
        assert name in html


@pytest.mark.book
def test_every_solution_figure_is_an_image_with_alt_text(built):
    html = page_html(built)
    tags = images(html)
    assert len(tags) >= len(LABELS)
    for tag in tags:
        src = re.search(r'src="([^"]+)"', tag).group(1)
        assert (built / "html" / "chapters" / src).resolve().is_file(), src
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and len(alt.group(1)) > 40, tag[:160]


@pytest.mark.book
def test_the_prose_quotes_the_glued_numbers(built):
    html = page_html(built)
    glued = glued_values(built)
    for key, spec in [
        ("e1_chapter", ".4f"),
        ("e1_swapped", ".4f"),
        ("e2_test_drop", ".4f"),
        ("e4_mc", ".4f"),
        ("e6_connect", ".4f"),
        ("e7_multiplicative", ".4f"),
    ]:
        assert f">{number(glued, key):{spec}}<" in html, key
    for key in ("e1_swap_verdict", "e5_kind", "e7_outcome"):
        assert glued[key] in html, key


@pytest.mark.book
def test_the_experiments_behave_as_the_chapter_explains(built):
    glued = glued_values(built)
    # The chapter's setting learns Fashion-MNIST as on the other pages.
    assert number(glued, "e1_chapter") >= 0.82
    assert number(glued, "e6_connect") >= 0.75
    # Without dropout, 100 epochs on 1000 images memorise more of them.
    assert number(glued, "e2_train_none") > number(glued, "e2_train_drop")
    # Averaging 50 stochastic passes beats a single one, and the passes
    # disagree more on the images the network gets wrong.
    assert number(glued, "e4_mc") > number(glued, "e4_single")
    assert number(glued, "e4_spread_wrong") > number(glued, "e4_spread_right")
    assert glued["e5_kind"] in {"additive", "diminishing", "cancelling", "absent"}


@pytest.mark.book
def test_the_student_edition_has_the_exercises_and_no_solution(student, built):
    html = page_html(student)
    for label in LABELS:
        assert f'id="{label}"' in html
    assert not re.search(r'<div class="[^"]*\bsolution\b', html)
    assert "Solution to" not in html
    for name in SOLUTION_CODE:
        assert name not in html
    assert images(html) == []
    # No solution figure was copied, and no page source hands them out.
    solution_images = {
        Path(re.search(r'src="([^"]+)"', tag).group(1)).name
        for tag in images(page_html(built))
    }
    copied = {p.name for p in (student / "html").rglob("*.png")}
    assert not solution_images & copied
    leaked = [
        p
        for p in (student / "html").rglob("*")
        if "exercises" in p.name and p.suffix in {".ipynb", ".md", ".txt"}
    ]
    assert leaked == []
    # The rest of the book is there, with its figures.
    assert images((student / "html" / "chapters" / "concise.html").read_text())
