"""Launch buttons and their set-up: Colab's first cell, Binder, the repository."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import jupytext
import pytest
import yaml
from test_pairs import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
CHAPTERS_DIR = ROOT / "chapters"


def colab_cell(md: Path):
    """The first code cell of a notebook: the one that sets Colab up."""
    notebook = jupytext.read(md)
    return next(cell for cell in notebook.cells if cell.cell_type == "code")


def test_the_repository_is_named_once_with_its_branch():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO_URL)
    assert CONFIG["repository"]["branch"] == "main"


def test_launch_buttons_are_configured():
    buttons = CONFIG["launch_buttons"]
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert buttons["thebe"] is True
    theme = CONFIG["sphinx"]["config"]["html_theme_options"]
    assert theme["use_download_button"] is True
    # Without recursive_update, html_theme_options would drop the launch buttons.
    assert CONFIG["sphinx"]["recursive_update"] is True


@pytest.mark.parametrize("md", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_first_code_cell_sets_up_colab(md):
    cell = colab_cell(md)
    assert '"google.colab" in sys.modules' in cell.source
    assert "remove-cell" in cell.metadata.get("tags", [])
    # The same repository and branch as the launch buttons (forks: _config.yml).
    assert REPO_URL in cell.source, f"{md.name}: the Colab cell names another repo"
    assert "--branch=main" in cell.source


def test_the_colab_cell_is_the_same_on_every_page():
    reference = NOTEBOOKS[0]
    expected = colab_cell(reference).source
    differ = [md.name for md in NOTEBOOKS if colab_cell(md).source != expected]
    assert not differ, (
        f"the first code cell of {differ} differs from {reference.name}'s: "
        "copy that cell over (then make sync)"
    )


def run_cell(source: str, monkeypatch, *, on_colab: bool, book_dir_exists=False):
    """Run the cell's code with subprocess.run recorded instead of executed."""
    calls = []

    def fake_run(args, **kwargs):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr("os.path.isdir", lambda path: book_dir_exists)
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(source, "<colab cell>", "exec"), {})
    return calls


def test_the_colab_cell_does_nothing_elsewhere(monkeypatch):
    path_before = list(sys.path)
    calls = run_cell(colab_cell(NOTEBOOKS[0]).source, monkeypatch, on_colab=False)
    assert calls == []
    assert sys.path == path_before


def test_on_colab_the_cell_clones_the_repository_and_installs_the_package(
    monkeypatch,
):
    calls = run_cell(colab_cell(NOTEBOOKS[0]).source, monkeypatch, on_colab=True)
    clone, install = calls
    assert clone[:2] == ["git", "clone"]
    assert REPO_URL in clone
    book_dir = clone[-1]
    assert install[1:] == ["-m", "pip", "install", "--quiet", book_dir]
    assert sys.path[0] == book_dir
    # Run again (the clone exists): no second clone, pip is a no-op then.
    calls = run_cell(
        colab_cell(NOTEBOOKS[0]).source,
        monkeypatch,
        on_colab=True,
        book_dir_exists=True,
    )
    assert [args[:2] for args in calls] == [[sys.executable, "-m"]]


def _imports(source: str) -> list[tuple[str, int]]:
    """(module, level) of every import in `source`, except optional ones.

    Imports inside functions count (the notebooks call those functions);
    imports guarded by `except ImportError` do not.
    """
    import ast

    tree = ast.parse(source)
    optional = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id == "ImportError"
            for h in node.handlers
        ):
            optional.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    found = []
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            found.append((module, node.level))
            # `from dropout_utils import charts` / `from . import charts`
            found += [(f"{module}.{a.name}".strip("."), node.level) for a in node.names]
    return found


def _distributions_the_notebooks_need() -> set[str]:
    """Distributions imported by the notebooks and the modules they reach."""
    import importlib.metadata

    package = ROOT / "dropout_utils"
    module_to_dists = importlib.metadata.packages_distributions()
    sources = [
        cell.source
        for md in NOTEBOOKS
        for cell in jupytext.read(md).cells
        if cell.cell_type == "code"
    ]
    seen_modules: set[str] = set()
    needed: set[str] = set()
    while sources:
        # IPython magics and shell escapes are not Python.
        code = "\n".join(
            line
            for line in sources.pop().splitlines()
            if not line.lstrip().startswith(("%", "!"))
        )
        for name, level in _imports(code):
            if level:  # relative: inside dropout_utils
                name = f"dropout_utils.{name}".rstrip(".")
            top = name.split(".")[0]
            if top == "dropout_utils":
                parts = name.split(".")[1:2]
                for module in ["__init__", *parts]:
                    path = package / f"{module}.py"
                    if path.is_file() and module not in seen_modules:
                        seen_modules.add(module)
                        sources.append(path.read_text())
            elif top and top not in sys.stdlib_module_names:
                dists = module_to_dists.get(top)
                assert dists, f"{top} is imported but not installed"
                needed.add(_normal(dists[0]))
    return needed


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: list[str]) -> set[str]:
    """The named distributions and everything they require, as installed."""
    import importlib.metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = _normal(req.name)
        if name in seen or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo.extend(Requirement(r) for r in requires)
    return seen


def test_installing_the_package_brings_everything_it_imports():
    # On Colab and Binder `pip install <repository>` is all the set-up there is.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    provided = _closure(project["dependencies"])
    missing = _distributions_the_notebooks_need() - provided
    assert not missing, f"add to pyproject.toml's dependencies: {sorted(missing)}"
    # Not imported by name: Altair's `to_html(inline=True)` loads it.
    assert "vl-convert-python" in provided


