"""Builds the Slack layer's services from `Deps` (the composition root's clients)."""

from __future__ import annotations

import logging

from bot.admin.wiring import build_admin
from bot.deps import Deps
from bot.errors import ConfigError
from bot.slack.checklist_flow import build_checklist_services
from bot.slack.services import ChecklistServices, SlackServices

log = logging.getLogger(__name__)
CHECKLIST_FILE = "checklist.yaml"


def _checklist(deps: Deps) -> ChecklistServices | None:
    """The checklist when the knowledge folder defines one. A folder without checklist.yaml
    simply has no checklist; a broken one stops the start with the file and line."""
    assert deps.redis is not None
    if not (deps.settings.core.knowledge_dir / CHECKLIST_FILE).is_file():
        log.warning("no %s in the knowledge folder: the decision checklist is off", CHECKLIST_FILE)
        return None
    return build_checklist_services(
        deps.redis,
        deps.settings.core.knowledge_dir,
        deps.settings.redis.checklist_ttl_days,
        deps.memory,
        deps.index_version,
    )


def build_slack_services(deps: Deps) -> SlackServices:
    if deps.redis is None or deps.feedback is None:
        raise ConfigError("The Slack bot needs Redis (REDIS_URL, or the embedded default).")
    return SlackServices(
        responder=deps.advisor,
        redis=deps.redis,
        feedback=deps.feedback,
        behaviour=deps.settings.slack_behaviour,
        checklist=_checklist(deps),
        admin=build_admin(deps, deps.settings.admin, deps.metrics),
    )
