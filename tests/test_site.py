"""Every page of the built book in a real browser: offline, rendered, usable.

Debian's Chromium, driven by Playwright, visits each page of `_toc.yml` as
served from 127.0.0.1. Every request to any other host is blocked and counted.
A full-page screenshot of each page lands in `_build/screenshots/` (or in
`$DROPOUT_BOOK_SCREENSHOTS`) for a person to review.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import itertools
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("DROPOUT_BOOK_SCREENSHOTS", ROOT / "_build" / "screenshots")
)

pytestmark = pytest.mark.book


def toc_pages(entries: dict | list | None = None) -> list[str]:
    """Every page named in `_toc.yml`, parts and sections included."""
    if entries is None:
        toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
        return [toc["root"], *toc_pages(toc)]
    pages = []
    items = entries if isinstance(entries, list) else [entries]
    for item in items:
        if "file" in item:
            pages.append(str(Path(item["file"]).with_suffix("")))
        for key in ("parts", "chapters", "sections"):
            pages += toc_pages(item.get(key, []))
    return pages


PAGES = toc_pages()
#: The pages Sphinx adds by itself, visited too (but they have no buttons).
SITE_PAGES = [*PAGES, "genindex", "search"]


def is_notebook(name: str) -> bool:
    """A MyST notebook (the pages that get launch and download buttons)."""
    source = ROOT / f"{name}.md"
    return source.is_file() and "kernelspec:" in source.read_text()[:2000]


# --- serving the site and driving the browser --------------------------------


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on 127.0.0.1; yields the base URL."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(folder))

    class QuietServer(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # the browser drops connections it no longer needs

    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site(built) -> Iterator[str]:
    """The built book over HTTP on 127.0.0.1; yields the base URL."""
    with serve(built / "html") as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@dataclass
class Visit:
    """What the browser saw while a page loaded."""

    page: object  # playwright Page
    external: list[str] = field(default_factory=list)  # blocked requests
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # local 4xx/5xx or failures


def open_page(browser, site: str, name: str) -> Visit:
    """Load a page in a fresh context, where only 127.0.0.1 answers."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Generous: on a loaded 2-core machine a page with MathJax and the
    # explorer's Vega bundle can take tens of seconds to settle.
    context.set_default_timeout(120_000)
    page = context.new_page()
    visit = Visit(page)

    def route(route) -> None:
        url = route.request.url
        if urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            visit.external.append(url)
            route.abort()

    context.route("**/*", route)
    page.on(
        "console",
        lambda m: visit.console_errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    page.on("requestfailed", lambda r: visit.failed.append(f"{r.url} {r.failure}"))

    def response(response) -> None:
        # Chromium asks for /favicon.ico by itself; the book has no icon, and
        # that miss is neither a page's request nor shown to the reader.
        if response.status >= 400 and urlparse(response.url).path != "/favicon.ico":
            visit.failed.append(f"{response.url} {response.status}")

    page.on("response", response)
    page.goto(urljoin(site, f"{name}.html"), wait_until="load")
    page.wait_for_load_state("networkidle")
    # MathJax typesets after the load event; wait until it says it is done.
    page.evaluate(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
        " ? MathJax.startup.promise.then(() => true) : true"
    )
    return visit


@pytest.fixture
def visit(browser, site, request) -> Iterator[Visit]:
    result = open_page(browser, site, request.param)
    yield result
    result.page.context.close()


def on_every_page(test):
    return pytest.mark.parametrize("visit", SITE_PAGES, indirect=True, ids=SITE_PAGES)(
        test
    )


# --- the checks ---------------------------------------------------------------


def test_every_built_page_is_in_the_table_of_contents(built):
    html = built / "html"
    built_pages = {
        str(p.relative_to(html).with_suffix(""))
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith(("_", "reports"))
    }
    assert built_pages == set(SITE_PAGES)


@on_every_page
def test_the_page_is_self_contained_and_error_free(visit, request):
    name = request.node.callspec.params["visit"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name.replace('/', '__')}.png"
    visit.page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert visit.external == [], "requests that left 127.0.0.1"
    assert visit.failed == [], "local requests that failed"
    assert visit.page_errors == []
    assert visit.console_errors == []


VISIBLE_TEXT = """() => {
    const skip = 'pre, code, script, style, textarea, mjx-container, .MathJax';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts = [];
    while (walker.nextNode()) {
        const parent = walker.currentNode.parentElement;
        if (parent && !parent.closest(skip)) parts.push(walker.currentNode.data);
    }
    return parts.join(' ');
}"""

RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]{1,200}\$")


