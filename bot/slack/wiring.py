"""Builds the Slack layer's services: from `Deps` in production, from parts in the test harness.

Both go through `assemble_services`, so the metered responder, the checklist hook and the Redis
helpers are put together the same way everywhere, once, before anything reads them.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from bot.admin.service import AdminService
from bot.admin.wiring import build_admin
from bot.config import SlackBehaviour
from bot.deps import Deps
from bot.errors import ConfigError
from bot.gaps.digest import WeeklyDigest
from bot.gaps.service import GapService
from bot.gaps.wiring import build_digest, build_gap_service
from bot.memory.conversation import ConversationMemory
from bot.memory.dedupe import Deliveries
from bot.memory.feedback import FeedbackStore
from bot.memory.threads import ThreadMarks
from bot.slack.checklist_flow import build_checklist_services, checklist_starter
from bot.slack.checklist_services import ChecklistServices, StartChecklist
from bot.slack.pacing import RatePacer
from bot.slack.services import Responder, SlackServices

log = logging.getLogger(__name__)
CHECKLIST_FILE = "checklist.yaml"


def assemble_services(
    *,
    responder: Responder,
    redis: Redis,
    feedback: FeedbackStore,
    behaviour: SlackBehaviour | None = None,
    memory: ConversationMemory | None = None,
    checklist: ChecklistServices | None = None,
    start_checklist: StartChecklist | None = None,
    admin: AdminService | None = None,
    pacer: RatePacer | None = None,
    gaps: GapService | None = None,
    digest: WeeklyDigest | None = None,
) -> SlackServices:
    """`start_checklist` defaults to the real flow when `checklist` is given. Answers are
    timed by the answer use case itself (bot/answer.py), once for every front end."""
    behaviour = behaviour or SlackBehaviour()
    if start_checklist is None and checklist is not None:
        start_checklist = checklist_starter(checklist)
    return SlackServices(
        responder=responder,
        feedback=feedback,
        threads=ThreadMarks(redis, behaviour.thread_ttl_seconds),
        deliveries=Deliveries(redis, behaviour.dedupe_ttl_seconds),
        memory=memory,
        behaviour=behaviour,
        start_checklist=start_checklist,
        checklist=checklist,
        admin=admin,
        pacer=pacer or RatePacer(),
        gaps=gaps,
        digest=digest,
    )


def _checklist(deps: Deps, redis: Redis) -> ChecklistServices | None:
    """The checklist when the knowledge folder defines one. A folder without checklist.yaml
    simply has no checklist; a broken one stops the start with the file and line."""
    if not (deps.settings.core.knowledge_dir / CHECKLIST_FILE).is_file():
        log.warning("no %s in the knowledge folder: the decision checklist is off", CHECKLIST_FILE)
        return None
    return build_checklist_services(
        redis,
        deps.settings.core.knowledge_dir,
        deps.settings.redis.checklist_ttl_days,
        deps.memory,
        ThreadMarks(redis, deps.settings.slack_behaviour.thread_ttl_seconds),
        deps.index_version,
    )


def build_slack_services(deps: Deps) -> SlackServices:
    if deps.redis is None or deps.feedback is None:
        raise ConfigError("The Slack bot needs Redis (REDIS_URL, or the embedded default).")
    gaps = build_gap_service(deps)
    return assemble_services(
        responder=deps.advisor,
        redis=deps.redis,
        feedback=deps.feedback,
        behaviour=deps.settings.slack_behaviour,
        memory=deps.memory,
        checklist=_checklist(deps, deps.redis),
        admin=build_admin(deps, deps.settings.admin, deps.metrics),
        gaps=gaps,
        digest=build_digest(deps, gaps),
    )
