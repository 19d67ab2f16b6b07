"""Hostile knowledge files the property tests in tests/ingest do not generate: huge files, very
deep HTML, YAML bombs and broken front matter, UTF-16/Latin-1/invalid encodings, fake PDFs. Every
file is indexed or skipped with a reason, and one scan never dies."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.retrieval.chunking import chunk_document
from bot.retrieval.ingest import scan_folder

MAX_BYTES = 200_000
BOUNDED = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

HOSTILE: dict[str, bytes] = {
    "huge.md": b"# Huge\n" + b"word " * (MAX_BYTES // 4),
    "deep.html": b"<html><body>" + b"<div>" * 50_000 + b"deep text" + b"</div>" * 50_000,
    "unclosed.html": b"<html><body>" + b"<div><p><span>" * 20_000 + b"text",
    "yaml-bomb.md": (
        b"---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"title: *d\n---\n# Body\nReal text about LoRA adapters.\n"
    ),
    "unclosed-front-matter.md": b"---\ntitle: [never closed\ntags: {\n# Heading\nSome text.\n",
    "front-matter-only.md": b"---\ntitle: Only front matter\n---\n",
    "front-matter-wrong-types.md": b"---\ntitle: 42\ntags: 7\nsources: {a: b}\n---\nText here.\n",
    "python-tag.md": b"---\ntitle: !!python/object/apply:os.system ['true']\n---\nBody text.\n",
    "utf16.txt": "UTF-16 text about fine-tuning and retrieval.".encode("utf-16"),
    "latin1.txt": "Café résumé: naïve fine-tuning costs £5".encode("latin-1"),
    "invalid-utf8.md": b"# Title\n\xc3\x28 \xa0\xa1 broken \xf0\x28\x8c\x28 sequences\n",
    "nul-bytes.md": b"# Title\n" + b"\x00" * 5_000,
    "fake.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ntrailer garbage",
    "empty.md": b"",
    "whitespace.txt": b" \n\t\n " * 100,
    "bom-only.md": b"\xef\xbb\xbf",
}


def scan(files: dict[str, bytes]) -> tuple[int, int, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, content in files.items():
            (root / name).write_bytes(content)
        result = scan_folder(root, max_bytes=MAX_BYTES)
        for doc in result.documents:
            assert doc.title.strip()
            assert all(len(c.text) <= 1200 for c in chunk_document(doc, 1200))
        assert all(item.reason.strip() for item in result.skipped)
        return len(result.documents), len(result.skipped), [s.reason for s in result.skipped]


def test_every_hostile_file_is_indexed_or_skipped_with_a_reason() -> None:
    documents, skipped, reasons = scan(HOSTILE)
    assert documents + skipped == len(HOSTILE)
    assert any("large" in reason for reason in reasons)  # huge.md names its size problem


@BOUNDED
@given(
    depth=st.integers(min_value=1, max_value=3000),
    tag=st.sampled_from(["div", "section", "ul><li", "table><tr><td", "b", "script"]),
    close=st.booleans(),
    front=st.sampled_from(["", "---\n", "---\ntitle: x\n", "---\n: : :\n---\n", "---\n- a\n---\n"]),
)
def test_nested_html_and_broken_front_matter_never_kill_the_scan(
    depth: int, tag: str, close: bool, front: str
) -> None:
    opening = f"<{tag}>" * depth
    closing = "".join(f"</{t}>" for t in reversed(tag.split("><"))) * depth if close else ""
    html = f"<html><body>{opening}Retrieval keeps facts fresh.{closing}</body></html>"
    files = {"nested.html": html.encode(), "front.md": f"{front}# T\nText.\n".encode()}
    documents, skipped, _ = scan(files)
    assert documents + skipped == 2