@on_every_page
def test_math_is_typeset(visit):
    page = visit.page
    text = page.evaluate(VISIBLE_TEXT)
    leftovers = RAW_TEX.findall(text)
    assert leftovers == [], "TeX left as text (is MathJax loaded?)"
    sources = page.locator(".math").count()
    rendered = page.locator("mjx-container").count()
    assert rendered >= sources
    assert page.locator("mjx-merror").count() == 0, "MathJax could not parse a formula"


# Alt text that names a file or says only what kind of thing it is.
WEAK_ALT = re.compile(
    r"^\s*$|\.(png|jpe?g|svg|gif)\b|^(image|figure|plot|chart|output|png|"
    r"svg|graph|visualization|vega visualization)\.?$",
    re.I,
)

IMAGES = """() => Array.from(document.querySelectorAll('img')).map(img => ({
    src: img.getAttribute('src'), alt: img.getAttribute('alt'),
    content: img.closest('article') !== null,
    decorative: img.getAttribute('role') === 'presentation'
        || img.getAttribute('aria-hidden') === 'true'}))"""

# Drawings large enough to be plots, outside buttons and other controls.
PLOTS = """() => Array.from(document.querySelectorAll('svg')).filter(svg => {
    const box = svg.getBoundingClientRect();
    return box.width >= 100 && box.height >= 100
        && !svg.closest('button, summary, a, [aria-hidden=true]')
        && !svg.parentElement.closest('svg');
}).map(svg => {
    const title = svg.querySelector(':scope > title');
    // Vega labels the chart's wrapper (role graphics-document), not the SVG.
    const labelled = svg.closest(
        '[aria-label][role=img], [aria-label][role=graphics-document], figure');
    return svg.getAttribute('aria-label')
        || (title && title.textContent)
        || (labelled && (labelled.getAttribute('aria-label')
            || (labelled.querySelector('figcaption') || {}).textContent))
        || '';
})"""


@on_every_page
def test_images_and_plots_have_meaningful_alt_text(visit):
    for image in visit.page.evaluate(IMAGES):
        if image["decorative"]:
            continue
        alt = image["alt"] or ""
        assert not WEAK_ALT.search(alt), image
        if image["content"]:
            # A figure or plot in the text: its alt text must say what it shows
            # (a logo on a button, "Binder logo", may be short).
            assert len(alt) >= 15, image
    for label in visit.page.evaluate(PLOTS):
        assert not WEAK_ALT.search(label) and len(label) >= 15, label


# The headings a screen reader lists: rendered ones, and those inside a fold
# that is closed. The theme's print-only copy of the title and contents is
# hidden on screen (display: none), so it is not part of the outline there.
HEADINGS = """() => Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
    .filter(h => h.checkVisibility() || h.closest('details:not([open])'))
    .filter(h => !h.closest('[aria-hidden=true]'))
    .map(h => [Number(h.tagName[1]),
               h.textContent.replace(/[#\\u00b6]\\s*$/, '').trim()])"""


@on_every_page
def test_headings_form_an_outline(visit):
    headings = visit.page.evaluate(HEADINGS)
    levels = [level for level, _ in headings]
    assert levels.count(1) == 1, headings
    assert levels[0] == 1, headings
    for (before, _), (level, text) in itertools.pairwise(headings):
        assert level <= before + 1, f"'{text}' skips from h{before} to h{level}"
    assert all(text for _, text in headings), headings


# Every fold in the page's content: hidden cells, folded solutions, dropdowns.
FOLDS = "article details:not(.toggle-details), article button.toggle-button"


def fold_state(page, index: int) -> dict:
    return page.evaluate(
        """([selector, index]) => {
        const fold = document.querySelectorAll(selector)[index];
        // Chromium hides a closed <details> body with content-visibility,
        // which checkVisibility() sees and getClientRects() does not.
        const visible = el => el.checkVisibility({visibilityProperty: true});
        if (fold.tagName === 'DETAILS') {
            const body = Array.from(fold.children).filter(c => c.tagName !== 'SUMMARY');
            return {open: fold.open, shown: body.some(visible),
                    focusable: fold.querySelector('summary').tabIndex >= 0};
        }
        const target = document.getElementById(fold.dataset.target);
        const body = Array.from(target.children)
            .filter(c => !c.classList.contains('admonition-title'));
        return {open: fold.getAttribute('aria-expanded') === 'true',
                shown: body.some(visible), focusable: fold.tabIndex >= 0};
    }""",
        [FOLDS, index],
    )


