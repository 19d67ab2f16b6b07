"""The Slack app manifests declare every slash command, event and scope the app relies on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from redis.asyncio import Redis
from slack_bolt.async_app import AsyncApp

from bot.admin.service import AdminService
from bot.config import SlackSettings
from bot.slack.app import build_app
from tests.support.slack_harness import scripted_services

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy").glob("slack-manifest*.yml"))


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


class _Admin:
    """Only its presence matters: build_app registers /finetune-admin when services have one."""

    policy = None


def _closure_strings(func: Any, depth: int = 0) -> set[str]:
    """Strings captured by a matcher function; Bolt wraps the sync matcher in an async one."""
    found: set[str] = set()
    for cell in getattr(func, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, str):
            found.add(value)
        elif callable(value) and depth < 3:
            found |= _closure_strings(value, depth + 1)
    return found


def registered_commands(app: AsyncApp) -> set[str]:
    commands: set[str] = set()
    for listener in app._async_listeners:
        for matcher in listener.matchers:
            strings = _closure_strings(getattr(matcher, "func", None))
            commands |= {value for value in strings if value.startswith("/")}
    return commands


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_declares_what_the_app_registers(path: Path, redis_client: Redis) -> None:
    services = replace(scripted_services(redis_client), admin=cast(AdminService, _Admin()))
    app = build_app(SlackSettings(bot_token="xoxb-t", signing_secret="s"), services)
    manifest = load(path)
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    registered = registered_commands(app)
    assert {"/finetune-check", "/finetune-admin"} <= registered
    assert registered <= declared
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # chat:write for progress edits, commands for slash commands, users:read for users.info
    assert {"chat:write", "commands", "users:read"} <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im"} <= events


def test_http_manifest_points_every_url_at_slack_events() -> None:
    manifest = load(ROOT / "deploy" / "slack-manifest.http.yml")
    assert manifest["settings"]["socket_mode_enabled"] is False
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls.append(manifest["settings"]["event_subscriptions"]["request_url"])
    urls.append(manifest["settings"]["interactivity"]["request_url"])
    assert all(url.endswith("/slack/events") for url in urls)
