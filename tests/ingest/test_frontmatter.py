"""Table tests for YAML front matter splitting."""

from __future__ import annotations

import datetime

import pytest

from bot.retrieval.frontmatter import split_front_matter


@pytest.mark.parametrize(
    ("text", "meta", "body"),
    [
        pytest.param(
            "---\ntitle: Guide\ntags: [a, b]\n---\n\n# Guide\n",
            {"title": "Guide", "tags": ["a", "b"]},
            "# Guide\n",
            id="good",
        ),
        pytest.param(
            "\ufeff---\r\ntitle: BOM and CRLF\r\n---\r\nBody",
            {"title": "BOM and CRLF"},
            "Body",
            id="bom-crlf",
        ),
        pytest.param(
            "---\ndate: 2025-03-14\n...\nBody",
            {"date": datetime.date(2025, 3, 14)},
            "Body",
            id="dots-closer",
        ),
        pytest.param("---\n1: one\n---\nBody", {"1": "one"}, "Body", id="non-string-key"),
        pytest.param("---\n---\nBody", {}, "Body", id="empty-block"),
        pytest.param("# No front matter\n\nBody", {}, "# No front matter\n\nBody", id="missing"),
        pytest.param(
            "Body\n---\ntitle: late\n---\n", {}, "Body\n---\ntitle: late\n---\n", id="late"
        ),
        pytest.param("---\ntitle: never closed\n", {}, "---\ntitle: never closed\n", id="unclosed"),
        # Broken YAML that was clearly meant as metadata: drop it rather than index it as prose.
        pytest.param("---\ntitle: x\ntags: [a, b\n---\nBody", {}, "Body", id="broken-keys"),
        pytest.param("---\ndate: 2024-13-45\n---\nBody", {}, "Body", id="impossible-date"),
        # A horizontal rule, a paragraph, another rule: content, kept whole.
        pytest.param(
            "---\nJust a paragraph.\n---\nMore",
            {},
            "---\nJust a paragraph.\n---\nMore",
            id="scalar",
        ),
        pytest.param("---\n- a\n- b\n---\nMore", {}, "---\n- a\n- b\n---\nMore", id="list"),
        pytest.param(
            "---\n: : [unbalanced\n---\nMore", {}, "---\n: : [unbalanced\n---\nMore", id="garbage"
        ),
        # PyYAML recurses per nesting level: RecursionError, which must not escape either.
        pytest.param("---\n" + "[" * 500 + "]" * 500 + "\n---\nBody", {}, None, id="deep-nesting"),
    ],
)
def test_split_front_matter(text: str, meta: dict[str, object], body: str | None) -> None:
    got_meta, got_body = split_front_matter(text)
    assert got_meta == meta
    if body is not None:
        assert got_body == body
