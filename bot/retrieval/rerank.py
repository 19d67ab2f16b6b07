"""Optional second stage: a cross-encoder behind an HTTP rerank endpoint reorders the fused top.

The local embedder gives each passage one vector; a cross-encoder reads the question and each
passage together and ranks far better on questions worded unlike their passage (the blind seed
holdout in the README is where the hybrid search alone falls short). None ships offline, so the
reranker is a service: any endpoint speaking the Jina / Cohere rerank API, which Jina, Cohere
(v2), vLLM, Infinity, LiteLLM and Mixedbread serve:

    POST {"model": ..., "query": ..., "documents": [text, ...], "top_n": n}
    ->   {"results": [{"index": i, "relevance_score": s}, ...]}

A failure never costs an answer: the retriever keeps the fused order and says why in the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from bot.config import RetrievalSettings

__all__ = ["HttpReranker", "RerankError", "Reranker", "build_reranker"]


class RerankError(Exception):
    """The rerank service did not give a usable order; the message says why, for the log."""


class Reranker(Protocol):
    @property
    def name(self) -> str: ...

    async def order(self, query: str, documents: Sequence[str]) -> list[int]:
        """Indices of `documents`, most relevant first, every index exactly once."""
        ...

    async def aclose(self) -> None: ...


class _Result(BaseModel):
    index: int
    relevance_score: float


class _Response(BaseModel):
    results: list[_Result]


def _full_order(results: Sequence[_Result], count: int) -> list[int]:
    """The service's order by score, then any document it left out in the order given (top_n
    may be capped server-side). An index out of range or repeated is a broken reply."""
    seen: set[int] = set()
    for result in results:
        if not 0 <= result.index < count:
            raise RerankError(f"the reply names document {result.index} of {count}")
        if result.index in seen:
            raise RerankError(f"the reply names document {result.index} twice")
        seen.add(result.index)
    ranked = [r.index for r in sorted(results, key=lambda r: -r.relevance_score)]
    return ranked + [i for i in range(count) if i not in seen]


class HttpReranker:
    def __init__(
        self,
        url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.model = model or None  # an empty ADVISOR_RERANK_MODEL means none
        self.timeout_seconds = timeout_seconds
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers, timeout=timeout_seconds, transport=transport
        )

    @property
    def name(self) -> str:
        host = urlsplit(self.url).netloc
        return f"{self.model} at {host}" if self.model else host

    async def order(self, query: str, documents: Sequence[str]) -> list[int]:
        if not documents:
            return []
        body: dict[str, object] = {
            "query": query, "documents": list(documents), "top_n": len(documents)
        }  # fmt: skip
        if self.model:
            body["model"] = self.model
        try:
            # httpx times each phase (connect, write, read) on its own; this bounds the whole
            # exchange, so a service that answers slowly bit by bit cannot hold up an answer.
            async with asyncio.timeout(self.timeout_seconds):
                response = await self._client.post(self.url, json=body)
        except (TimeoutError, httpx.TimeoutException):
            raise RerankError(f"no reply within {self.timeout_seconds:g} s") from None
        except httpx.HTTPError as exc:
            raise RerankError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise RerankError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            parsed = _Response.model_validate_json(response.content)
        except ValidationError as exc:
            raise RerankError(f"unexpected reply: {exc.errors()[0]['msg']}") from None
        return _full_order(parsed.results, len(documents))

    async def aclose(self) -> None:
        await self._client.aclose()


def build_reranker(settings: RetrievalSettings) -> HttpReranker | None:
    """The configured reranker, or None when ADVISOR_RERANK_URL is unset."""
    if settings.rerank_url is None:
        return None
    key = settings.rerank_api_key.get_secret_value() if settings.rerank_api_key else None
    return HttpReranker(
        settings.rerank_url,
        model=settings.rerank_model,
        api_key=key,
        timeout_seconds=settings.rerank_timeout_seconds,
    )