def closed_ancestor_folds(page, index: int) -> list[int]:
    """Indices of the closed folds that hold fold `index`, outermost first.

    A hidden cell inside a folded solution can only be reached once the
    solution is open, as a reader would do.
    """
    return page.evaluate(
        """([selector, index]) => {
        const folds = Array.from(document.querySelectorAll(selector));
        const fold = folds[index];
        return folds.flatMap((outer, i) => {
            if (i === index) return [];
            if (outer.tagName === 'DETAILS')
                return outer.contains(fold) && !outer.open ? [i] : [];
            const target = document.getElementById(outer.dataset.target);
            const closed = outer.getAttribute('aria-expanded') !== 'true';
            return target && target.contains(fold) && closed ? [i] : [];
        });
    }""",
        [FOLDS, index],
    )


def fold_handle(fold):
    """What a reader clicks: a <details>' summary, or the toggle button itself."""
    if fold.evaluate("el => el.tagName") == "DETAILS":
        return fold.locator("summary").first
    return fold


@on_every_page
def test_every_fold_opens_when_clicked_and_closes_from_the_keyboard(visit, request):
    page = visit.page
    folds = page.locator(FOLDS)
    source = ROOT / f"{request.node.callspec.params['visit']}.md"
    # Fold syntax in the source (hidden cells, dropdowns, solutions), not prose.
    folded = re.compile(r"hide-(input|output|cell)|:class: dropdown|\{solution")
    if source.is_file() and folded.search(source.read_text()):
        assert folds.count() > 0, "the source folds something; the page shows no fold"
    for index in range(folds.count()):
        fold = folds.nth(index)
        handle = fold_handle(fold)
        for outer in closed_ancestor_folds(page, index):
            fold_handle(folds.nth(outer)).click()
        before = fold_state(page, index)
        assert before["focusable"], "a fold that the keyboard cannot reach"
        if before["open"]:
            continue  # shown from the start (toggle-shown): nothing is hidden
        assert not before["shown"], f"fold {index} shows its content while closed"
        handle.click()
        after = fold_state(page, index)
        assert after["open"] and after["shown"], f"fold {index} did not open"
        handle.focus()
        page.keyboard.press("Enter")
        closed = fold_state(page, index)
        assert not closed["open"] and not closed["shown"], f"fold {index} stays open"


# --- launch and download buttons ----------------------------------------------


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def repository() -> tuple[str, str, str]:
    repo = book_config().get("repository", {})
    org_repo = urlparse(repo.get("url", "")).path.strip("/")
    return org_repo, repo.get("branch", "master"), repo.get("path_to_book", "")


LINKS = """() => Array.from(document.querySelectorAll(
        '.article-header-buttons a[href], .header-article-items a[href]'))
    .map(a => a.href)"""


@pytest.mark.parametrize("visit", PAGES, indirect=True, ids=PAGES)
def test_launch_and_download_buttons_point_at_files_that_exist(visit, request, site):
    """Colab at the page's .ipynb on main, Binder at the repository, downloads."""
    name = request.node.callspec.params["visit"]
    config = book_config()
    launch = config.get("launch_buttons", {})
    theme = config.get("sphinx", {}).get("config", {}).get("html_theme_options", {})
    org_repo, branch, path_to_book = repository()
    links = visit.page.evaluate(LINKS)
    seen = {"colab": 0, "binder": 0, "download": 0}

    for link in links:
        url = urlparse(link)
        if url.hostname == "127.0.0.1":
            # A download (source or executed notebook) served by the site.
            if Path(url.path).suffix in {".md", ".ipynb", ".pdf"}:
                status = visit.page.request.get(link).status
                assert status == 200, f"{link}: HTTP {status}"
                seen["download"] += 1
        elif launch.get("colab_url") and link.startswith(launch["colab_url"]):
            prefix = f"/github/{org_repo}/blob/{branch}/"
            assert url.path.startswith(prefix), link
            path = url.path.removeprefix(prefix)
            assert path.endswith(".ipynb"), f"Colab opens only notebooks: {link}"
            assert (ROOT / path).is_file(), f"{path} is not in the repository"
            seen["colab"] += 1
        elif launch.get("binderhub_url") and link.startswith(launch["binderhub_url"]):
            prefix = f"/v2/gh/{org_repo}/{branch}"
            assert url.path == prefix, link
            query = parse_qs(url.query)
            target = (query.get("urlpath") or query.get("labpath") or [""])[0]
            path = re.sub(r"^(lab/)?tree/", "", target)
            assert (ROOT / path).is_file(), f"Binder opens {path}, not in the repo"
            seen["binder"] += 1
        elif url.hostname == "github.com":
            assert url.path.strip("/").startswith(org_repo), link

    if is_notebook(name):
        assert path_to_book == "" or (ROOT / path_to_book).is_dir()
        if launch.get("colab_url"):
            assert seen["colab"] == 1, links
        if launch.get("binderhub_url"):
            assert seen["binder"] == 1, links
    if theme.get("use_download_button", True):
        assert seen["download"] >= 1, links
    if launch.get("thebe") and is_notebook(name):
        # "Live code" starts a kernel on Binder only when clicked.
        assert visit.page.locator("button.btn-launch-thebe").count() == 1


