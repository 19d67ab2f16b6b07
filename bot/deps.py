"""The composition root: every client is built here, once, from typed settings.

The CLI and the Slack layer receive a `Deps` and never construct clients themselves. Nothing
connects at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from bot.answer import Advisor
from bot.checklist.loader import CHECKLIST_FILE, load_from_knowledge_dir
from bot.checklist.reading.base import SituationReader
from bot.checklist.reading.offline import OfflineReader
from bot.checklist.verdicts import Verdicts, document_titles
from bot.config import Settings
from bot.gaps.recorder import GapRecorder
from bot.memory.connection import connect_redis
from bot.memory.conversation import ConversationMemory
from bot.memory.embedded_redis import EmbeddedRedis
from bot.memory.feedback import FeedbackStore
from bot.memory.gaps import GapLog
from bot.memory.supervisor import RedisSupervisor
from bot.ops.metered import MeteredFeedbackStore, MeteredRetriever
from bot.ops.metrics import Metrics
from bot.retrieval.embed import Embedder, build_embedder
from bot.retrieval.index.factory import open_index
from bot.retrieval.index.port import IndexPort
from bot.retrieval.rerank import build_reranker
from bot.retrieval.retriever import Retriever

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from bot.llm.chat import ChatClient

log = logging.getLogger(__name__)


@dataclass
class Deps:
    settings: Settings
    index: IndexPort  # the knowledge index (Qdrant Edge embedded, or a Qdrant server)
    embedder: Embedder
    retriever: Retriever
    chat: ChatClient | None
    verdicts: Verdicts | None  # None when the knowledge folder has no checklist.yaml
    advisor: Advisor
    redis: Redis | None
    memory: ConversationMemory | None
    feedback: FeedbackStore | None
    embedded_redis: EmbeddedRedis | None
    metrics: Metrics
    # Restarts the embedded server if it dies; None with REDIS_URL (its operator's job).
    redis_supervisor: RedisSupervisor | None = None
    # Records what the guidance misses (bot/gaps); None without Redis.
    gaps: GapRecorder | None = None

    async def index_version(self) -> str | None:
        info = await self.index.live()
        return info.version if info else None


def build_verdicts(settings: Settings, openai_client: AsyncOpenAI | None) -> Verdicts | None:
    """The checklist, its situation reader and the cited documents' titles. A folder without
    checklist.yaml has no verdicts; a broken one stops the start with file:line."""
    knowledge_dir = settings.core.knowledge_dir
    if not (knowledge_dir / CHECKLIST_FILE).is_file():
        log.warning("no %s in %s: answers carry no verdicts", CHECKLIST_FILE, knowledge_dir)
        return None
    checklist = load_from_knowledge_dir(knowledge_dir)
    reader: SituationReader = OfflineReader(checklist)
    if openai_client is not None and settings.llm.reads_with_llm:
        from bot.checklist.reading.llm import LLMReader

        reader = LLMReader(
            checklist,
            openai_client,
            settings.llm.chat_model,
            fallback=reader,
            timeout_seconds=settings.llm.reader_timeout_seconds,
        )
    return Verdicts(checklist, reader, document_titles(checklist, knowledge_dir))


async def build_deps(settings: Settings, *, with_memory: bool = True) -> Deps:
    index = open_index(settings)
    metrics = Metrics()  # one registry per Deps, so tests and processes never share counters
    retriever: Retriever | None = None
    try:
        embedder = build_embedder(settings)
        retriever = MeteredRetriever(
            index,
            embedder,
            settings.retrieval.top_k,
            metrics=metrics,
            reranker=build_reranker(settings.retrieval),
            rerank_candidates=settings.retrieval.rerank_candidates,
        )
        chat = None
        openai_client = None
        if settings.llm.enabled:
            # Imported here: the openai package is slow to import and only needed with an LLM.
            from bot.llm.chat import ChatClient, build_openai_client

            openai_client = build_openai_client(settings.llm)
            chat = ChatClient(
                openai_client,
                settings.llm.chat_model,
                temperature=settings.llm.temperature,
                max_retries=settings.llm.max_retries,
                timeout_seconds=settings.llm.timeout_seconds,
            )
        verdicts = build_verdicts(settings, openai_client)
        redis: Redis | None = None
        embedded: EmbeddedRedis | None = None
        memory: ConversationMemory | None = None
        feedback: FeedbackStore | None = None
        supervisor: RedisSupervisor | None = None
        gaps: GapRecorder | None = None
        if with_memory:
            redis, embedded = await connect_redis(settings.redis, settings.core.data_dir)
            memory = ConversationMemory(
                redis,
                ttl_seconds=settings.redis.memory_ttl_seconds,
                max_turns=settings.redis.memory_max_turns,
                max_tokens=settings.redis.memory_max_tokens,
            )
            gaps = build_gap_recorder(settings, redis, metrics)
            feedback = MeteredFeedbackStore(redis, metrics=metrics, on_record=gaps.after_feedback)
            if embedded is not None:
                supervisor = RedisSupervisor(embedded)
                supervisor.start()
    except BaseException:
        if retriever is not None:
            await retriever.aclose()
        await index.close()
        raise
    return Deps(
        settings=settings,
        index=index,
        embedder=embedder,
        retriever=retriever,
        chat=chat,
        verdicts=verdicts,
        advisor=Advisor(
            retriever,
            chat,
            memory,
            verdicts,
            min_score=settings.retrieval.min_score,
            max_question_chars=settings.retrieval.max_question_chars,
            metrics=metrics,
            gaps=gaps,
        ),
        redis=redis,
        memory=memory,
        feedback=feedback,
        embedded_redis=embedded,
        metrics=metrics,
        redis_supervisor=supervisor,
        gaps=gaps,
    )


def build_gap_recorder(settings: Settings, redis: Redis, metrics: Metrics) -> GapRecorder:
    gap_log = GapLog(
        redis,
        ttl_seconds=settings.gaps.ttl_days * 24 * 3600,
        max_records=settings.gaps.max_records,
    )
    return GapRecorder(gap_log, pending_seconds=settings.gaps.pending_hours * 3600, metrics=metrics)


async def aclose(deps: Deps) -> None:
    """Close every client; the embedded Redis is stopped only if this process started it."""
    if deps.redis_supervisor is not None:
        await deps.redis_supervisor.stop()  # first, or it would restart the server stopped below
    if deps.redis is not None:
        await deps.redis.aclose()
    if deps.embedded_redis is not None:
        deps.embedded_redis.stop()
    await deps.retriever.aclose()
    await deps.index.close()
