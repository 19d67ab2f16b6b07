"""A saved web page's main content as Markdown, through trafilatura, with a bound on nesting.

trafilatura replaced our hand-written selectolax cleaner after a comparison on the four HTML
fixtures (tests/ingest/fixtures): both kept 30 of 30 content phrases, but the hand-written one
let 19 of 52 boilerplate phrases through against 4 for trafilatura with `favor_precision`
(announcement bars, tables of contents, previous/next links, wiki metadata), and trafilatura
writes real Markdown tables and ordered lists. The line filter in boilerplate.py runs after it.
"""

from __future__ import annotations

import logging
import re

import lxml.html
import trafilatura
from lxml import etree

from bot.errors import UnreadableFileError
from bot.retrieval.frontmatter import split_front_matter

# libxml2 (under lxml, under trafilatura) stops building the tree past 255 open elements and the
# page then comes out empty. Deeper still, some HTML parsers take time quadratic in the depth
# (200,000 nested <div>s kept one busy for minutes). So depth is measured first, in one linear
# pass, and a page nested deeper than the parser can read is skipped with that reason.
MAX_HTML_DEPTH = 250

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*?(/?)>")
_OPAQUE = re.compile(r"<!--.*?-->|<(script|style|template|textarea)\b.*?</\1\s*>", re.S | re.I)
# Elements that never nest: void elements, and those whose end tag may be left out (the parser
# closes an open <p> or <li> when the next one starts).
# fmt: off
_FLAT = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "command", "basefont", "frame", "isindex",
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup",
    "rb", "rt", "rtc", "rp", "colgroup", "caption", "html", "head", "body",
})
# fmt: on
# Site chrome that trafilatura sometimes keeps when a page has little else (a nav-only page).
_PRUNE = ["//nav", "//footer", "//aside"]
_CHROME = "//script|//style|//noscript|//template|//nav|//header|//footer|//aside|//form"
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_BLOCK_START = re.compile(r"^([-*+>|#]|\d+[.)]\s|```)")
_SENTENCE_END = re.compile(r"[.!?:`)\"”’]$")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


def nesting_depth(html: str, stop_at: int | None = None) -> int:
    """How deep elements nest, counted from the tags (linear time, no tree built)."""
    depth = deepest = 0
    for match in _TAG.finditer(_OPAQUE.sub("", html)):
        closing, name, self_closing = match.groups()
        if name.lower() in _FLAT or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if stop_at is not None and deepest > stop_at:
                break
    return deepest


def _tidy(markdown: str) -> str:
    """Undo trafilatura's escapes, bold marks and source line wrapping, outside code blocks."""
    out: list[str] = []
    in_code = False
    for raw in markdown.split("\n"):
        fence = raw.lstrip().startswith("```")
        if fence:
            in_code = not in_code
        if in_code or fence:
            out.append(raw)
            continue
        line = _BOLD.sub(r"\1", _ESCAPED.sub(r"\1", raw))
        line = re.sub(r"[ \t]+", " ", line).strip()
        previous = out[-1] if out else ""
        # A line break in the middle of a sentence of the HTML source is layout, not content.
        if (
            line
            and previous
            and not _BLOCK_START.match(line)
            and not _BLOCK_START.match(previous)
            and not _SENTENCE_END.search(previous)
        ):
            out[-1] = f"{previous} {line}"
        else:
            out.append(line)
    return "\n".join(out)


def _plain_text(html: str) -> str:
    try:
        root = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):  # nothing but whitespace or comments
        return ""
    for element in root.xpath(_CHROME):
        element.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_markdown(html: str) -> tuple[str | None, str]:
    """(title, Markdown main text) of a web page; raises UnreadableFileError if too deep."""
    # trafilatura logs at ERROR for pages it finds empty; for us that is a skip reason, not an error.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    depth = nesting_depth(html, stop_at=MAX_HTML_DEPTH)
    if depth > MAX_HTML_DEPTH:
        raise UnreadableFileError(
            f"HTML nested too deeply (more than {MAX_HTML_DEPTH} levels), not parsed"
        )
    extracted = trafilatura.extract(
        html,
        output_format="markdown",
        with_metadata=True,
        include_tables=True,
        include_formatting=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        favor_precision=True,
        prune_xpath=_PRUNE,
    )
    if not extracted:
        # Too little text for trafilatura's main-content heuristics: a fragment such as
        # "<p>One line</p>" is all content.
        return None, _plain_text(html)
    meta, body = split_front_matter(extracted)
    title = meta.get("title")
    return (title.strip() if isinstance(title, str) and title.strip() else None), _tidy(body)
