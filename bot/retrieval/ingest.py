"""Read the knowledge folder into cleaned Documents; every unusable file becomes a SkippedFile."""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from bot.errors import UnreadableFileError, UserFacingError
from bot.models import Document, Frozen
from bot.retrieval import markdown
from bot.retrieval.boilerplate import strip_boilerplate_lines
from bot.retrieval.chunking import chunk_document
from bot.retrieval.decoding import decode, pdf_text, read_bytes
from bot.retrieval.frontmatter import split_front_matter
from bot.retrieval.plaintext import mark_headings
from bot.retrieval.text_repair import repair_text
from bot.retrieval.webpage import html_to_markdown
from bot.retrieval.word import docx_to_markdown

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"})
# Control files that live next to the documents: the checklist and two test sets (questions for
# retrieval, situations for the situation readers). Never indexed, never reported as skipped.
RESERVED_FILES = frozenset({"checklist.yaml", "questions.yaml", "situations.yaml"})


class SkippedFile(Frozen):
    source: str
    reason: str


class ScanResult(Frozen):
    documents: tuple[Document, ...]
    skipped: tuple[SkippedFile, ...]


def _humanise(stem: str) -> str:
    words = re.sub(r"[\s_-]+", " ", stem).strip() or stem
    return words[:1].upper() + words[1:]


def _text_value(value: object) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def _string_list(value: object, split_commas: bool) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.split(",")) if split_commas else [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return ()
    texts = (_text_value(item) for item in items)
    return tuple(dict.fromkeys(text for text in texts if text))


def read_document(path: Path, root: Path, max_bytes: int) -> Document:
    """One knowledge file as a cleaned Document; raises UnreadableFileError with a short reason."""
    if not _resolve(path).is_relative_to(_resolve(root)):
        raise UnreadableFileError("symlink points outside the knowledge folder")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(f"unsupported file type {suffix or '(no extension)'}")
    data = read_bytes(path, max_bytes)
    meta: dict[str, object] = {}
    found_title: str | None = None
    if suffix == ".pdf":
        found_title, raw = pdf_text(data)
        body = repair_text(raw)
        empty_reason = "PDF has no extractable text (scanned images?)"
    elif suffix in (".html", ".htm"):
        found_title, raw = html_to_markdown(decode(data))
        body = repair_text(raw)
        empty_reason = "HTML page has no main text"
    elif suffix == ".docx":
        found_title, raw = docx_to_markdown(data)
        body = repair_text(raw)
        empty_reason = "Word document has no text"
    else:
        meta, body = split_front_matter(repair_text(decode(data)))
        empty_reason = "no text left after removing front matter and boilerplate"
    body = strip_boilerplate_lines(body)
    meta_title = _text_value(meta.get("title"))
    if suffix in (".txt", ".pdf"):
        # Text saved from a page or a PDF keeps its headings only as short lines of their own.
        body = mark_headings(body, meta_title)
    if not body.strip():
        raise UnreadableFileError(empty_reason)
    title = meta_title or markdown.first_h1(body) or found_title or _humanise(path.stem)
    doc = Document(
        source=path.relative_to(root).as_posix(),
        title=title,
        text=body,
        url=_text_value(meta.get("url")),
        tags=_string_list(meta.get("tags"), split_commas=True),
        sources=_string_list(meta.get("sources"), split_commas=False),
    )
    # Headings and rules alone give nothing to retrieve; say so now rather than index nothing.
    if not chunk_document(doc):
        raise UnreadableFileError("no text besides headings")
    return doc


def _resolve(path: Path) -> Path:
    """path.resolve() with symlink loops as OSError on every Python (3.11 raises RuntimeError)."""
    try:
        return path.resolve()
    except RuntimeError as exc:
        raise OSError(errno.ELOOP, "symlink loop") from exc


def _path_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read: {exc.strerror or type(exc).__name__}"


def _classify(
    entry: os.DirEntry[str], root: Path, real_root: Path
) -> tuple[Literal["folder", "file"], Path] | SkippedFile | None:
    """What to do with one folder entry: a folder to enter, a file to read, a skip, or nothing."""
    path = Path(entry.path)
    source = path.relative_to(root).as_posix()
    if entry.name.startswith(".") or entry.name in RESERVED_FILES:
        return None
    if entry.is_symlink():
        if not _resolve(path).is_relative_to(real_root):
            return SkippedFile(source=source, reason="symlink points outside the knowledge folder")
        if path.is_dir():  # following links inside the tree would index files twice or loop
            return SkippedFile(source=source, reason="symlinked folder not followed")
    if entry.is_dir(follow_symlinks=False):
        return "folder", path
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        reason = f"unsupported file type {path.suffix.lower() or '(no extension)'}"
        return SkippedFile(source=source, reason=reason)
    if not entry.is_file():  # a FIFO would block the read forever; a dangling link has no file
        return SkippedFile(source=source, reason="not a regular file (or a broken symlink)")
    return "file", path


def _walk(directory: Path, root: Path, real_root: Path) -> Iterator[Path | SkippedFile]:
    """Candidate files in sorted order; hidden and reserved files are passed over silently.

    Every problem with one path (a symlink loop, a permission error, a file that vanished) is a
    skip with its reason: one bad entry never stops the scan of the rest.
    """
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        source = directory.relative_to(root).as_posix()
        yield SkippedFile(source=source, reason=f"cannot read folder: {_path_problem(exc)}")
        return
    for entry in entries:
        try:
            item = _classify(entry, root, real_root)
        except OSError as exc:
            source = Path(entry.path).relative_to(root).as_posix()
            yield SkippedFile(source=source, reason=_path_problem(exc))
            continue
        if isinstance(item, SkippedFile):
            yield item
        elif item is not None and item[0] == "folder":
            yield from _walk(item[1], root, real_root)
        elif item is not None:
            yield item[1]


def scan_folder(root: Path, max_bytes: int = 5_000_000) -> ScanResult:
    """Every supported file under root as a Document, or as a SkippedFile saying why not."""
    if not root.exists():
        raise UserFacingError(f"The knowledge folder {root} does not exist.")
    if not root.is_dir():
        raise UserFacingError(f"The knowledge folder {root} is not a folder.")
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    try:
        real_root = _resolve(root)
    except OSError as exc:
        message = f"The knowledge folder {root} cannot be read: {_path_problem(exc)}."
        raise UserFacingError(message) from None
    for item in _walk(root, root, real_root):
        if isinstance(item, SkippedFile):
            skipped.append(item)
            continue
        source = item.relative_to(root).as_posix()
        try:
            documents.append(read_document(item, root, max_bytes))
        except UnreadableFileError as exc:
            skipped.append(SkippedFile(source=source, reason=exc.reason))
        except OSError as exc:
            skipped.append(SkippedFile(source=source, reason=_path_problem(exc)))
        # One odd file must not stop a reindex of the whole folder.
        except Exception:
            logger.exception("unexpected error while reading %s", source)
            skipped.append(SkippedFile(source=source, reason="unexpected error while reading"))
    return ScanResult(documents=tuple(documents), skipped=tuple(skipped))
