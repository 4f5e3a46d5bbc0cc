"""Serve the book's scripts from the site itself: no CDN, no third party.

Two parts:

- `fetch_vendor()` (run by `scripts/setup.sh` as `python -m dropout_utils
  vendor`) takes MathJax, require.js and the Jupyter widget manager from the
  npm registry at pinned versions, checks each tarball against its pinned
  SHA-512, and keeps the files the site serves, with their licences, in
  `vendor_dir()`.
- `setup()` is a Sphinx extension (listed in `_config.yml`) that copies
  those files into the built site's `_static/third-party/`, points Sphinx's
  MathJax and myst-nb's widget scripts at them, and drops scripts that a page
  would otherwise include twice.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The folder below the built site's `_static/` that holds the copies.
STATIC_FOLDER = "third-party"


@dataclass(frozen=True)
class Package:
    """One npm package the site serves part of."""

    name: str  # on the npm registry
    version: str
    integrity: str  # the registry's `dist.integrity` (SHA-512 of the tarball)
    licence: str  # SPDX identifier, as the package declares it
    folder: str  # below _static/third-party/
    files: tuple[str, ...]  # glob patterns, relative to the package's root

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES = (
    Package(
        "mathjax",
        "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/"
        "FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "Apache-2.0",
        "mathjax",
        # The combined TeX + CHTML component, plus what it loads on demand:
        # TeX extensions, CHTML fonts, the menu and the accessibility tools.
        (
            "LICENSE",
            "es5/tex-mml-chtml.js",
            "es5/input/*",
            "es5/output/chtml.js",
            "es5/output/chtml/*",
            "es5/a11y/*",
            "es5/sre/*",
            "es5/ui/*",
        ),
    ),
    Package(
        "requirejs",
        "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+"
        "Jd5otXKGNehIonFlyQXSowL6Mw==",
        "MIT",  # stated in the header of require.js; the package has no file
        "requirejs",
        ("require.js",),
    ),
    Package(
        "@jupyter-widgets/html-manager",
        "1.0.6",  # the 1.x line renders the state that ipywidgets 8 saves
        "sha512-+Mn+Ra8wyIHrYaUpfmf9A3dsLkt/NuwzPQN8sthdxBD35VV5cOJbpmgMhNR27n/"
        "rmP3mKyEe0PWCJrtZrXTXDQ==",
        "BSD-3-Clause",
        "html-manager",
        (
            "LICENSE",
            "dist/embed-amd.js",
            "dist/embed.js.LICENSE.txt",  # licences of the bundled libraries
            # Font Awesome, which the bundle's CSS loads next to itself.
            "dist/*.woff2",
            "dist/*.woff",
            "dist/*.ttf",
            "dist/*.eot",
            "dist/*.svg",
        ),
    ),
)

#: Our own script, run between require.js and the widget manager. The
#: manager's modules find their fonts next to the URL require.js gives their
#: module names; by default that is the page's folder, where there are none.
WIDGET_PATHS_JS = """\
// Written by dropout_utils/offline.py: map the widget manager's module names
// onto its folder in _static/, so that the fonts its styles name load from
// this site.
(function () {
  var dist = new URL("html-manager/dist", document.currentScript.src).href;
  window.require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": dist,
      "@jupyter-widgets": dist,
    },
  });
})();
"""

#: Sphinx `mathjax_path` and myst-nb `nb_ipywidgets_js`, relative to _static/.
MATHJAX_PATH = f"{STATIC_FOLDER}/mathjax/es5/tex-mml-chtml.js"
IPYWIDGETS_JS = {
    f"{STATIC_FOLDER}/requirejs/require.js": {},
    f"{STATIC_FOLDER}/widget-paths.js": {},
    f"{STATIC_FOLDER}/html-manager/dist/embed-amd.js": {},
}


class VendorError(RuntimeError):
    """The site's own copies of its scripts are missing or cannot be fetched."""


def vendor_dir() -> Path:
    """Where the fetched files live: `$DROPOUT_BOOK_VENDOR`, else in the venv."""
    override = os.environ.get("DROPOUT_BOOK_VENDOR")
    if override:
        return Path(override).expanduser()
    return Path(sys.prefix) / "share" / "dropout-book" / "vendor"


def _stamp() -> str:
    """A short hash of what PACKAGES asks for: a new pin means a new fetch."""
    spec = json.dumps([(p.spec, p.integrity, p.files) for p in PACKAGES])
    spec += WIDGET_PATHS_JS
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def static_root(root: Path | None = None) -> Path:
    """The folder Sphinx copies into `_static/` (it holds `third-party/`)."""
    return (root or vendor_dir()) / f"static-{_stamp()}"


