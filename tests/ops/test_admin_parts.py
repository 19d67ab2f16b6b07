"""The reindex lock on a real Redis, the admin policy, and the throttled progress message."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.admin.access import AdminPolicy
from bot.admin.lock import LOCK_KEY, LockHolder, ReindexBusyError, ReindexLock
from bot.admin.progress import ThrottledProgress
from bot.admin.settings import AdminSettings


async def test_lock_has_an_owner_an_expiry_and_only_the_owner_releases(redis_client: Redis) -> None:
    lock = ReindexLock(redis_client, ttl_seconds=30, host="pod-a")
    holder = await lock.acquire("U1")
    assert holder is not None
    stored = await redis_client.get(LOCK_KEY)
    assert stored is not None
    raw = json.loads(stored)
    assert raw["owner"] == "U1" and raw["host"] == "pod-a" and raw["started_at"]
    assert 0 < await redis_client.pttl(LOCK_KEY) <= 30_000
    assert await ReindexLock(redis_client).acquire("U2") is None

    stranger = holder.model_copy(update={"token": "not-the-owner"})
    assert not await lock.release(stranger)
    assert not await lock.refresh(stranger)
    assert await lock.refresh(holder)
    assert await lock.release(holder)
    assert await redis_client.get(LOCK_KEY) is None


async def test_hold_refreshes_while_running_and_names_the_holder_to_others(
    redis_client: Redis,
) -> None:
    lock = ReindexLock(redis_client, ttl_seconds=0.3)
    async with lock.hold("U1") as holder:
        await asyncio.sleep(0.5)  # longer than the TTL: only the refresh keeps it
        assert await lock.holder() == holder
        with pytest.raises(ReindexBusyError, match=r"started by <@U1> at \d{4}-"):
            async with ReindexLock(redis_client).hold("U2"):
                pass
    assert await redis_client.get(LOCK_KEY) is None


async def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over(
    redis_client: Redis,
) -> None:
    gone = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    dead = LockHolder(owner="cli", started_at="2026-01-01 00:00:00", host="pod-a", token="t",
                      pid=int(gone.stdout))  # fmt: skip
    await redis_client.set(LOCK_KEY, dead.model_dump_json(), px=60_000)
    # Another host's holder is never judged from here: it waits for the expiry.
    with pytest.raises(ReindexBusyError):
        async with ReindexLock(redis_client, host="pod-b").hold("U2"):
            pass
    async with ReindexLock(redis_client, host="pod-a").hold("U2") as holder:
        assert holder.owner == "U2" and holder.pid == os.getpid()
    assert await redis_client.get(LOCK_KEY) is None


async def test_a_crashed_owner_s_lock_expires(redis_client: Redis) -> None:
    lock = ReindexLock(redis_client, ttl_seconds=0.1)
    assert await lock.acquire("U1") is not None
    await asyncio.sleep(0.2)
    assert await lock.acquire("U2") is not None


async def test_policy_lists_ids_and_optionally_workspace_admins() -> None:
    profiles = {"UADM": {"is_admin": True}, "UOWN": {"is_owner": True}, "UX": {}}

    async def lookup(user_id: str) -> dict[str, Any]:
        return profiles[user_id]

    async def broken(user_id: str) -> dict[str, Any]:
        raise RuntimeError("users.info failed")

    listed = AdminPolicy(frozenset({"U1"}))
    assert await listed.allows("U1", lookup)
    assert not await listed.allows("UADM", lookup)
    workspace = AdminPolicy(frozenset({"U1"}), include_workspace_admins=True)
    assert await workspace.allows("UADM", lookup)
    assert await workspace.allows("UOWN", lookup)
    assert not await workspace.allows("UX", lookup)
    assert not await workspace.allows("UADM", broken)  # fails closed


def test_admin_settings_read_their_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_ADMIN_USER_IDS", "U1, U2,,")
    monkeypatch.setenv("ADVISOR_ADMINS_INCLUDE_WORKSPACE_ADMINS", "true")
    monkeypatch.setenv("ADVISOR_QUALITY_GATE_MARGIN", "0.1")
    monkeypatch.setenv("ADVISOR_HEALTH_PORT", "0")
    settings = AdminSettings()
    assert settings.admin_user_ids == frozenset({"U1", "U2"})
    assert settings.admins_include_workspace_admins is True
    assert settings.quality_gate_margin == 0.1 and settings.health_port == 0
    monkeypatch.delenv("ADVISOR_ADMIN_USER_IDS")
    monkeypatch.delenv("ADVISOR_QUALITY_GATE_MARGIN")
    defaults = AdminSettings()
    assert defaults.admin_user_ids == frozenset() and defaults.quality_gate_margin == 0.05


async def test_progress_is_throttled_and_keeps_the_latest_state() -> None:
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    def render(stage: str, done: int, total: int) -> str:
        return f"{stage} {done}/{total}"

    started = time.monotonic()
    async with ThrottledProgress(send, render, interval=0.2) as progress:
        for done in range(100):
            progress.update("embed", done, 99)
            await asyncio.sleep(0.003)  # ~0.3 s of updates on an idle machine
    elapsed = time.monotonic() - started
    # At most one message per interval (plus the first), however slow the machine is.
    assert 1 <= len(sent) <= int(elapsed / 0.2) + 1 < 100
    assert sent[0].startswith("embed")
