"""Pure YAML front matter parsing for Markdown and text knowledge files."""

from __future__ import annotations

import re

import yaml

_OPENING = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
# The first line of a block meant as metadata: "title: ...", "tags:", "source-url: ...".
_KEY_LINE = re.compile(r"^\s*[A-Za-z_][\w-]*\s*:")


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Split a leading `---` ... `---` YAML block from the body. Never raises.

    - A YAML mapping: (mapping with string keys, body after the block).
    - No opening `---`, or no closing `---`/`...`: ({}, text unchanged).
    - Empty block: ({}, body).
    - Broken YAML whose first line looks like `key: value`: ({}, body). The author meant
      metadata, and indexing half-parsed YAML as prose would only pollute search results.
    - Anything else (a scalar or list, or broken YAML that does not look like keys): ({}, text
      unchanged). A Markdown file may open with a horizontal rule and a paragraph between two
      `---` lines; that is content, not metadata.
    """
    opening = _OPENING.match(text)
    if opening is None:
        return {}, text
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        return {}, text
    block = text[opening.end() : closing.start()]
    body = text[closing.end() :].lstrip("\r\n")
    if not block.strip():
        return {}, body
    try:
        data = yaml.safe_load(block)
    # Untrusted input: PyYAML raises YAMLError, but also ValueError for dates such as
    # 2024-13-45 and RecursionError for deeply nested flow collections.
    except Exception:
        first_line = next((line for line in block.splitlines() if line.strip()), "")
        return ({}, body) if _KEY_LINE.match(first_line) else ({}, text)
    if isinstance(data, dict):
        return {str(key): value for key, value in data.items()}, body
    return {}, text
