"""Property tests: no file content makes ingestion raise, and chunks always respect max_chars."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import UnreadableFileError
from bot.models import Document
from bot.retrieval.boilerplate import strip_boilerplate_lines
from bot.retrieval.chunking import chunk_document
from bot.retrieval.frontmatter import split_front_matter
from bot.retrieval.ingest import SUPPORTED_SUFFIXES, read_document, scan_folder
from bot.retrieval.text_repair import repair_text
from bot.retrieval.webpage import html_to_markdown

# database=None: tests must not write a .hypothesis folder into a checkout shared with others.
BOUNDED = settings(
    max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
SUFFIXES = sorted(SUPPORTED_SUFFIXES)

# Text with the shapes that matter: Markdown structure, boilerplate, mojibake, YAML, HTML.
FRAGMENTS = st.sampled_from(
    [
        "\n", "\n\n", "# ", "## ", "---\n", "===\n", "```\n", "- ", "title: x\n", "<p>", "</p>",
        "<nav>", "<main>", "<h2>", "Skip to main content\n", "Related articles\n", "â€œ", "â€",
        "ðŸ“", "\x00", "\ufeff", "\r\n", " ", "word ", "Sentence. ", "x" * 300,
    ]
)  # fmt: skip
TEXTS = st.lists(st.one_of(FRAGMENTS, st.text(max_size=40)), max_size=30).map("".join)


def _bytes_for(content: bytes | str) -> bytes:
    return content.encode("utf-8", errors="surrogatepass") if isinstance(content, str) else content


@BOUNDED
@given(
    files=st.lists(
        st.tuples(st.sampled_from(SUFFIXES), st.one_of(st.binary(max_size=2_000), TEXTS)),
        min_size=1,
        max_size=4,
    ),
    max_chars=st.integers(min_value=20, max_value=400),
)
def test_scan_folder_never_raises_and_chunks_fit(
    files: list[tuple[str, bytes | str]], max_chars: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for n, (suffix, content) in enumerate(files):
            (root / f"f{n}{suffix}").write_bytes(_bytes_for(content))
        result = scan_folder(root, max_bytes=1_500)
        assert len(result.documents) + len(result.skipped) == len(files)
        assert all(item.reason for item in result.skipped)
        for doc in result.documents:
            assert doc.title.strip()
            assert doc.text.strip()
            chunks = chunk_document(doc, max_chars)
            assert chunks, doc
            # No tolerance needed: max_chars bounds the chunk text alone, title and headings
            # travel as separate fields.
            assert all(0 < len(c.text) <= max_chars and c.text.strip() for c in chunks)
            assert [c.position for c in chunks] == list(range(len(chunks)))


@BOUNDED
@given(suffix=st.sampled_from(SUFFIXES), content=st.one_of(st.binary(max_size=2_000), TEXTS))
def test_read_document_raises_only_unreadable_file_error(suffix: str, content: bytes | str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / f"doc{suffix}"
        path.write_bytes(_bytes_for(content))
        reason = None
        try:
            read_document(path, root, 10_000)
        except UnreadableFileError as exc:
            reason = exc.reason
        assert reason is None or reason.strip()


@BOUNDED
@given(text=TEXTS)
def test_pure_cleaners_never_raise(text: str) -> None:
    repaired = repair_text(text)
    assert "\n\n\n" not in repaired
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in repaired)
    strip_boilerplate_lines(text)
    split_front_matter(text)
    title, markdown = html_to_markdown(text)
    assert title is None or title.strip()
    assert isinstance(markdown, str)


@BOUNDED
@given(text=TEXTS, title=st.text(min_size=1, max_size=20), max_chars=st.integers(1, 300))
def test_chunking_any_text_gives_bounded_non_empty_chunks(
    text: str, title: str, max_chars: int
) -> None:
    doc = Document(source="x.md", title=title, text=text)
    chunks = chunk_document(doc, max_chars)
    assert all(0 < len(c.text) <= max_chars and c.text == c.text.strip() for c in chunks)
    assert chunk_document(doc, max_chars) == chunks
