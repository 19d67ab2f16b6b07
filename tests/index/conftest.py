"""The index adapters under one fixture: the same behaviour tests run on Qdrant Edge (the embedded
default) and on the server adapter, against qdrant-client's local mode as the server stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import pytest
import pytest_asyncio
from qdrant_client import AsyncQdrantClient

from bot.models import Chunk
from bot.retrieval.index.edge import EdgeIndex
from bot.retrieval.index.local_qdrant import ThreadedLocalQdrant
from bot.retrieval.index.port import IndexPort, SparseVector
from bot.retrieval.index.server import ServerIndex
from bot.retrieval.represent import sparse_vector

DIM = 4
Opener = Callable[[], IndexPort]


def open_adapter(kind: str, path: Path, *, stale_after: float = 600.0) -> IndexPort:
    if kind == "edge":
        return EdgeIndex(path / "index")
    client = cast(AsyncQdrantClient, ThreadedLocalQdrant(str(path / "qdrant")))
    return ServerIndex(client, "advisor", stale_after=stale_after)


@pytest.fixture(params=["edge", "server"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture
async def index(kind: str, tmp_path: Path) -> AsyncIterator[IndexPort]:
    opened = open_adapter(kind, tmp_path)
    yield opened
    await opened.close()


def chunk(source: str, position: int, text: str) -> Chunk:
    return Chunk(
        source=source, title=source.removesuffix(".md"), position=position, text=text,
        content_hash=f"{source}:{position}:{text}",
    )  # fmt: skip


CHUNKS = [
    chunk("lora.md", 0, "LoRA trains small low-rank adapter matrices."),
    chunk("lora.md", 1, "Adapters make fine-tuning cheaper."),
    chunk("rag.md", 0, "Retrieval puts fresh documents into the prompt."),
    chunk("json.md", 0, "A JSON schema keeps structured output valid."),
]
# One axis per document, so the nearest document of a query vector is known.
AXES = {"lora.md": 0, "rag.md": 1, "json.md": 2}


def vector_for(item: Chunk, wobble: float = 0.0) -> list[float]:
    vector = [0.05] * DIM
    vector[AXES.get(item.source, 3)] = 1.0
    vector[3] += wobble + 0.01 * item.position
    return vector


def sparse_for(items: list[Chunk]) -> list[SparseVector]:
    return [sparse_vector(item) for item in items]


async def write_build(
    index: IndexPort, version: str, items: list[Chunk], *, publish: bool = True
) -> str:
    build = await index.create_build(version, DIM, "test-embedder", "tests")
    await index.upsert(build, items, [vector_for(c) for c in items], sparse_for(items))
    await index.finish_build(build, len({c.source for c in items}))
    if publish:
        await index.publish(build)
    return build