def check_integrity(tarball: Path, integrity: str) -> None:
    """Raise VendorError unless the file's SHA-512 is the pinned one."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise ValueError(f"only sha512 integrity strings are pinned, got {integrity}")
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != expected:
        raise VendorError(
            f"{tarball.name} does not match its pinned SHA-512 "
            f"(got sha512-{digest}); refusing to serve it"
        )


def _npm_pack(package: Package, destination: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            "npm is needed to fetch the site's scripts (MathJax, require.js, the "
            "widget manager) from the npm registry; install it (Debian: "
            "`apt-get install npm`) and run `make setup` again"
        )
    result = subprocess.run(
        [npm, "pack", package.spec, "--json", "--pack-destination", str(destination)],
        capture_output=True,
        text=True,
        cwd=destination,
    )
    if result.returncode != 0:
        raise VendorError(
            f"`npm pack {package.spec}` failed (is the npm registry reachable?):\n"
            + result.stderr[-2000:]
        )
    filename = json.loads(result.stdout)[0]["filename"]
    # npm names scoped tarballs `scope-name-version.tgz`, without the `@`.
    return destination / filename.lstrip("@").replace("/", "-")


def _selected(names: list[str], patterns: tuple[str, ...]) -> list[str]:
    """The files among `names` that a pattern matches (`*` spans folders)."""
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def _unpack(package: Package, tarball: Path, target: Path) -> list[str]:
    """Copy the package's selected files into `target`; return their names."""
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp, filter="data")
        root = Path(tmp) / "package"
        names = sorted(
            p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
        )
        chosen = _selected(names, package.files)
        missing = [p for p in package.files if not _selected(names, (p,))]
        if missing:
            raise VendorError(f"{package.spec} has no file matching {missing}")
        for name in chosen:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target / name)
    return chosen


def _notice(packages: tuple[Package, ...]) -> str:
    lines = [
        "Third-party scripts served by this site, copied at build time from",
        "the npm registry at the versions below (see each folder's LICENSE).",
        "",
    ]
    for p in packages:
        lines.append(f"{p.folder}/: {p.spec}, licence {p.licence}")
    lines += [
        "",
        "require.js carries its MIT licence in its header. The widget manager",
        "bundles Font Awesome Free 5 (icons CC BY 4.0, fonts SIL OFL 1.1, code",
        "MIT) and other libraries whose licence notices are in",
        "html-manager/dist/embed.js.LICENSE.txt.",
        "",
        "widget-paths.js is the book's own (MIT, like the book).",
    ]
    return "\n".join(lines) + "\n"


def fetch_vendor(root: Path | None = None, *, force: bool = False) -> Path:
    """Fetch every package once into `root` (default `vendor_dir()`).

    The files land in a temporary folder first and are moved into place whole,
    so an interrupted fetch leaves nothing half-written. Returns the folder to
    add to Sphinx's `html_static_path`.
    """
    final = static_root(root)
    if final.is_dir() and not force:
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=final.parent) as tmp:
        downloads = Path(tmp) / "downloads"
        downloads.mkdir()
        staged = Path(tmp) / "static"
        for package in PACKAGES:
            logger.info("fetching %s from the npm registry", package.spec)
            tarball = _npm_pack(package, downloads)
            check_integrity(tarball, package.integrity)
            _unpack(package, tarball, staged / STATIC_FOLDER / package.folder)
        (staged / STATIC_FOLDER / "NOTICE.txt").write_text(_notice(PACKAGES))
        (staged / STATIC_FOLDER / "widget-paths.js").write_text(WIDGET_PATHS_JS)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staged, final)
    # Older pins are no longer needed.
    for old in final.parent.glob("static-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m dropout_utils vendor",
        description="Fetch MathJax, require.js and the widget manager from the "
        "npm registry, for the book to serve itself.",
    )
    parser.add_argument("--force", action="store_true", help="fetch again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = fetch_vendor(force=args.force)
    except VendorError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"the site's third-party scripts are in {path}")


# --- the Sphinx extension ----------------------------------------------------


def _use_local_copies(app, config) -> None:
    """Point remote defaults (CDN URLs) at the copies in _static/."""
    if "://" in (config.mathjax_path or ""):
        config.mathjax_path = MATHJAX_PATH
    widgets_js = getattr(config, "nb_ipywidgets_js", None)
    if widgets_js is None or any("://" in url for url in widgets_js):
        config.nb_ipywidgets_js = dict(IPYWIDGETS_JS)


def _add_static_path(app) -> None:
    if app.builder.format != "html":
        return
    from sphinx.errors import ExtensionError

    folder = static_root()
    if not (folder / STATIC_FOLDER).is_dir():
        raise ExtensionError(
            f"the site's own copies of MathJax, require.js and the widget manager "
            f"are missing from {folder.parent}; run `make setup` (or "
            f"`{sys.executable} -m dropout_utils vendor`) once: it fetches them "
            f"from the npm registry"
        )
    app.config.html_static_path.append(str(folder))


def unique_scripts(scripts: list[Any]) -> list[Any]:
    """`scripts` without repeats, an inline script's filename None or ''.

    Sphinx 7 lists a script that an extension adds after the builder starts
    (sphinx-thebe's configuration, sphinx-togglebutton's selector) once with
    the filename None and once with '', which compare unequal; the page then
    runs it twice, and sphinx-thebe's `const` declarations throw the second
    time.
    """
    seen = set()
    kept = []
    for script in scripts:
        key = (
            os.fspath(script.filename or ""),
            script.priority,
            tuple(sorted(script.attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def _dedupe_page_scripts(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = unique_scripts(list(context["script_files"]))


def setup(app) -> dict[str, Any]:
    # After myst-nb and sphinx.ext.mathjax have registered their settings.
    app.connect("config-inited", _use_local_copies, priority=900)
    app.connect("builder-inited", _add_static_path)
    # Late, so that scripts other extensions add per page are seen too.
    app.connect("html-page-context", _dedupe_page_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
