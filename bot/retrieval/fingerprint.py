"""A digest of everything a build is made from, so a run with nothing to do ends after reading
file bytes: no parsing, no chunking, no model, no engine write.

It covers every file under the knowledge folder (any file, not only the ones ingest reads: a
false "changed" only costs a normal diff, a false "unchanged" would hide an edit), the chunking
settings, the embedder, and the source of the code that turns files into chunks and vectors, so
an upgrade that chunks differently is never mistaken for "nothing changed".
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

_PIPELINE = ("ingest", "clean", "chunking", "frontmatter", "sparse", "represent")


def folder_fingerprint(
    folder: Path, *, chunk_chars: int, max_file_bytes: int, embedder: str
) -> str:
    digest = hashlib.sha256(json.dumps([chunk_chars, max_file_bytes, embedder]).encode())
    here = Path(__file__).parent
    for module in _PIPELINE:
        source = here / f"{module}.py"
        if source.is_file():
            digest.update(hashlib.sha256(source.read_bytes()).digest())
    if not folder.is_dir():
        return digest.hexdigest() + "-missing"
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        if stat.st_size > max_file_bytes:
            # Skipped by ingest for its size: its size and time are enough to notice a change.
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
