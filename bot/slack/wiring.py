"""Builds the Slack layer's services: from `Deps` in production, from parts in the test harness.

Both go through `assemble_services`, so the metered responder, the checklist hook and the Redis
helpers are put together the same way everywhere, once, before anything reads them.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from bot.admin.service import AdminService
from bot.admin.wiring import build_admin
from bot.checklist.history import DecisionHistory
from bot.config import SlackBehaviour
from bot.deps import Deps
from bot.errors import ConfigError
from bot.escalation.models import Escalation, ExpertRoster
from bot.escalation.service import EscalationService, OnEscalated
from bot.gaps.digest import WeeklyDigest
from bot.gaps.recorder import GapRecorder
from bot.gaps.service import GapService
from bot.gaps.wiring import build_digest, build_gap_service
from bot.memory.conversation import ConversationMemory
from bot.memory.dedupe import Deliveries
from bot.memory.escalations import EscalationStore
from bot.memory.feedback import FeedbackStore
from bot.memory.threads import ThreadMarks
from bot.slack.checklist_flow import build_checklist_services, checklist_starter
from bot.slack.checklist_services import ChecklistServices, StartChecklist
from bot.slack.escalation_services import Escalations, GroupMembers
from bot.slack.followup import FollowUps
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
    escalation: Escalations | None = None,
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
        escalation=escalation,
        gaps=gaps,
        digest=digest,
    )


def _checklist(deps: Deps, redis: Redis, pacer: RatePacer) -> ChecklistServices | None:
    """The checklist when the knowledge folder defines one. A folder without checklist.yaml
    simply has no checklist; a broken one stops the start with the file and line."""
    settings = deps.settings
    if not (settings.core.knowledge_dir / CHECKLIST_FILE).is_file():
        log.warning("no %s in the knowledge folder: the decision checklist is off", CHECKLIST_FILE)
        return None
    history = DecisionHistory(redis, ttl_days=settings.redis.decision_ttl_days)
    followups = FollowUps(
        history,
        days=settings.slack_behaviour.followup_days,
        pacer=pacer,
        metrics=deps.metrics,
    )
    return build_checklist_services(
        redis,
        settings.core.knowledge_dir,
        settings.redis.checklist_ttl_days,
        deps.memory,
        ThreadMarks(redis, settings.slack_behaviour.thread_ttl_seconds),
        deps.index_version,
        followups=followups,
    )


def build_escalations(
    deps: Deps, redis: Redis, on_escalated: OnEscalated | None = None
) -> Escalations | None:
    """ "Ask an expert", when experts are configured (ADVISOR_EXPERT_USER_IDS / _GROUP_ID)."""
    settings = deps.settings.escalation
    if not settings.configured:
        return None
    roster = ExpertRoster(user_ids=settings.expert_user_ids, group_id=settings.expert_group_id)
    store = EscalationStore(redis, ttl_seconds=settings.ttl_days * 24 * 3600)
    service = EscalationService(
        store,
        roster,
        memory=deps.memory,
        checklist=deps.verdicts.checklist if deps.verdicts is not None else None,
        metrics=deps.metrics,
        on_escalated=on_escalated,
    )
    return Escalations(service, GroupMembers(settings.expert_group_id), settings.channel_id)


def build_slack_services(deps: Deps, *, on_escalated: OnEscalated | None = None) -> SlackServices:
    """`on_escalated` is called once for every new escalation; by default it records the
    escalation as a gap in the guidance (`advisor gaps`)."""
    if deps.redis is None or deps.feedback is None:
        raise ConfigError("The Slack bot needs Redis (REDIS_URL, or the embedded default).")
    if on_escalated is None and deps.gaps is not None:
        on_escalated = _record_as_gap(deps.gaps)
    # One pacer for the whole process: answers and follow-ups share Slack's rate tiers.
    pacer = RatePacer()
    gaps = build_gap_service(deps)
    return assemble_services(
        responder=deps.advisor,
        redis=deps.redis,
        feedback=deps.feedback,
        behaviour=deps.settings.slack_behaviour,
        memory=deps.memory,
        checklist=_checklist(deps, deps.redis, pacer),
        admin=build_admin(deps, deps.settings.admin, deps.metrics),
        pacer=pacer,
        escalation=build_escalations(deps, deps.redis, on_escalated),
        gaps=gaps,
        digest=build_digest(deps, gaps),
    )


def _record_as_gap(recorder: GapRecorder) -> OnEscalated:
    async def record(escalation: Escalation) -> None:
        summary = escalation.summary
        await recorder.record_escalation(
            escalation.escalation_id,
            summary.latest or summary.question,
            reason=summary.verdict,
            index_version=escalation.index_version,
        )

    return record
