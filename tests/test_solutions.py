"""The student-edition switch: hide_solutions removes gated solutions whole."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

PAGE = textwrap.dedent(
    """\
    # A tiny book

    ```{exercise-start}
    :label: ex-tiny
    ```
    Work out QUESTIONTEXT.
    ```{exercise-end}
    ```

    ```{solution-start} ex-tiny
    :class: dropdown
    ```
    The ANSWERPROSE is here.

    ```python
    print("ANSWERCODE")
    ```
    ```{solution-end}
    ```

    Text after the solution: AFTERTEXT.
    """
)


def build_tiny_book(folder: Path, hide_solutions: bool) -> str:
    folder.mkdir()
    (folder / "_config.yml").write_text(
        textwrap.dedent(
            f"""\
            title: tiny
            execute:
              execute_notebooks: "off"
            sphinx:
              extra_extensions: [sphinx_exercise, dropout_utils.solutions]
              config:
                hide_solutions: {str(hide_solutions).lower()}
            """
        )
    )
    (folder / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (folder / "index.md").write_text(PAGE)
    result = subprocess.run(
        [str(BIN / "jupyter-book"), "build", str(folder), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return (folder / "_build" / "html" / "index.html").read_text()


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("tiny")
    return {
        "teacher": build_tiny_book(root / "teacher", hide_solutions=False),
        "student": build_tiny_book(root / "student", hide_solutions=True),
    }


def test_the_regular_edition_folds_the_whole_solution(editions):
    html = editions["teacher"]
    for text in ("QUESTIONTEXT", "ANSWERPROSE", "ANSWERCODE", "AFTERTEXT"):
        assert text in html
    assert "dropdown" in html


def test_the_student_edition_drops_the_solution_and_keeps_the_rest(editions):
    html = editions["student"]
    assert "QUESTIONTEXT" in html
    assert "AFTERTEXT" in html
    for text in ("ANSWERPROSE", "ANSWERCODE", "Solution to"):
        assert text not in html
