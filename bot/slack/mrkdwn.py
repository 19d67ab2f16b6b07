"""Model output (Markdown) -> Slack text, with broadcast mentions neutralised.

Two targets: `to_mrkdwn` for `text`/section fields (Slack's own mrkdwn dialect) and
`sanitize_markdown` for the streaming API, whose `markdown_text` is standard Markdown and would
render mrkdwn's `*bold*` as italics. Both pure, both table-tested.
"""

from __future__ import annotations

import re

# A zero-width joiner after "@" keeps the word readable but stops Slack from notifying anyone.
_ZWJ = "\u200d"

_BROADCAST_TOKEN = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>", re.IGNORECASE)
_SUBTEAM_TOKEN = re.compile(r"<!subteam\^[A-Za-z0-9]+(?:\|@?([^>]*))?>")
_OTHER_SPECIAL = re.compile(r"<!([a-z_]+)(?:\^[^>|]*)?(?:\|([^>]*))?>", re.IGNORECASE)
_PLAIN_BROADCAST = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)

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
    """Turn every broadcast or group mention into inert text."""
    text = _BROADCAST_TOKEN.sub(lambda m: f"@{_ZWJ}{m.group(1).lower()}", text)
    text = _SUBTEAM_TOKEN.sub(lambda m: f"@{_ZWJ}{(m.group(1) or 'group').strip()}", text)
    text = _OTHER_SPECIAL.sub(lambda m: m.group(2) or m.group(1), text)
    return _PLAIN_BROADCAST.sub(lambda m: f"@{_ZWJ}{m.group(1)}", text)


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sanitize_markdown(text: str) -> str:
    """Standard Markdown for `chat.*Stream`: only the mentions need neutralising."""
    return neutralise_mentions(text)


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
