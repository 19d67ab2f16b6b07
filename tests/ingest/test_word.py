"""Word documents: headings from paragraph styles, lists and tables kept, damaged files skipped."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from bot.errors import UnreadableFileError
from bot.retrieval.chunking import chunk_document
from bot.retrieval.ingest import scan_folder
from bot.retrieval.word import docx_to_markdown


def make_docx(title: str | None = "Adapter guide") -> bytes:
    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.add_paragraph("Adapter guide", style="Title")
    document.add_paragraph("Choosing a rank", style="Heading 1")
    document.add_paragraph("Start at rank 8 and raise it only when the held-out score says so.")
    document.add_paragraph("Memory", style="Heading 2")
    document.add_paragraph("A rank-16 adapter on a 7B model is about 40 MB.")
    document.add_paragraph("fits on one GPU", style="List Bullet")
    document.add_paragraph("swapped per request", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Rank", (0, 1): "Size", (1, 0): "16", (1, 1): "40 MB"}.items():
        table.cell(row, col).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_styles_become_markdown() -> None:
    title, text = docx_to_markdown(make_docx())
    assert title == "Adapter guide"
    assert text == (
        "# Adapter guide\n\n## Choosing a rank\n\n"
        "Start at rank 8 and raise it only when the held-out score says so.\n\n"
        "### Memory\n\nA rank-16 adapter on a 7B model is about 40 MB.\n\n"
        "- fits on one GPU\n- swapped per request\n\n"
        "| Rank | Size |\n|---|---|\n| 16 | 40 MB |"
    )


def test_scanned_docx_chunks_carry_heading_paths(tmp_path: Path) -> None:
    (tmp_path / "guide.docx").write_bytes(make_docx(title=None))
    result = scan_folder(tmp_path)
    assert result.skipped == ()
    (doc,) = result.documents
    assert doc.title == "Adapter guide"  # from the Title-styled paragraph
    chunks = chunk_document(doc)
    assert [c.headings for c in chunks] == [("Choosing a rank",), ("Choosing a rank", "Memory")]
    assert "| 16 | 40 MB |" in chunks[1].text


@pytest.mark.parametrize("data", [b"PK\x03\x04 not a zip", b"plain text", b""])
def test_damaged_docx_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match="Word document could not be read"):
        docx_to_markdown(data)
