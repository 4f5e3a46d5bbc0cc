"""Tests for dropout_utils.offline: vendored scripts and the Sphinx extension."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from dropout_utils import offline


def make_tarball(path: Path, files: dict[str, bytes]) -> Path:
    """An npm-style tarball: every file below `package/`."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def integrity_of(path: Path) -> str:
    return (
        "sha512-"
        + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
    )


def test_inline_scripts_listed_twice_are_kept_once():
    from sphinx.builders.html._assets import _JavaScript

    body = 'const THEBE_JS_URL = "x"'
    # What Sphinx 7 holds after an extension adds an inline script late: the
    # same script once with filename None and once with ''.
    scripts = [
        _JavaScript("_static/doctools.js", priority=200),
        _JavaScript(None, body=body),
        _JavaScript("_static/sphinx-thebe.js", **{"async": "async"}),
        _JavaScript("", body=body),
        _JavaScript("", body="var other = 1"),
    ]
    kept = offline.unique_scripts(scripts)
    assert kept == [scripts[0], scripts[1], scripts[2], scripts[4]]


def test_scripts_that_differ_in_priority_or_attributes_are_all_kept():
    from sphinx.builders.html._assets import _JavaScript

    scripts = [
        _JavaScript("a.js"),
        _JavaScript("a.js", priority=800),
        _JavaScript("a.js", defer="defer"),
    ]
    assert offline.unique_scripts(scripts) == scripts


def test_cdn_defaults_are_replaced_by_the_local_copies():
    config = SimpleNamespace(
        mathjax_path="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        nb_ipywidgets_js={"https://cdnjs.cloudflare.com/require.min.js": {}},
    )
    offline._use_local_copies(None, config)
    assert config.mathjax_path == offline.MATHJAX_PATH
    assert config.nb_ipywidgets_js == offline.IPYWIDGETS_JS
    assert not any("://" in url for url in config.nb_ipywidgets_js)


def test_a_local_setting_is_left_alone():
    config = SimpleNamespace(mathjax_path="mine/mathjax.js", nb_ipywidgets_js={})
    offline._use_local_copies(None, config)
    assert config.mathjax_path == "mine/mathjax.js"
    assert config.nb_ipywidgets_js == {}


def test_integrity_is_checked(tmp_path):
    tarball = make_tarball(tmp_path / "p.tgz", {"LICENSE": b"MIT"})
    offline.check_integrity(tarball, integrity_of(tarball))
    with pytest.raises(offline.VendorError, match="pinned SHA-512"):
        offline.check_integrity(tarball, "sha512-" + "A" * 86 + "==")


def test_unpack_keeps_only_the_selected_files(tmp_path):
    tarball = make_tarball(
        tmp_path / "p.tgz",
        {
            "LICENSE": b"licence",
            "es5/tex.js": b"tex",
            "es5/output/chtml/fonts/a.woff": b"font",
            "es5/tex-svg.js": b"unused",
            "README.md": b"unused",
        },
    )
    package = offline.Package(
        "p",
        "1.0.0",
        integrity_of(tarball),
        "MIT",
        "p",
        ("LICENSE", "es5/tex.js", "es5/output/*"),
    )
    target = tmp_path / "out"
    chosen = offline._unpack(package, tarball, target)
    assert chosen == ["LICENSE", "es5/output/chtml/fonts/a.woff", "es5/tex.js"]
    assert (target / "es5/output/chtml/fonts/a.woff").read_bytes() == b"font"
    assert not (target / "README.md").exists()


def test_a_pattern_that_matches_nothing_is_an_error(tmp_path):
    tarball = make_tarball(tmp_path / "p.tgz", {"LICENSE": b"licence"})
    package = offline.Package("p", "1.0.0", "", "MIT", "p", ("LICENSE", "dist/x.js"))
    with pytest.raises(offline.VendorError, match=r"dist/x\.js"):
        offline._unpack(package, tarball, tmp_path / "out")


def test_a_missing_npm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(offline.shutil, "which", lambda name: None)
    with pytest.raises(offline.VendorError, match="apt-get install npm"):
        offline._npm_pack(offline.PACKAGES[0], tmp_path)


def test_the_fetched_files_and_their_licences_are_in_place():
    """scripts/setup.sh has fetched every pinned package into the venv."""
    folder = offline.static_root() / offline.STATIC_FOLDER
    assert folder.is_dir(), "run `make setup` (python -m dropout_utils vendor)"
    for url in [offline.MATHJAX_PATH, *offline.IPYWIDGETS_JS]:
        path = offline.static_root() / url
        assert path.is_file() and path.stat().st_size > 0, url
    assert (folder / "mathjax" / "LICENSE").is_file()
    assert (folder / "html-manager" / "LICENSE").is_file()
    assert "MIT license" in (folder / "requirejs" / "require.js").read_text()[:400]
    notice = (folder / "NOTICE.txt").read_text()
    for package in offline.PACKAGES:
        assert f"{package.spec}, licence {package.licence}" in notice
    # The CHTML fonts MathJax loads next to itself.
    fonts = folder / "mathjax" / "es5" / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("*.woff"))) > 20
