"""Pure text cleaning: mojibake repair, HTML to Markdown, and web-page boilerplate removal."""

from __future__ import annotations

import re
import unicodedata

import ftfy
from selectolax.lexbor import LexborHTMLParser, LexborNode

# Format characters that only get in the way of search; ZWJ stays because emoji sequences need it.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))
_NEWLINE_LIKE = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_ODD_SPACES = re.compile(r"[^\S\n\t]")
_BLANK_RUNS = re.compile(r"\n{3,}")


# Scrapers drop the bytes that Windows-1252 leaves undefined, so "”" (E2 80 9D) arrives as "â€"
# and "❌" (E2 9D 8C) as "âŒ"; ftfy then guesses a lost 0xA0 and gets "†" or "⌠". Put the lost
# byte back where the result is a closing quote or an emoji, what these cases nearly always were.
_LOST_BYTES = (0x9D, 0x8F, 0x8D, 0x81, 0x90)
_TAIL = "[" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) + "]"
_INCOMPLETE = re.compile(f"(?:â|ðŸ){_TAIL}(?!{_TAIL})")


def _plausibility(ch: str) -> int:
    code = ord(ch)
    if ch == "”":
        return 2
    return int(0x2600 <= code <= 0x27BF or 0x1F300 <= code <= 0x1FAFF)


def _restore_lost_byte(match: re.Match[str]) -> str:
    raw = match.group().encode("cp1252")
    best, best_score = match.group(), 0
    for lost in _LOST_BYTES:
        for at in range(len(raw), 0, -1):
            candidate = raw[:at] + bytes([lost]) + raw[at:]
            try:
                decoded = candidate.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if (score := _plausibility(decoded)) > best_score:
                best, best_score = decoded, score
    return best


