"""Build the student edition: the same book with every solution removed.

    python scripts/build_student.py [--output DIR] [--cache DIR]

The book's `_config.yml` is copied with three changes: sphinx-exercise's
`hide_solutions` is on (`dropout_utils.solutions` extends it to the gated
solutions that hold code cells), the download button and the copied page
sources are off (they would hand out the solutions), and execution reads and
writes the regular build's cache, so pages that `make book` already ran are
not run again. The HTML lands in `<output>/_build/html`
(default `_build/student/_build/html`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def student_config(config: dict, cache: Path) -> dict:
    """The book's configuration, turned into the student edition's."""
    config = dict(config)
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    execute = dict(config.get("execute") or {})
    execute["cache"] = str(cache)
    config["execute"] = execute
    html = dict(config.get("html") or {})
    html["use_repository_button"] = False
    config["html"] = html
    # The repository, and the notebooks the launch buttons open, hold the
    # solutions: leave them out of the student edition.
    config.pop("launch_buttons", None)
    sphinx = dict(config.get("sphinx") or {})
    sphinx_config = dict(sphinx.get("config") or {})
    sphinx_config["hide_solutions"] = True
    sphinx_config["html_copy_source"] = False
    sphinx_config["html_show_sourcelink"] = False
    theme = dict(sphinx_config.get("html_theme_options") or {})
    theme["use_download_button"] = False
    sphinx_config["html_theme_options"] = theme
    sphinx["config"] = sphinx_config
    sphinx["recursive_update"] = True
    config["sphinx"] = sphinx
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "_build" / "student",
        help="folder for the build (HTML in <output>/_build/html)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "_build" / ".jupyter_cache",
        help="execution cache to reuse (default: the regular build's)",
    )
    parser.add_argument(
        "--toc",
        type=Path,
        default=None,
        help="another table of contents, e.g. a few pages for a quick preview",
    )
    args = parser.parse_args(argv)

    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config_path = output / "_config.student.yml"
    config_path.write_text(
        yaml.safe_dump(student_config(config, args.cache.resolve()), sort_keys=False)
    )
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--config",
        str(config_path),
        "--path-output",
        str(output),
        "-W",
        "-n",
        "--keep-going",
    ]
    if args.toc is not None:
        command += ["--toc", str(args.toc.resolve())]
    result = subprocess.run(command)
    if result.returncode == 0:
        print(f"student edition: {output / '_build' / 'html' / 'index.html'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
