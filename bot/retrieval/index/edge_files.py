"""The files of the embedded index, apart from the shards themselves.

    <root>/current.json          {"live": version, "previous": version | null}, replaced atomically
    <root>/pointer.lock          flock held while current.json is read, changed and replaced
    <root>/builds/<v>.lock       flock held by the process writing build <v>, for the build's life
    <root>/builds/<v>/build.json what the build is (embedder, counts, state, quality)
    <root>/builds/<v>/points.json, vectors.npy   ids, sources, hashes and dense vectors, written
                                 when the build is finished, so another process can diff against
                                 it and reuse its vectors without opening its shard
    <root>/builds/<v>/shard/     the Qdrant Edge shard

No Qdrant import here: status and a no-op reindex read these files only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from bot.models import Frozen
from bot.retrieval.index.port import IndexInfo, StoredPoint

POINTER = "current.json"
BUILDS = "builds"


class Pointer(Frozen):
    live: str | None = None
    previous: str | None = None


def write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never a part: write aside, fsync, rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class IndexFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.builds_dir = root / BUILDS
        self.pointer_path = root / POINTER

    def ensure(self) -> None:
        self.builds_dir.mkdir(parents=True, exist_ok=True)

    # -- the pointer ---------------------------------------------------------------------
    def read_pointer(self) -> Pointer:
        try:
            return Pointer.model_validate_json(self.pointer_path.read_bytes())
        except FileNotFoundError:
            return Pointer()

    def write_pointer(self, pointer: Pointer) -> None:
        write_atomically(self.pointer_path, pointer.model_dump_json())

    def pointer_stamp(self) -> tuple[int, int] | None:
        """Changes whenever current.json is replaced (a new inode), cheap enough per query."""
        try:
            stat = self.pointer_path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    @contextlib.contextmanager
    def pointer_lock(self) -> Iterator[None]:
        self.ensure()
        with (self.root / "pointer.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- builds --------------------------------------------------------------------------
    def build_dir(self, version: str) -> Path:
        return self.builds_dir / version

    def shard_dir(self, version: str) -> Path:
        return self.build_dir(version) / "shard"

    def versions(self) -> list[str]:
        """Build directories, oldest first (versions sort by their timestamp)."""
        if not self.builds_dir.is_dir():
            return []
        return sorted(p.name for p in self.builds_dir.iterdir() if p.is_dir())

    def read_info(self, version: str) -> IndexInfo | None:
        try:
            raw = json.loads((self.build_dir(version) / "build.json").read_bytes())
            return IndexInfo.model_validate({**raw, "build": version})
        except (FileNotFoundError, NotADirectoryError, ValueError, ValidationError):
            return None

    def write_info(self, info: IndexInfo) -> None:
        body = info.model_dump(mode="json", exclude={"build"})
        write_atomically(self.build_dir(info.build) / "build.json", json.dumps(body))

    def write_points(self, version: str, points: list[StoredPoint], vectors: Any) -> None:
        import numpy as np

        directory = self.build_dir(version)
        body = {
            "ids": [p.point_id for p in points],
            "sources": [p.source for p in points],
            "hashes": [p.content_hash for p in points],
        }
        write_atomically(directory / "points.json", json.dumps(body))
        matrix = np.asarray(vectors, dtype=np.float32)
        if len(matrix):
            # Unit length, as the cosine shard stores them: one answer whoever reads them.
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        with (directory / "vectors.npy").open("wb") as handle:
            np.save(handle, matrix)
            handle.flush()
            os.fsync(handle.fileno())

    def read_points(self, version: str) -> list[StoredPoint]:
        try:
            raw = json.loads((self.build_dir(version) / "points.json").read_bytes())
        except FileNotFoundError:
            return []
        return [
            StoredPoint(point_id=i, source=s, content_hash=h)
            for i, s, h in zip(raw["ids"], raw["sources"], raw["hashes"], strict=True)
        ]

    def read_vectors(self, version: str) -> Any:
        import numpy as np

        return np.load(self.build_dir(version) / "vectors.npy")

    # -- who is writing what -------------------------------------------------------------
    def lock_path(self, version: str) -> Path:
        return self.builds_dir / f"{version}.lock"

    def take_writer_lock(self, version: str, *, wait: bool) -> IO[str] | None:
        """The build's writer lock, or None when another holder has it (wait=False).

        Taken before the build directory exists and held until it is published or dropped;
        the OS releases it if the process dies. After locking, the file must still be the one
        at the path: a cleanup may have unlinked it between our open and our flock.
        """
        self.ensure()
        path = self.lock_path(version)
        while True:
            handle = path.open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                handle.close()
                return None
            try:
                same = os.fstat(handle.fileno()).st_ino == path.stat().st_ino
            except FileNotFoundError:
                same = False
            if same:
                return handle
            handle.close()

    def remove_build(self, version: str) -> bool:
        """Remove a build unless someone (this process included) is writing it."""
        lock = self.take_writer_lock(version, wait=False)
        if lock is None:
            return False
        try:
            shutil.rmtree(self.build_dir(version), ignore_errors=True)
            self.lock_path(version).unlink(missing_ok=True)
        finally:
            lock.close()
        return True

    def orphan_locks(self) -> list[str]:
        """Lock files without a build directory (a writer died before creating it)."""
        if not self.builds_dir.is_dir():
            return []
        return sorted(
            p.stem for p in self.builds_dir.glob("*.lock") if not self.build_dir(p.stem).exists()
        )
