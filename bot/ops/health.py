"""Liveness, readiness and the dependency checks `status` shows.

Readiness means this replica can answer: Redis and the index engine reachable and a live index
present. Each check is bounded by a timeout so a hung dependency makes the probe fail, not hang.
The engine check keeps its name `qdrant` (both adapters are Qdrant) for dashboards and probes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.models import Frozen
from bot.retrieval.index.port import IndexPort

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.llm.chat import ChatClient

CHECK_TIMEOUT_SECONDS = 3.0


class Check(Frozen):
    name: str
    ok: bool
    detail: str


class Readiness(Frozen):
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def body(self) -> dict[str, object]:
        """JSON for /readyz: the verdict, what failed, and every check's detail."""
        return {
            "status": "ok" if self.ok else "unavailable",
            "failed": [check.name for check in self.checks if not check.ok],
            "checks": {
                check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks
            },
        }


class HealthChecks:
    def __init__(
        self,
        *,
        redis: Redis | None,
        index: IndexPort,
        chat: ChatClient | None = None,
        timeout: float = CHECK_TIMEOUT_SECONDS,
    ) -> None:
        self._redis = redis
        self._index = index
        self._chat = chat
        self._timeout = timeout

    async def redis(self) -> Check:
        if self._redis is None:
            return Check(name="redis", ok=False, detail="not connected")
        from bot.memory.connection import redis_health

        problem = await redis_health(self._redis)
        return Check(name="redis", ok=problem is None, detail=problem or "reachable")

    async def qdrant(self) -> Check:
        try:
            async with asyncio.timeout(self._timeout):
                await self._index.ping()
        except TimeoutError:
            return Check(name="qdrant", ok=False, detail=f"no answer within {self._timeout:g}s")
        except Exception as exc:
            # Exception text from the HTTP client names host and status, never the API key.
            return Check(name="qdrant", ok=False, detail=_short(exc))
        return Check(name="qdrant", ok=True, detail="reachable")

    async def index(self) -> Check:
        try:
            async with asyncio.timeout(self._timeout):
                info = await self._index.live()
        except Exception as exc:
            return Check(name="index", ok=False, detail=_short(exc))
        if info is None:
            return Check(name="index", ok=False, detail="no live index (run a reindex)")
        return Check(name="index", ok=True, detail=f"version {info.version}, {info.chunks} chunks")

    async def llm(self) -> Check:
        if self._chat is None:
            return Check(name="llm", ok=True, detail="not configured (extractive answers)")
        problem = await self._chat.ping()
        return Check(
            name="llm", ok=problem is None, detail=problem or f"reachable ({self._chat.model})"
        )

    async def readiness(self) -> Readiness:
        checks = await asyncio.gather(self.redis(), self.qdrant(), self.index())
        return Readiness(checks=tuple(checks))


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
