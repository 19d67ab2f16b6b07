"""Which adapter a process uses: a Qdrant server when QDRANT_URL is set, Qdrant Edge otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.retrieval.index.port import IndexPort

if TYPE_CHECKING:
    from bot.config import Settings


def edge_root(settings: Settings) -> Path:
    return settings.core.data_dir / "index" / settings.retrieval.collection


def legacy_dir(settings: Settings) -> Path:
    """Where qdrant-client's local mode kept the index before Qdrant Edge."""
    return settings.core.data_dir / "qdrant"


def open_index(settings: Settings) -> IndexPort:
    """Opening never connects or touches a shard; the first call does."""
    if settings.qdrant.url:
        # Imported here: qdrant-client takes a second to import, and only servers need it.
        from qdrant_client import AsyncQdrantClient

        from bot.retrieval.index.server import ServerIndex

        api_key = settings.qdrant.api_key.get_secret_value() if settings.qdrant.api_key else None
        client = AsyncQdrantClient(url=settings.qdrant.url, api_key=api_key, timeout=10)
        return ServerIndex(client, settings.retrieval.collection)
    from bot.retrieval.index.edge import EdgeIndex

    return EdgeIndex(edge_root(settings), legacy=legacy_dir(settings))
