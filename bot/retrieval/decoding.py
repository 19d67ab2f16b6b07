"""Bytes to text: file reading with a size limit, text decoding, PDF text extraction.

Every failure is an UnreadableFileError with a short reason that the scan reports as a skip.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from pathlib import Path

from pypdf import PdfReader

from bot.errors import UnreadableFileError

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAX_NON_TEXT = 0.05  # share of control/unassigned characters above which a file is not text


def _looks_like_text(text: str) -> bool:
    odd = sum(
        1 for ch in text if ch not in "\n\r\t\f" and unicodedata.category(ch) in ("Cc", "Co", "Cn")
    )
    return odd <= len(text) * _MAX_NON_TEXT


def decode(data: bytes) -> str:
    """Bytes to text: BOM-marked Unicode, UTF-8, then Windows-1252/Latin-1 if that reads as text."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                label = codec.removesuffix("-sig").upper()
                reason = f"not valid {label} text despite its byte order mark"
                raise UnreadableFileError(reason) from exc
            break
    else:
        if b"\x00" in data:
            raise UnreadableFileError("binary file (contains NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Mixed files (mostly UTF-8, a few stray bytes) come out as mojibake here, which
            # repair_text's ftfy pass turns back into the intended characters.
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    if not _looks_like_text(text):
        raise UnreadableFileError("binary or undecodable file (not UTF-8, UTF-16 or Latin-1 text)")
    return text


def pdf_text(data: bytes) -> tuple[str | None, str]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFileError("PDF is password-protected")
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
        title = reader.metadata.title if reader.metadata is not None else None
    except UnreadableFileError:
        raise
    # pypdf raises many exception types for damaged files; any of them means "cannot read".
    except Exception as exc:
        raise UnreadableFileError(
            "PDF could not be read (damaged, encrypted or not a PDF)"
        ) from exc
    # Producers put file names such as "Microsoft Word - draft.docx" in the title field.
    usable = isinstance(title, str) and title.strip() and not re.search(r"\.\w{2,4}$", title)
    return (title.strip() if usable and isinstance(title, str) else None), text


def read_bytes(path: Path, max_bytes: int) -> bytes:
    data = b""
    try:
        size = path.stat().st_size
        if size <= max_bytes:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)  # the file may have grown since stat()
            size = len(data)
    except OSError as exc:
        raise UnreadableFileError(
            f"cannot read file: {exc.strerror or type(exc).__name__}"
        ) from exc
    if size > max_bytes:
        raise UnreadableFileError(f"file is too large ({_size(size, max_bytes)})")
    if not data.strip():
        raise UnreadableFileError("empty file" if not data else "empty file (only whitespace)")
    return data


def _size(size: int, limit: int) -> str:
    mb = f"{size / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB"
    exact = f"{size:,} bytes; the limit is {limit:,} bytes"
    return exact if f"{size / 1e6:.1f}" == f"{limit / 1e6:.1f}" else mb
