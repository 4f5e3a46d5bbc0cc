"""`make pdf`: the built book printed by Chromium into one PDF, read back."""

from __future__ import annotations

import html
import importlib.util
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

spec = importlib.util.spec_from_file_location("make_pdf", ROOT / "scripts/make_pdf.py")
make_pdf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_pdf)


def squeeze(text: str) -> str:
    """Text without whitespace or soft hyphens (PDF extraction breaks lines),
    with ligatures such as "ﬁ" spelled out."""
    return re.sub(r"[\s\u00ad]+", "", unicodedata.normalize("NFKC", text))


def plain(fragment: str) -> str:
    """Visible text of an HTML fragment, with math and header links dropped."""
    fragment = re.sub(
        r'<(span|div) class="math[^"]*">.*?</\1>', " ", fragment, flags=re.S
    )
    fragment = re.sub(r'<a class="headerlink".*?</a>', "", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def headings(page_html: str) -> list[str]:
    # Not inside scripts: the explorer's inlined Vega bundle writes tags too.
    page_html = re.sub(r"<(script|style)\b.*?</\1>", "", page_html, flags=re.S | re.I)
    found = re.findall(r"<h([12])[^>]*>(.*?)</h\1>", page_html, flags=re.S)
    return [" ".join(plain(text).split()) for _, text in found]


class _BlockText(HTMLParser):
    """Text of every element whose class names an exercise or a solution,
    split into runs wherever math or a code block interrupts it."""

    VOID = frozenset({"br", "img", "input", "hr", "meta", "link", "wbr", "source"})

    BLOCKS = frozenset({"p", "div", "li", "section", "summary", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[list[str]] = []
        self.depth = 0  # inside a block: nesting depth of open elements
        self.skip = 0  # inside math or code: nesting depth there

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
            if self.skip:
                self.skip += 1
            elif "math" in classes or tag == "pre":
                self.skip = 1
                self.blocks[-1].append("")  # start a new run after it
            elif tag in self.BLOCKS:
                self.blocks[-1].append("")  # the title is a run of its own
        elif {"exercise", "solution"} & set(classes) and tag in ("div", "section"):
            self.depth = 1
            self.blocks.append([""])

    def handle_endtag(self, tag):
        if tag in self.VOID or not self.depth:
            return
        self.depth -= 1
        if self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.blocks[-1][-1] += data


def exercise_snippets(page_html: str) -> list[str]:
    """Some words of every exercise and solution: the longest run of text
    between two pieces of math or code, up to eight words."""
    parser = _BlockText()
    parser.feed(page_html)
    snippets = []
    for runs in parser.blocks:
        longest = max((" ".join(run.split()) for run in runs), key=len)
        if len(longest.split()) >= 3:
            snippets.append(" ".join(longest.split()[:8]))
    return snippets


def test_the_pages_come_in_toc_order():
    pages = make_pdf.toc_pages()
    assert pages[0] == "index"
    assert "chapters/overfitting" in pages
    assert pages.index("chapters/overfitting") < pages.index("chapters/summary")


def test_a_missing_build_is_reported_with_what_to_do(tmp_path):
    with pytest.raises(make_pdf.PdfError, match="make book"):
        make_pdf.make_pdf(tmp_path / "html", tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


@pytest.fixture(scope="module")
def pdf(built, tmp_path_factory):
    """The PDF of the session's built book, and its pypdf reader."""
    from pypdf import PdfReader

    if not make_pdf.CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh does)")
    output = tmp_path_factory.mktemp("pdf") / "dropout-book.pdf"
    num_pages = make_pdf.make_pdf(built / "html", output)
    reader = PdfReader(output)
    assert len(reader.pages) == num_pages
    return reader


book = pytest.mark.book


@book
def test_every_page_is_in_the_pdf_with_a_bookmark_in_toc_order(pdf, built):
    pages = make_pdf.toc_pages()
    assert len(pdf.pages) >= len(pages)
    outline = [item.title for item in pdf.outline]
    assert len(outline) == len(pages)
    for title, name in zip(outline, pages, strict=True):
        first_heading = headings((built / "html" / f"{name}.html").read_text())[0]
        assert squeeze(title) == squeeze(first_heading), name


@book
def test_the_pdf_carries_every_heading_and_exercise(pdf, built):
    text = squeeze("".join(page.extract_text() for page in pdf.pages))
    checked = 0
    for name in make_pdf.toc_pages():
        page_html = (built / "html" / f"{name}.html").read_text()
        for expected in headings(page_html) + exercise_snippets(page_html):
            assert squeeze(expected) in text, f"{name}: {expected!r} not in the PDF"
            checked += 1
    assert checked > 30


@book
def test_folded_solutions_are_printed_open(pdf, built):
    snippets = []
    for name in make_pdf.toc_pages():
        page_html = (built / "html" / f"{name}.html").read_text()
        if 'class="solution' in page_html or "solution dropdown" in page_html:
            snippets += exercise_snippets(page_html)
    if not snippets:
        pytest.skip("no page has exercises with solutions yet")
    text = squeeze("".join(page.extract_text() for page in pdf.pages))
    assert all(squeeze(snippet) in text for snippet in snippets)


@book
def test_math_is_typeset_not_left_as_tex(pdf):
    text = "".join(page.extract_text() for page in pdf.pages)
    for tex in (r"\(", r"\)", r"\[", r"\frac", r"\mathbf", r"\begin{", "$$"):
        assert tex not in text, f"raw TeX {tex!r} in the PDF"
    # MathJax's CHTML output draws formulas with its own web fonts, which
    # Chromium embeds as Type 3 fonts named after them.
    fonts = set()
    for page in pdf.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            name = font.get("/BaseFont") or (
                descriptor and descriptor.get_object().get("/FontName")
            )
            fonts.add(str(name))
    assert any("MathJax_Math-Italic" in font for font in fonts), sorted(fonts)


@book
def test_the_figures_are_embedded_as_images(pdf, built):
    expected = 0
    for name in make_pdf.toc_pages():
        page_html = (built / "html" / f"{name}.html").read_text()
        # The figures, not the theme's button logos (hidden in print).
        sources = re.findall(r'<img[^>]*src="([^"]+\.png)"', page_html)
        expected += sum("_static/" not in src for src in sources)
    assert expected >= 5
    embedded = sum(len(page.images) for page in pdf.pages)
    assert embedded >= expected