# --- Live Code (Thebe) -------------------------------------------------------
# Thebe runs, in a Binder kernel, only the code cells that the page shows:
# cells tagged remove-cell or remove-input are not in the HTML. A shown cell
# that needs a name defined only by a removed cell fails under Live Code.

HIDDEN_FROM_THEBE = {"remove-cell", "remove-input"}


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell reads from the notebook's globals, names it defines)."""
    import symtable

    code = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )
    top = symtable.symtable(code, "<cell>", "exec")
    used, defined = set(), set()
    for symbol in top.get_symbols():
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            defined.add(symbol.get_name())
        elif symbol.is_referenced():
            used.add(symbol.get_name())
    tables = list(top.get_children())
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        used.update(
            s.get_name()
            for s in table.get_symbols()
            if s.is_global() and s.is_referenced()
        )
    return used, defined


def names_missing_under_thebe(notebook) -> dict[int, list[str]]:
    """Shown cells that read names only removed cells define: {cell: names}."""
    import builtins

    known = set(dir(builtins)) | {"display", "get_ipython"}
    missing = {}
    for index, cell in enumerate(notebook.cells):
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & HIDDEN_FROM_THEBE:
            continue
        used, defined = _names(cell.source)
        if used - known - defined:
            missing[index] = sorted(used - known - defined)
        known |= defined
    return missing


def says_live_code_falls_short(md: Path) -> bool:
    text = md.read_text()
    return all(word in text for word in ("**Live Code**", "**Binder**", "**Colab**"))


@pytest.mark.parametrize("md", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_shown_cells_run_on_their_own_under_live_code(md):
    missing = names_missing_under_thebe(jupytext.read(md))
    if missing:
        assert says_live_code_falls_short(md), (
            f"{md.name}: under Live Code these shown cells miss names that only "
            f"removed cells define: {missing}. Show the defining cell (hide-input "
            "instead of remove-cell), or say on the page that Live Code falls "
            "short and point to Binder and Colab."
        )


def test_the_live_code_check_sees_a_name_from_a_removed_cell():
    notebook = jupytext.reads(
        "```{code-cell} ipython3\n:tags: [remove-cell]\n\nx = 1\n```\n\n"
        "```{code-cell} ipython3\nimport math\n\n\ndef f():\n    return math.pi\n"
        "\n\nprint(x + f())\n```\n",
        fmt="md:myst",
    )
    assert names_missing_under_thebe(notebook) == {1: ["x"]}


def test_the_explorer_page_sends_the_live_panel_to_binder_or_colab():
    # ipywidgets need a full notebook front end; Live Code's is not one.
    assert says_live_code_falls_short(CHAPTERS_DIR / "explorer.md")


# --- Binder (repo2docker) ----------------------------------------------------
# No Docker engine here: these check the files against each other and against
# the book's own requirements, which is what a Binder build would trip over.

BINDER = ROOT / "binder"


def requirement_lines(path: Path) -> list[str]:
    """A requirements file's lines, with `-r` includes expanded (as pip does,
    relative to the including file); comments and blank lines dropped."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            lines.extend(requirement_lines(path.parent / line[3:].strip()))
        else:
            lines.append(line)
    return lines


def requirement_names(lines: list[str]) -> set[str]:
    from packaging.requirements import Requirement

    return {_normal(Requirement(line).name) for line in lines if line[0] != "-"}


def test_binder_uses_python_3_11():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_binder_installs_cpu_torch_first_then_the_book_and_the_package():
    lines = requirement_lines(BINDER / "requirements.txt")
    assert lines[0] == "--extra-index-url https://download.pytorch.org/whl/cpu"
    names = requirement_names(lines)
    assert {"torch", "torchvision"} <= names
    # Editable, so that dropout_utils finds results/ beside it (the explorer).
    assert "-e ." in lines


def test_binder_covers_every_package_the_book_needs():
    binder = requirement_names(requirement_lines(BINDER / "requirements.txt"))
    book = requirement_names(requirement_lines(ROOT / "requirements.txt"))
    assert book <= binder, f"missing on Binder: {sorted(book - binder)}"
    # ... and what the notebooks import (`-e .` brings pyproject's dependencies).
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    provided = _closure(sorted(binder) + project["dependencies"])
    assert _distributions_the_notebooks_need() <= provided


def test_binder_provides_the_dataset_package_and_prepares_the_data():
    apt = (BINDER / "apt.txt").read_text().split()
    assert "dataset-fashion-mnist" in apt
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    text = post_build.read_text()
    assert text.startswith("#!")
    assert "python -m dropout_utils data" in text


def test_the_data_command_that_post_build_runs_exists():
    result = subprocess.run(
        [sys.executable, "-m", "dropout_utils", "data", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--no-download" in result.stdout


# --- The buttons in the built pages -------------------------------------------


@pytest.mark.book
@pytest.mark.parametrize("md", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_built_page_launches_and_downloads_its_notebook(built, md):
    name = md.relative_to(ROOT).with_suffix("").as_posix()  # chapters/<page>
    html_dir = built / "html"
    page = (html_dir / f"{name}.html").read_text()
    repo = REPO_URL.removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{repo}/blob/main/{name}.ipynb"
    binder = f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{name}.ipynb"
    assert f'href="{colab}"' in page
    assert f'href="{binder}"' in page
    assert "initThebeSBT()" in page  # the Live Code button
    for suffix in (".ipynb", ".md"):
        assert f'href="../_sources/{name}{suffix}"' in page
        assert (html_dir / "_sources" / f"{name}{suffix}").is_file()
    # The .ipynb download is the executed notebook, outputs included.
    import nbformat

    downloaded = nbformat.read(html_dir / "_sources" / f"{name}.ipynb", as_version=4)
    assert any(cell.get("outputs") for cell in downloaded.cells)
