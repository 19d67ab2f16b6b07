"""Pure text repair: mojibake, invisible characters, odd line breaks and spaces."""

from __future__ import annotations

import re
import unicodedata

import ftfy

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
