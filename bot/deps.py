"""The composition root: every client is built here, once, from typed settings.

The CLI and the Slack layer receive a `Deps` and never construct clients themselves. Nothing
connects at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from bot.advisor import Advisor
from bot.answer import Answerer
from bot.config import Settings
from bot.memory.connection import connect_redis
from bot.memory.conversation import ConversationMemory
from bot.memory.embedded_redis import EmbeddedRedis
from bot.memory.feedback import FeedbackStore
from bot.ops.metered import MeteredFeedbackStore, MeteredRetriever
from bot.ops.metrics import Metrics
from bot.retrieval.embed import Embedder, build_embedder
from bot.retrieval.index.factory import open_index
from bot.retrieval.index.port import IndexPort
from bot.retrieval.retriever import Retriever

if TYPE_CHECKING:
    from bot.llm.chat import ChatClient

log = logging.getLogger(__name__)


@dataclass
class Deps:
    settings: Settings
    index: IndexPort  # the knowledge index (Qdrant Edge embedded, or a Qdrant server)
    embedder: Embedder
    retriever: Retriever
    chat: ChatClient | None
    answerer: Answerer
    advisor: Advisor
    redis: Redis | None
    memory: ConversationMemory | None
    feedback: FeedbackStore | None
    embedded_redis: EmbeddedRedis | None
    metrics: Metrics

    async def index_version(self) -> str | None:
        info = await self.index.live()
        return info.version if info else None


async def build_deps(settings: Settings, *, with_memory: bool = True) -> Deps:
    index = open_index(settings)
    metrics = Metrics()  # one registry per Deps, so tests and processes never share counters
    try:
        embedder = build_embedder(settings)
        retriever: Retriever = MeteredRetriever(
            index, embedder, settings.retrieval.top_k, metrics=metrics
        )
        chat = None
        if settings.llm.enabled:
            # Imported here: the openai package is slow to import and only needed with an LLM.
            from bot.llm.chat import ChatClient, build_openai_client

            chat = ChatClient(
                build_openai_client(settings.llm),
                settings.llm.chat_model,
                temperature=settings.llm.temperature,
                max_retries=settings.llm.max_retries,
                timeout_seconds=settings.llm.timeout_seconds,
            )
        answerer = Answerer(
            retriever,
            chat,
            min_score=settings.retrieval.min_score,
            max_question_chars=settings.retrieval.max_question_chars,
        )
        redis: Redis | None = None
        embedded: EmbeddedRedis | None = None
        memory: ConversationMemory | None = None
        feedback: FeedbackStore | None = None
        if with_memory:
            redis, embedded = await connect_redis(settings.redis, settings.core.data_dir)
            memory = ConversationMemory(
                redis,
                ttl_seconds=settings.redis.memory_ttl_seconds,
                max_turns=settings.redis.memory_max_turns,
                max_tokens=settings.redis.memory_max_tokens,
            )
            feedback = MeteredFeedbackStore(redis, metrics=metrics)
    except BaseException:
        await index.close()
        raise
    return Deps(
        settings=settings,
        index=index,
        embedder=embedder,
        retriever=retriever,
        chat=chat,
        answerer=answerer,
        advisor=Advisor(answerer, memory),
        redis=redis,
        memory=memory,
        feedback=feedback,
        embedded_redis=embedded,
        metrics=metrics,
    )


async def aclose(deps: Deps) -> None:
    """Close every client; the embedded Redis is stopped only if this process started it."""
    if deps.redis is not None:
        await deps.redis.aclose()
    if deps.embedded_redis is not None:
        deps.embedded_redis.stop()
    await deps.index.close()
