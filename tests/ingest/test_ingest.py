"""scan_folder over a messy knowledge folder: every file is a Document or a SkippedFile."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfWriter

from bot.errors import UnreadableFileError, UserFacingError
from bot.retrieval.chunking import chunk_document
from bot.retrieval.ingest import ScanResult, SkippedFile, read_document, scan_folder

MESSY = Path(__file__).parent / "fixtures" / "messy"


def make_pdf(text: str, title: str | None = None) -> bytes:
    """A minimal one-page PDF with real text, built by hand so the test needs no PDF writer."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    info = f"<< /Title ({title}) >>" if title else "<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info.encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(MESSY, root)
    (root / "diagram.md").write_bytes(PNG + bytes(range(256)) * 4)
    (root / "latin1-notes.txt").write_bytes(
        "Café notes\n\nLes équipes préfèrent le prompting à l'entraînement: c'est rapide.\n".encode(
            "latin-1"
        )
    )
    (root / "utf16.md").write_bytes("# UTF-16 guide\n\nEncoded with a BOM.\n".encode("utf-16"))
    (root / "report.pdf").write_bytes(make_pdf("Fine-tuning needs a frozen eval set.", "Report"))
    (root / "scan.pdf").write_bytes(blank_pdf())
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    with zipfile.ZipFile(root / "notes.docx", "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    (root / "Makefile").write_text("all:\n")
    (root / "guides" / "huge.md").write_text("# Huge\n\n" + "x" * 6_000)
    (root / "nav-only.html").write_text("<html><body><nav>Home | Blog</nav></body></html>")
    return root


def test_scan_messy_folder(messy: Path) -> None:
    result = scan_folder(messy, max_bytes=5_000)
    documents = {doc.source: doc for doc in result.documents}
    skipped = {item.source: item.reason for item in result.skipped}

    assert sorted(documents) == [
        "broken-front-matter.md",
        "field-guide.html",
        "guides/advanced/lora.md",
        "guides/setext.md",
        "latin1-notes.txt",
        "prompting-vs-fine-tuning.txt",
        "rag-or-fine-tuning.md",
        "report.pdf",
        "utf16.md",
    ]
    assert list(documents) == sorted(documents)  # sorted walk, files before deeper folders
    assert skipped == {
        "Makefile": "unsupported file type (no extension)",
        "blank.txt": "empty file (only whitespace)",
        "corrupt.pdf": "PDF could not be read (damaged, encrypted or not a PDF)",
        "diagram.md": "binary file (contains NUL bytes)",
        "empty.md": "empty file",
        "guides/huge.md": "file is too large (6,008 bytes; the limit is 5,000 bytes)",
        "nav-only.html": "HTML page has no main text",
        "notes.docx": "Word document could not be read (damaged or not .docx)",
        "scan.pdf": "PDF has no extractable text (scanned images?)",
    }
    # Hidden files and folders and reserved control files are skipped silently.
    assert not any(".drafts" in s or ".notes" in s or "checklist" in s for s in documents | skipped)


def test_messy_documents_are_clean(messy: Path) -> None:
    docs = {doc.source: doc for doc in scan_folder(messy).documents}

    html = docs["field-guide.html"]
    assert html.title == "When to Fine-Tune a Language Model"
    assert "## Signs that prompting is enough" in html.text
    assert "- A handful of examples in the prompt fixes the output format." in html.text
    assert "Prompting | Low | Higher (long prompts)" in html.text
    assert "# keep the eval set fixed between runs" in html.text
    for noise in ("cookie", "Share on", "Related", "Leave a Reply", "Subscribe", "Popular", "©"):
        assert noise not in html.text

    txt = docs["prompting-vs-fine-tuning.txt"]
    assert txt.title == "Prompting vs Fine-Tuning: What’s the Difference?"
    assert "The model’s weights stay frozen" in txt.text
    assert "the “advanced” option — but" in txt.text
    assert "A note on cookies: the model does not remember your cookies" in txt.text
    for noise in ("Skip to", "Back to", "min read", "Share this", "Related", "Leave a", "Akismet"):
        assert noise not in txt.text

    md = docs["rag-or-fine-tuning.md"]
    assert md.title == "RAG or Fine-Tuning? A Decision Guide"
    assert md.url == "https://example.com/guides/rag-or-fine-tuning"
    assert md.tags == ("rag", "fine-tuning", "decision")
    assert md.sources == (
        "https://example.com/papers/rag-survey",
        "Internal evaluation, March 2025",
    )
    assert not md.text.startswith("---")

    broken = docs["broken-front-matter.md"]
    assert broken.text.startswith("The YAML above is broken")
    assert broken.title == "Broken front matter"

    assert docs["latin1-notes.txt"].title == "Café notes"
    assert "préfèrent le prompting à l'entraînement" in docs["latin1-notes.txt"].text
    assert docs["utf16.md"].title == "UTF-16 guide"
    assert docs["guides/setext.md"].title == "Setext Title"
    assert docs["report.pdf"].title == "Report"
    assert "frozen eval set" in docs["report.pdf"].text

    for doc in docs.values():
        chunks = chunk_document(doc, 300)
        assert chunks, doc.source
        assert all(0 < len(chunk.text) <= 300 for chunk in chunks)


@pytest.mark.parametrize(
    ("name", "content", "title", "tags"),
    [
        ("my_first-note.md", "Just text.", "My first note", ()),
        ("a.md", "---\ntitle: 42\ntags: 'x, y ,x,'\n---\nBody", "42", ("x", "y")),
        ("b.md", "---\ntags: [1, true, null]\nurl: [bad]\n---\nBody", "B", ("1",)),
        ("c.txt", "Short Title\nBody line after it.", "Short Title", ()),
        ("d.txt", "A sentence that ends with a period.\nMore.", "D", ()),
        ("e.txt", "Only one line", "E", ()),
    ],
)
def test_titles_and_metadata(
    tmp_path: Path, name: str, content: str, title: str, tags: tuple[str, ...]
) -> None:
    (tmp_path / name).write_text(content)
    doc = read_document(tmp_path / name, tmp_path, 10_000)
    assert (doc.title, doc.tags, doc.url) == (title, tags, None)


def test_symlinks(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nDo not index.")
    (root / "real.md").write_text("# Real\n\nIndexed once.")
    (root / "leak.md").symlink_to(outside / "secret.md")
    (root / "leakdir").symlink_to(outside)
    (root / "alias.md").symlink_to(root / "real.md")
    (root / "loop").symlink_to(root)
    (root / "dangling.md").symlink_to(root / "missing.md")

    result = scan_folder(root)
    assert [doc.source for doc in result.documents] == ["alias.md", "real.md"]
    assert {s.source: s.reason for s in result.skipped} == {
        "dangling.md": "not a regular file (or a broken symlink)",
        "leak.md": "symlink points outside the knowledge folder",
        "leakdir": "symlink points outside the knowledge folder",
        "loop": "symlinked folder not followed",
    }
    with pytest.raises(UnreadableFileError, match="outside"):
        read_document(root / "leak.md", root, 1000)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    assert scan_folder(tmp_path).skipped == (
        SkippedFile(source="pipe.md", reason="not a regular file (or a broken symlink)"),
    )


def test_missing_or_non_folder_root(tmp_path: Path) -> None:
    with pytest.raises(UserFacingError, match="does not exist"):
        scan_folder(tmp_path / "nope")
    (tmp_path / "file.md").write_text("x")
    with pytest.raises(UserFacingError, match="is not a folder"):
        scan_folder(tmp_path / "file.md")


def test_empty_folder(tmp_path: Path) -> None:
    assert scan_folder(tmp_path) == ScanResult(documents=(), skipped=())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe" + b"\x00\xd8", "not valid UTF-16 text despite its byte order mark"),
        (bytes(range(1, 32)) * 20, "binary or undecodable file"),
        (b"\x81\x8d\x8f\x90\x9d" * 50, "binary or undecodable file"),
        (b"---\ntitle: Only metadata\n---\n", "no text left"),
        (b"Skip to main content\nShare this article\n", "no text left"),
        (b"# Only a title\n\n---\n\n## And a heading\n", "no text besides headings"),
    ],
)
def test_unreadable_text(tmp_path: Path, data: bytes, reason: str) -> None:
    (tmp_path / "bad.md").write_bytes(data)
    with pytest.raises(UnreadableFileError) as caught:
        read_document(tmp_path / "bad.md", tmp_path, 10_000)
    assert caught.value.reason.startswith(reason)


def test_too_large_reason_names_size_and_limit(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"a" * 7_300_000)
    (skipped,) = scan_folder(tmp_path).skipped
    assert skipped.reason == "file is too large (7.3 MB; the limit is 5.0 MB)"
