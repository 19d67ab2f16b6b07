"""Conversation turns in Redis: bounded, validated on the way out, and never fatal when Redis is down.

Storage: one Redis list per conversation, one JSON-encoded `Turn` per element, oldest first,
and beside it one string with the situation facts read so far (the checklist answers a verdict
rests on; a follow-up such as "we have an eval set now" adds to them). Appends are a single
MULTI/EXEC (RPUSH + LTRIM + EXPIRE, and SET when facts change), so a conversation never outgrows
`max_turns` and its TTL slides with every exchange.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.checklist.assessment import Fact
from bot.models import Turn

logger = logging.getLogger(__name__)

UNAVAILABLE_NOTE = (
    "Conversation memory is unavailable right now, so I'm answering without earlier messages."
)
# What "Redis is unreachable" looks like from redis-py and the socket layer.
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_TRUNCATED = " …"
FACTS = TypeAdapter(tuple[Fact, ...])


def conversation_key(team_id: str, channel_id: str, thread_ts: str | None) -> str:
    """One conversation per Slack thread; messages outside a thread share the channel's 'main'."""
    return f"advisor:conv:{team_id}:{channel_id}:{thread_ts or 'main'}"


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters a token) good enough for a budget."""
    return math.ceil(len(text) / 4)


def facts_key(key: str) -> str:
    return f"{key}:facts"


@dataclass(frozen=True)
class History:
    turns: tuple[Turn, ...]
    note: str | None = None  # set once per outage, for the answer's notes
    facts: tuple[Fact, ...] = ()  # situation facts read earlier in this conversation


def bound_turns(turns: list[Turn], max_turns: int, max_tokens: int) -> tuple[Turn, ...]:
    """The newest turns that fit both limits, oldest first.

    Turns are taken newest first until the next one would exceed `max_tokens`; older turns are
    never skipped over, so what is kept is always a contiguous, most recent stretch. The newest
    turn is always kept: when it alone exceeds the budget its content is cut to the budget (the
    beginning is kept, since answers lead with their recommendation).
    """
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns[-max_turns:] if max_turns > 0 else []):
        cost = estimate_tokens(turn.content)
        if used + cost > max_tokens:
            if not kept:
                kept.append(_truncate(turn, max_tokens))
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    return tuple(kept)


def _truncate(turn: Turn, max_tokens: int) -> Turn:
    limit = max(0, max_tokens * 4 - len(_TRUNCATED))
    return turn.model_copy(update={"content": turn.content[:limit].rstrip() + _TRUNCATED})


class ConversationMemory:
    """Load and append turns; during a Redis outage answer without memory and say so once."""

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: int,
        max_turns: int,
        max_tokens: int,
        timeout_seconds: float = 3.0,
    ) -> None:
        self._redis = redis
        # An overall bound per call: the client's own timeouts multiply with its retries (a hung
        # server took ~19s), and memory sits on the path of every answer.
        self._timeout = timeout_seconds
        self._ttl = ttl_seconds
        self._max_turns = max_turns
        self._max_tokens = max_tokens
        self._in_outage = False
        self._noted = False  # whether a History already carried the note in this outage

    async def load(self, key: str) -> History:
        """The newest turns within the turn and token limits (see `bound_turns`), oldest first.

        Corrupt entries are dropped with a warning. When Redis is unreachable the history is
        empty, and the first such History of an outage carries `UNAVAILABLE_NOTE`.
        """
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._redis.pipeline(transaction=False) as pipe,
            ):
                pipe.lrange(key, -self._max_turns, -1)
                pipe.get(facts_key(key))
                raw, raw_facts = await pipe.execute()
        except OUTAGE_ERRORS as exc:
            self._failed("load", exc)
            if self._noted:
                return History(())
            self._noted = True
            return History((), note=UNAVAILABLE_NOTE)
        except ResponseError as exc:
            # e.g. WRONGTYPE: someone wrote another shape under our key. Answer without it.
            logger.warning("Conversation %s is unreadable, ignoring it: %s", key, exc)
            self._succeeded()
            return History(())
        self._succeeded()
        parsed = (_parse_turn(item, key) for item in raw)
        turns = [turn for turn in parsed if turn is not None]
        return History(
            bound_turns(turns, self._max_turns, self._max_tokens),
            facts=_parse_facts(raw_facts, key),
        )

    async def append(self, key: str, *turns: Turn, facts: tuple[Fact, ...] | None = None) -> bool:
        """Store `turns` at the end of the conversation, and `facts` (when given) as the
        conversation's situation facts, in one transaction. False when Redis could not be
        reached."""
        if not turns and facts is None:
            return True
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._redis.pipeline(transaction=True) as pipe,
            ):
                if turns:
                    pipe.rpush(key, *(turn.model_dump_json() for turn in turns))
                    pipe.ltrim(key, -self._max_turns, -1)
                    pipe.expire(key, self._ttl)
                if facts is not None:
                    pipe.set(facts_key(key), FACTS.dump_json(facts), ex=self._ttl)
                await pipe.execute()
        except OUTAGE_ERRORS as exc:
            self._failed("append", exc)
            return False
        except ResponseError as exc:
            logger.error("Could not store turns in conversation %s: %s", key, exc)
            self._succeeded()
            return False
        self._succeeded()
        return True

    async def clear(self, key: str) -> None:
        """Forget a conversation. During an outage this is logged and skipped, not raised."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.delete(key, facts_key(key))
        except OUTAGE_ERRORS as exc:
            self._failed("clear", exc)
            return
        self._succeeded()

    def _failed(self, operation: str, exc: BaseException) -> None:
        # Log loudly once per outage, then quietly: a down Redis would otherwise flood the logs.
        if not self._in_outage:
            self._in_outage = True
            logger.warning(
                "Conversation memory unavailable (%s failed): %s", operation, describe_error(exc)
            )
        else:
            logger.debug(
                "Conversation memory still unavailable (%s): %s", operation, describe_error(exc)
            )

    def _succeeded(self) -> None:
        if self._in_outage:
            logger.warning("Conversation memory is available again")
        self._in_outage = False
        self._noted = False


def describe_error(exc: BaseException) -> str:
    # asyncio's TimeoutError has no message; the type name is then the useful part.
    return str(exc) or type(exc).__name__


def _parse_facts(raw: str | bytes | None, key: str) -> tuple[Fact, ...]:
    if raw is None:
        return ()
    try:
        return FACTS.validate_json(raw)
    except ValidationError:
        logger.warning("Dropping unreadable situation facts in %s", key)
        return ()


def _parse_turn(raw: str | bytes, key: str) -> Turn | None:
    try:
        return Turn.model_validate_json(raw)
    except ValidationError as exc:
        # One bad entry (manual edit, older format) must not cost the whole conversation.
        logger.warning("Dropping a corrupt turn in %s: %s", key, exc.errors()[0]["msg"])
        return None
