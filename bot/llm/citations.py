"""[n] markers in generated text that name no passage are removed as the text streams.

A model given four passages sometimes cites [7]. The marker is dropped before anyone sees it
(an invented citation is worse than none), and counted so the rate is visible. Markers are
held back while they are still being written ("[", "[4") so a split across two deltas is
judged whole.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_MARKER = re.compile(r"[ \t]?\[(\d{1,3})\]")
_UNFINISHED = re.compile(r"[ \t]?\[\d{0,3}$|[ \t]$")


class CitationGuard:
    def __init__(self, available: int) -> None:
        self._available = available
        self._held = ""
        self.invented: list[int] = []

    def feed(self, delta: str) -> str:
        """The part of `delta` that is safe to show now (may be empty)."""
        text = self._held + delta
        unfinished = _UNFINISHED.search(text)
        if unfinished:
            self._held, text = text[unfinished.start() :], text[: unfinished.start()]
        else:
            self._held = ""
        return self._clean(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._clean(text)

    def _clean(self, text: str) -> str:
        def check(match: re.Match[str]) -> str:
            number = int(match.group(1))
            if 1 <= number <= self._available:
                return match.group(0)
            self.invented.append(number)
            logger.warning(
                "removed citation [%d] from a generated answer: only %d passages were given",
                number,
                self._available,
            )
            return ""

        return _MARKER.sub(check, text)