# --- the explorer's sliders from the keyboard ----------------------------------


@pytest.mark.parametrize("visit", ["chapters/explorer"], indirect=True)
def test_the_explorer_sliders_work_from_the_keyboard(visit):
    page = visit.page
    page.wait_for_selector("#vis svg")
    slider = page.locator("#vis input[type=range]").first
    title = page.locator("#vis svg .role-title-text").first
    before = title.text_content()
    # Tab from the top of the page until the slider has the focus.
    page.locator("body").focus()
    for _ in range(400):
        page.keyboard.press("Tab")
        if slider.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reaches the explorer's first slider")
    value = float(slider.input_value())
    page.keyboard.press("ArrowRight")
    assert float(slider.input_value()) == pytest.approx(value + 0.1)
    page.wait_for_function(
        "old => document.querySelector('#vis svg .role-title-text')"
        ".textContent !== old",
        arg=before,
        timeout=10_000,
    )
    assert f"p1 = {value + 0.1:.1f}" in title.text_content()


# --- colours that colour-blind readers can tell apart --------------------------

# Okabe & Ito's palette, designed to stay distinct with the common colour
# vision deficiencies, plus greys, black and white.
OKABE_ITO = {
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
}
NEUTRAL = re.compile(r"^#([0-9A-F]{2})\1\1$")  # greys: equal red, green, blue
# Colour maps that stay ordered in lightness, so readable in grey too.
SAFE_MAPS = {
    "viridis",
    "cividis",
    "magma",
    "inferno",
    "plasma",
    "gray",
    "grey",
    "greys",
    "binary",
}


def plotting_sources() -> list[Path]:
    return sorted((ROOT / "dropout_utils").glob("*.py")) + sorted(
        (ROOT / "chapters").glob("*.md")
    )


def colour_map_names() -> set[str]:
    """Matplotlib's colour maps and Vega's schemes, by lower-case name."""
    import matplotlib

    vega = {"blues", "greens", "reds", "redblue", "turbo", "rainbow", "category10"}
    return {name.lower().removesuffix("_r") for name in matplotlib.colormaps} | vega


def test_plots_use_colour_blind_safe_colours():
    maps = colour_map_names()
    for path in plotting_sources():
        text = path.read_text()
        for colour in re.findall(r"[\"'](#[0-9A-Fa-f]{6})[\"']", text):
            colour = colour.upper()
            assert colour in OKABE_ITO or NEUTRAL.match(colour), f"{path}: {colour}"
        for name in re.findall(r"[\"'](\w+)[\"']", text):
            name = name.lower().removesuffix("_r")
            if name in maps:
                assert name in SAFE_MAPS, f"{path}: colour map {name}"


# --- embedded widgets (none in the chapter yet, so a tiny book of one) ---------

WIDGET_PAGE = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# A widget

```{code-cell} ipython3
import ipywidgets as widgets

widgets.IntSlider(value=3, description="units")
```
"""


def test_an_embedded_widget_renders_offline(browser, tmp_path):
    """The widget manager, require.js and their fonts come from the site."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(
        "title: widgets\nexecute:\n  execute_notebooks: force\n"
        "sphinx:\n  extra_extensions: [dropout_utils.offline]\n"
        "  config:\n    html_context: {default_mode: auto}\n"
    )
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (book / "index.md").write_text(WIDGET_PAGE)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(book), "-W", "-n"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with serve(book / "_build" / "html") as url:
        visit = open_page(browser, url, "index")
        try:
            slider = visit.page.locator(".widget-slider")
            slider.wait_for()
            assert "units" in visit.page.locator(".widget-label").first.inner_text()
            assert visit.external == []
            assert visit.failed == []
            assert visit.page_errors == []
            assert visit.console_errors == []
        finally:
            visit.page.context.close()
