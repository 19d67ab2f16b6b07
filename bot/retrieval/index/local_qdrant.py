"""Embedded Qdrant off the event loop.

qdrant-client's local mode does its work synchronously (numpy scoring, pydantic conversions), even
behind `AsyncQdrantClient`, so a query there would stall the event loop that acks Slack. This
adapter gives the sync local client the async method names the store uses, running every call on
one dedicated worker thread: calls stay ordered and the local storage is never touched by two
threads at once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qdrant_client import QdrantClient


class ThreadedLocalQdrant:
    def __init__(self, path: str) -> None:
        self._client = QdrantClient(path=path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-local")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(method, *args, **kwargs)
            )

        return call

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._client.close)
        self._executor.shutdown(wait=True)