def repair_text(text: str) -> str:
    """Fix mojibake and invisible noise; keep line structure, at most one blank line in a row."""
    # Twice at most: ftfy's own fixes (a C1 control read as "€") can expose a new "â€".
    for _ in range(2):
        text = _INCOMPLETE.sub(_restore_lost_byte, text)
        # uncurl_quotes=False: "â€™" must come back as "’", not as a straightened "'".
        text = ftfy.fix_text(text, uncurl_quotes=False)
        if not _INCOMPLETE.search(text):
            break
    text = _NEWLINE_LIKE.sub("\n", text)
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = _ODD_SPACES.sub(" ", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


# --- boilerplate lines -------------------------------------------------------------------------

_LINE_PATTERNS = [
    r"(skip|jump) to (the )?(main )?(content|navigation|main)",
    r"skip navigation",
    r"(back|scroll|return) to top",
    r"(« ?|← ?)?back to [^.!?]{1,60}",
    r"share( this)?( article| post| page| story)?",
    r"share (on|via) \w+( \w+)?",
    r"(tweet|pin it|print|email this)",
    r"\d+ ?(min|mins|minutes?) read",
    r"\d+ ?min",
    r"reading time:? \d+ ?min(ute)?s?",
    r"(accept|reject|allow|decline) (all( cookies)?|cookies)",
    r"(cookie|privacy) (settings|preferences|policy|notice)",
    r"manage (cookies|consent|preferences)",
    r"(we|this (web)?site) uses? cookies\.?",
    r"(we|this (web)?site) uses? cookies.{0,200}(experience|consent|agree|policy|analytics).{0,100}",
    r"(leave|post|add) a (comment|reply)",
    r"(\d+|no) (comments?|replies)( yet)?",
    r"comments are closed\.?",
    r"cancel reply",
    r"your email address will not be published.{0,80}",
    r"required fields are marked \*?",
    r"this site uses akismet to reduce spam.{0,100}",
    r"(subscribe|sign up)( now)?( to| for)?( our)? newsletter.{0,80}",
    r"(subscribe|sign up|join our newsletter)",
    r"(advertisement|sponsored)",
    r"view all",
    r"(read more|continue reading)( ?[»→›])?",
    r"suggested ?read(ing)?",
    r"©.{0,100}",
    r"(\(c\)|copyright) ?©? ?(\d{4}|by ).{0,100}",
    r".{0,100}all rights reserved\.?",
]
_SECTION_PATTERNS = [
    r"related( articles| posts| stories| content| reading| guides| resources)?",
    r"you (may|might) also (like|enjoy)",
    r"read (more|next)",
    r"more (articles|stories|posts)( from .{1,40})?",
    r"recommended( for you| articles| posts| reading)?",
    r"(trending|popular)( articles| posts| now)?",
]
_BOILERPLATE_LINE = re.compile("|".join(f"(?:{p})" for p in _LINE_PATTERNS))
_SECTION_START = re.compile("|".join(f"(?:{p})" for p in _SECTION_PATTERNS))
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MAX_BOILERPLATE_LINE = 200


def _normalise_line(line: str) -> str:
    """The bare words of a line, without Markdown decoration, for whole-line matching."""
    text = _LINK.sub(r"\1", line.strip())
    text = re.sub(r"^(#{1,6}\s+|[-*+•]\s+|>\s*)+", "", text)
    text = re.sub(r"[*_`]+", "", text)
    return re.sub(r"\s+", " ", text).strip(" :|").lower()


def _is_trailing_section(lines: list[str], start: int, end: int) -> bool:
    # A section that stops at a heading is clearly delimited. One that runs to the end of a plain
    # text file has no such bound, so it must be the smaller tail: a stray "Read more" halfway
    # through an article must not take the second half with it.
    if end < len(lines):
        return True
    total = sum(len(line.strip()) for line in lines)
    tail = sum(len(line.strip()) for line in lines[start:end])
    return start > 0 and tail * 2 <= total


def strip_boilerplate_lines(text: str) -> str:
    """Drop whole short lines that are page furniture, and trailing "related articles" sections.

    Only whole lines are matched (after removing Markdown bullets, emphasis and link syntax), so a
    sentence that merely mentions cookies or comments is kept. Code blocks are left untouched.
    """
    lines = text.split("\n")
    keep = [True] * len(lines)
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or _FENCE.match(line) or len(line.strip()) > _MAX_BOILERPLATE_LINE:
            i += 1
            continue
        words = _normalise_line(line)
        if words and _SECTION_START.fullmatch(words):
            end = i + 1
            while end < len(lines) and not _ATX_HEADING.match(lines[end]):
                end += 1
            if _is_trailing_section(lines, i, end):
                keep[i:end] = [False] * (end - i)
                i = end
                continue
        if words and _BOILERPLATE_LINE.fullmatch(words) and not _ATX_HEADING.match(line):
            keep[i] = False
        i += 1
    kept = "\n".join(line for line, k in zip(lines, keep, strict=True) if k)
    return _BLANK_RUNS.sub("\n\n", kept).strip("\n")


# --- HTML ----------------------------------------------------------------------------------------

_DROP_TAGS = (
    "script, style, noscript, nav, header, footer, aside, form, iframe, svg, button, template, "
    "dialog, head, [hidden], [aria-hidden=true]"
)
# fmt: off
_BOILERPLATE_TOKENS = frozenset({
    "nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "cookie", "cookies",
    "consent", "gdpr", "banner", "related", "share", "sharing", "social", "comment", "comments",
    "newsletter", "subscribe", "subscription", "sidebar", "footer", "advert", "advertisement",
    "ad", "ads", "popup", "modal",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "blockquote", "figure", "figcaption", "address",
    "details", "summary", "dl", "dt", "dd", "ul", "ol", "center", "hr",
})
# fmt: on
_PROTECTED_TAGS = frozenset({"html", "body", "main", "article", "pre", "code"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


def _attribute_tokens(node: LexborNode) -> set[str]:
    attrs = node.attributes
    raw = " ".join(attrs.get(name) or "" for name in ("id", "class", "role", "aria-label"))
    # Split camelCase and kebab/snake case so "relatedPosts" and "share-bar" both match.
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", raw)}


def _is_boilerplate(node: LexborNode, page_chars: int) -> bool:
    if node.tag in _PROTECTED_TAGS or not _attribute_tokens(node) & _BOILERPLATE_TOKENS:
        return False
    # Whole-page wrappers such as <div class="layout has-sidebar"> hold the article itself; a
    # "related" box may hold <article> cards too, but never most of the page's text.
    if node.css_first("main, h1") is not None:
        return False
    if node.css_first("article") is not None and len(node.text()) * 2 > page_chars:
        return False
    # Syntax highlighters mark code comments with class="comment".
    return not any(p.tag in ("pre", "code") for p in _ancestors(node))


def _ancestors(node: LexborNode) -> list[LexborNode]:
    found = []
    parent = node.parent
    while parent is not None:
        found.append(parent)
        parent = parent.parent
    return found


def _decompose_outermost(nodes: list[LexborNode]) -> None:
    # Removing a node frees its subtree, so a nested match must never be touched afterwards.
    marked = {node.mem_id for node in nodes}
    outermost = [n for n in nodes if not any(a.mem_id in marked for a in _ancestors(n))]
    for node in outermost:
        node.decompose()


def _inline_text(node: LexborNode) -> str:
    return re.sub(r"\s+", " ", node.text(deep=True, separator=" ")).strip()


class _Renderer:
    """Walks the cleaned DOM and emits Markdown blocks; list items and table rows stay tight."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str]] = []  # (kind, text); kind "tight" joins with one \n
        self.inline: list[str] = []
        self.bullet: str | None = None

    def flush(self) -> None:
        text = re.sub(r"[ \t]+", " ", "".join(self.inline))
        text = "\n".join(part.strip() for part in text.split("\n") if part.strip())
        self.inline.clear()
        if text:
            if self.bullet is not None:
                self.blocks.append(("tight", self.bullet + text))
                self.bullet = self.bullet.replace("- ", "  ")  # later paragraphs of the same item
            else:
                self.blocks.append(("block", text))

    def walk(self, node: LexborNode, depth: int = 0) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                # Source line breaks inside HTML text are layout, not content; <br> is content.
                self.inline.append(re.sub(r"\s+", " ", child.text_content or ""))
            elif tag in _HEADINGS:
                self.flush()
                if text := _inline_text(child):
                    self.blocks.append(("block", "#" * _HEADINGS[tag] + " " + text))
            elif tag == "pre":
                self.flush()
                if code := (child.text(deep=True) or "").strip("\n"):
                    self.blocks.append(("block", f"```\n{code}\n```"))
            elif tag == "code":
                if code := _inline_text(child):
                    self.inline.append(f"`{code}`")
            elif tag == "br":
                self.inline.append("\n")
            elif tag == "li":
                self.flush()
                outer, self.bullet = self.bullet, "  " * depth + "- "
                self.walk(child, depth + 1)
                self.flush()
                self.bullet = outer
            elif tag == "table":
                self.flush()
                for row in child.css("tr"):
                    cells = [_inline_text(cell) for cell in row.css("th, td")]
                    if any(cells):
                        self.blocks.append(("tight", " | ".join(cells)))
            elif tag in _BLOCK_TAGS:
                self.flush()
                self.walk(child, depth)
                self.flush()
            elif tag is not None and not tag.startswith("-"):
                self.walk(child, depth)

    def markdown(self) -> str:
        self.flush()
        out: list[str] = []
        previous = ""
        for kind, text in self.blocks:
            if out:
                out.append("\n" if kind == previous == "tight" else "\n\n")
            out.append(text)
            previous = kind
        return "".join(out)


def _page_title(tree: LexborHTMLParser) -> str | None:
    og = tree.css_first('meta[property="og:title"], meta[name="og:title"]')
    candidates = [
        og.attributes.get("content") if og is not None else None,
        _short_title(tree.css_first("title")),
        _short_title(tree.css_first("h1")),
    ]
    for candidate in candidates:
        if candidate and candidate.strip():
            return re.sub(r"\s+", " ", candidate).strip()
    return None


def _short_title(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    text = _inline_text(node)
    # "Article name | Site" -> "Article name", but only when the site part is the shorter one.
    parts = re.split(r"\s+[|–—·]\s+", text)
    return parts[0] if len(parts) > 1 and len(parts[0]) > len(parts[-1]) else text


def html_to_markdown(html: str) -> tuple[str | None, str]:
    """(title, Markdown text) of a web page, without navigation, banners, forms and asides."""
    tree = LexborHTMLParser(html)
    title = _page_title(tree)
    root = tree.body
    if root is None:
        return title, ""
    _decompose_outermost(root.css(_DROP_TAGS))
    page_chars = len(root.text())
    marked = root.css("[id], [class], [role], [aria-label]")
    _decompose_outermost([node for node in marked if _is_boilerplate(node, page_chars)])
    candidates = root.css("main") or sorted(root.css("article"), key=lambda n: -len(n.text()))
    body_chars = len(root.text(deep=True).strip())
    for candidate in candidates[:1]:
        # A <main> that holds only a hero banner must not hide the real text beside it.
        if len(candidate.text(deep=True).strip()) * 4 >= body_chars:
            root = candidate
    renderer = _Renderer()
    renderer.walk(root)
    return title, renderer.markdown()
