"""Model output (Markdown) -> Slack text, with mentions and disguised links made inert.

Two targets: `to_mrkdwn` for `text`/section fields (Slack's own mrkdwn dialect) and
`sanitize_markdown` for the streaming API, whose `markdown_text` is standard Markdown and would
render mrkdwn's `*bold*` as italics. Both pure, both table-tested.
"""

from __future__ import annotations

import re

# A zero-width joiner after "@" keeps the word readable but stops Slack from notifying anyone.
_ZWJ = "\u200d"
# Shown instead of a "<" inside text that is rewritten, so no new construct can form from it.
_INERT_LT = "\u2039"

# How a Slack angle construct starts after its "<" (it runs to the first ">"): <@U…|name>,
# <#C…|name>, <!here>, <!subteam^S…>, <!date^…|text>, <scheme:…|label>, <scheme:…>, and any
# <target|label> (a disguised link).
_CONSTRUCT_START = re.compile(r"[@#!]|[A-Za-z][A-Za-z0-9+.\-]*:|[^<>|]*\|")
_SPECIAL_KIND = re.compile(r"[A-Za-z_]*")
_BROADCASTS = frozenset({"channel", "here", "everyone"})
_PLAIN_BROADCAST = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)
# Echoed user text: C0/C1 controls except tab and newline, and the bidi marks, embeddings,
# overrides and isolates that can make a line read differently from what it holds.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

_FENCE = re.compile(r"(```.*?(?:```|\Z))", re.DOTALL)
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_HOLD = "\x00{}\x00"


def neutralise_mentions(text: str) -> str:
    """The one sanitiser for text the bot did not write (model output, documents, user input).

    Every Slack construct becomes inert text: user, group, channel and special mentions keep
    their name without notifying anyone, and a link shows its real target ("label (url)") rather
    than a label that may disguise it. Both renderers (`to_mrkdwn`, `sanitize_markdown`) and
    every echo start from this, so the stream and the posted fallback show the same text.
    """
    text = _rewrite_constructs(text)
    return _PLAIN_BROADCAST.sub(lambda m: f"@{_ZWJ}{m.group(1)}", text)


def _rewrite_constructs(text: str) -> str:
    """Each construct, from its "<" to the first ">" after it, made inert; in one linear pass
    (a regex would rescan to the end for every "<" that nothing closes)."""
    out: list[str] = []
    done = 0  # text[:done] is in `out`
    close = -1  # the first ">" after the current "<", reused while it stays ahead
    start = text.find("<")
    while start >= 0:
        if close <= start:
            close = text.find(">", start + 1)
            if close < 0:
                break  # no ">" left: nothing further can close
        if _CONSTRUCT_START.match(text, start + 1, close):
            out += (text[done:start], _inert_token(text[start + 1 : close]))
            done = close + 1
            start = text.find("<", done)
        else:
            start = text.find("<", start + 1)
    out.append(text[done:])
    return "".join(out)


def _inert_token(body: str) -> str:
    target, _, label = body.partition("|")
    target, label = target.strip(), label.strip()
    if target.startswith("!"):
        shown = _inert_special(target[1:], label)
    elif target.startswith("@"):
        shown = f"@{_ZWJ}{label.lstrip('@').strip() or target[1:]}"
    elif target.startswith("#"):
        shown = f"#{label.lstrip('#').strip() or target[1:]}"
    elif label and label != target:
        shown = f"{label} ({target})"
    else:
        shown = target
    return shown.replace("<", _INERT_LT)


def _inert_special(body: str, label: str) -> str:
    match = _SPECIAL_KIND.match(body)
    kind = match.group(0).lower() if match else ""
    if kind in _BROADCASTS:
        return f"@{_ZWJ}{kind}"
    if kind == "subteam":
        return f"@{_ZWJ}{label.lstrip('@').strip() or 'group'}"
    return label or kind  # <!date^…|Jan 1> reads "Jan 1"


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def echo_text(text: str) -> str:
    """User-supplied text quoted back in a message (mrkdwn): control and bidi-override
    characters removed, Slack constructs made inert, and escaped."""
    return escape(neutralise_mentions(strip_unsafe_chars(text)))


def strip_unsafe_chars(text: str) -> str:
    """Without control characters (tab and newline stay) and bidi marks or overrides."""
    return _UNSAFE_CHARS.sub("", text)


def sanitize_markdown(text: str) -> str:
    """Standard Markdown for `chat.*Stream`: Slack constructs made inert, and a "<" that nothing
    closes in this piece escaped, so a ">" in a later piece can never complete a mention."""
    text = neutralise_mentions(text)
    last_close = text.rfind(">")
    head, tail = text[: last_close + 1], text[last_close + 1 :]
    return head + tail.replace("<", "&lt;")


def to_mrkdwn(markdown: str) -> str:
    """Convert model Markdown to mrkdwn. Code keeps its content; only links we build are live."""
    parts = _FENCE.split(neutralise_mentions(markdown.replace("\x00", "")))
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2 == 1:  # a fenced code block
            out.append(_convert_fence(part))
        else:
            out.append(_convert_prose(part))
    return "".join(out)


def _convert_fence(block: str) -> str:
    body = block[3:]
    body = body.removesuffix("```")
    first_newline = body.find("\n")
    # Slack has no language hints: drop "python" from "```python".
    if first_newline != -1 and re.fullmatch(r"[\w+-]*", body[:first_newline].strip()):
        body = body[first_newline + 1 :]
    return "```" + escape(body.rstrip("\n")) + "```"


def _convert_prose(text: str) -> str:
    pieces = _INLINE_CODE.split(text)
    return "".join(
        escape(piece) if index % 2 == 1 else _convert_inline(piece)
        for index, piece in enumerate(pieces)
    )


def _convert_inline(text: str) -> str:
    held: list[str] = []

    def hold(value: str) -> str:
        held.append(value)
        return _HOLD.format(len(held) - 1)

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if not url.lower().startswith(_SAFE_SCHEMES):
            return hold(escape(label))
        safe_url = escape(url).replace("|", "%7C")
        safe_label = escape(label).replace("|", "¦")
        return hold(f"<{safe_url}|{safe_label}>")

    text = _LINK.sub(link, text)
    text = escape(text)
    text = _HEADING.sub(lambda m: hold(f"*{_strip_emphasis(m.group(1))}*"), text)
    text = _BOLD.sub(lambda m: hold(f"*{m.group(2)}*"), text)
    text = _ITALIC.sub(lambda m: f"_{m.group(1)}_", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    # Restore innermost-last: a held heading may itself contain held links.
    while "\x00" in text:
        text = re.sub(r"\x00(\d+)\x00", lambda m: held[int(m.group(1))], text)
    return text


def _strip_emphasis(text: str) -> str:
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
