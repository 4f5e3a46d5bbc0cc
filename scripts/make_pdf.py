"""Print the built book into one PDF: headless Chromium, pages in toc order.

Usage (after `make book`): `.venv/bin/python scripts/make_pdf.py`, or
`make pdf`, which writes `_build/pdf/dropout-book.pdf`.

Each page of `_build/html` is opened in Debian's Chromium through Playwright,
served over http://127.0.0.1 (MathJax and the charts' modules do not load from
file:// URLs). Before printing, the script waits until MathJax has typeset the
page and every chart and image has loaded, and it unfolds everything a reader
would have to click open: folded code cells, dropdown solutions, the panels
of each tab set. The per-page PDFs are then merged with pypdf, one bookmark
per page.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import io
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_OUTPUT = ROOT / "_build" / "pdf" / "dropout-book.pdf"

# True once the page has loaded what it shows: MathJax (where there is
# math), every image and every chart. Polled rather than waiting for network
# silence, which a loaded machine may not reach within any fixed time.
LOADED = """
() => {
  const mathDone = !document.querySelector(".math")
    || (window.MathJax && window.MathJax.startup
        && !document.querySelector(".math:not(:has(mjx-container))"));
  const imagesDone = Array.from(document.images).every(image => image.complete);
  const chartsDone = Array.from(document.querySelectorAll(".vega-embed"))
    .every(chart => chart.querySelector("svg, canvas"));
  return Boolean(mathDone && imagesDone && chartsDone);
}
"""

# Runs in the page before printing: open what is folded and say what is
# still missing. Returns a list of problems (empty when the page is ready).
UNFOLD_AND_CHECK = """
async () => {
  for (const details of document.querySelectorAll("details")) {
    // Vega's "..." menu of export actions is a <details> too: keep it shut.
    if (!details.closest(".vega-embed")) details.open = true;
  }
  // sphinx-togglebutton hides dropdown admonitions (solutions) this way.
  for (const hidden of document.querySelectorAll(".toggle-hidden")) {
    hidden.classList.remove("toggle-hidden");
  }
  const problems = [];
  if (document.querySelector(".math")) {
    if (!window.MathJax || !window.MathJax.startup) {
      problems.push("MathJax did not load");
    } else {
      await window.MathJax.startup.promise;
      if (document.querySelector(".math:not(:has(mjx-container))")) {
        problems.push("some math was not typeset");
      }
    }
  }
  for (const chart of document.querySelectorAll(".vega-embed")) {
    if (!chart.querySelector("svg, canvas")) problems.push("a chart is empty");
  }
  for (const image of document.images) {
    if (!image.complete || image.naturalWidth === 0) {
      problems.push(`image not loaded: ${image.getAttribute("src")}`);
    }
  }
  return problems;
}
"""

# Print every panel of a tab set, each under its own label, and keep the
# theme's buttons out of the way. No animations: a fold that has just opened
# would otherwise still be fading in (transparent) when the page is printed.
PRINT_CSS = """
*, *::before, *::after { animation: none !important; transition: none !important; }
.sd-tab-set { display: block !important; }
.sd-tab-set > label { display: block !important; font-weight: bold;
  border: none !important; margin-top: 0.8em; }
.sd-tab-set > .sd-tab-content { display: block !important; }
.toggle-button, .headerlink, .thebe-launch-button { display: none !important; }
.vega-embed details { display: none !important; }
/* Charts shrink to the printed column rather than being cut at its edge. */
.vega-embed { max-width: 100% !important; }
.vega-embed svg { max-width: 100% !important; height: auto !important; }
/* Wrap long code lines: a printed page cannot scroll sideways. */
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
"""


class PdfError(RuntimeError):
    """The PDF cannot be made; the message says why and what to do."""


def toc_pages(root: Path = ROOT) -> list[str]:
    """The book's pages in reading order, as names like `chapters/overfitting`."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on a free local port; yields the base URL."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # keep the terminal quiet
            pass

    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def print_pages(
    html_dir: Path,
    pages: list[str],
    chromium: Path = CHROMIUM,
    timeout_ms: int = 120_000,
) -> list[tuple[str, bytes]]:
    """Each page's title and PDF bytes, printed by headless Chromium.

    Waits up to `timeout_ms` per page for its math, images and charts.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    printed = []
    with (
        serve(html_dir) as base,
        sync_playwright() as playwright,
        tempfile.TemporaryDirectory(prefix="pdf-profile-") as profile,
    ):
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            for name in pages:
                page.goto(f"{base}/{name}.html", wait_until="load")
                page.add_style_tag(content=PRINT_CSS)
                with contextlib.suppress(PlaywrightTimeout):  # reported below
                    page.wait_for_function(LOADED, timeout=timeout_ms)
                problems = page.evaluate(UNFOLD_AND_CHECK)
                if problems:
                    raise PdfError(f"{name}.html is not ready to print: {problems}")
                title = page.title().split(" — ")[0].strip() or name
                pdf = page.pdf(
                    format="A4",
                    print_background=True,
                    margin={
                        "top": "18mm",
                        "bottom": "18mm",
                        "left": "16mm",
                        "right": "16mm",
                    },
                )
                printed.append((title, pdf))
        finally:
            browser.close()
    return printed


def merge(printed: list[tuple[str, bytes]], output: Path) -> int:
    """Write the pages into one PDF at `output`, atomically; return its pages."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for title, pdf in printed:
        first_page = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(pdf)))
        writer.add_outline_item(title=title, page_number=first_page)
    writer.add_metadata({"/Title": "Dropout: an interactive chapter"})
    output.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: never a half-written PDF.
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, suffix=".pdf.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            writer.write(handle)
        os.replace(tmp_name, output)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return len(writer.pages)


def make_pdf(
    html_dir: Path = ROOT / "_build" / "html",
    output: Path = DEFAULT_OUTPUT,
    *,
    root: Path = ROOT,
    chromium: Path = CHROMIUM,
) -> int:
    """Print the built book at `html_dir` into `output`; return the page count."""
    pages = toc_pages(root)
    missing = [name for name in pages if not (html_dir / f"{name}.html").is_file()]
    if missing:
        raise PdfError(
            f"{html_dir} lacks the built pages {missing}: build the book first "
            "(make book)"
        )
    if not chromium.exists():
        raise PdfError(
            f"no Chromium at {chromium}: install Debian's chromium package "
            "(apt-get install chromium; scripts/setup.sh does it as root)"
        )
    return merge(print_pages(html_dir, pages, chromium), output)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--html",
        type=Path,
        default=ROOT / "_build" / "html",
        help="the built book (default: _build/html)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="the PDF to write (default: _build/pdf/dropout-book.pdf)",
    )
    args = parser.parse_args(argv)
    try:
        num_pages = make_pdf(args.html, args.output)
    except PdfError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"wrote {args.output} ({num_pages} pages)", file=sys.stderr)


if __name__ == "__main__":
    main()
