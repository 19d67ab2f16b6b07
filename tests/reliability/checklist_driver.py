"""Drive the decision checklist through a SlackHarness with signed button clicks, as Slack would send them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.slack import checklist_blocks as ui
from bot.slack.blocks import CHECKLIST_START
from tests.support.slack_harness import SlackHarness
from tests.support.slack_requests import click_payload


@dataclass
class ChecklistThread:
    """One checklist message in one thread; `rig` may be swapped for a restarted instance."""

    rig: SlackHarness
    thread_ts: str
    message_ts: str = ""
    blocks: list[dict[str, Any]] | None = None

    async def start(self) -> None:
        done = len(self.rig.api.calls_to("chat.postMessage"))
        payload = click_payload(
            CHECKLIST_START, "start", message_ts=self.thread_ts, thread_ts=self.thread_ts
        )
        assert await self.rig.post_interaction(payload) == 200
        posted = (await self.rig.api.wait_for("chat.postMessage", done + 1))[-1]
        self.message_ts = str(posted.response["ts"])
        self.blocks = list(posted.params["blocks"])

    def options(self) -> list[dict[str, Any]]:
        assert self.blocks is not None
        elements = [e for b in self.blocks if b["type"] == "actions" for e in b["elements"]]
        return [e for e in elements if e["action_id"].startswith(ui.ANSWER_PREFIX)]

    async def click(self, element: dict[str, Any], value: str | None = None) -> None:
        """Click and wait until the message is updated; remember what it shows."""
        done = len(self.rig.api.calls_to("chat.update"))
        payload = click_payload(
            element["action_id"],
            element["value"] if value is None else value,
            message_ts=self.message_ts,
            thread_ts=self.thread_ts,
        )
        assert await self.rig.post_interaction(payload) == 200
        update = (await self.rig.api.wait_for("chat.update", done + 1))[-1]
        assert update.params["ts"] == self.message_ts
        self.blocks = list(update.params["blocks"])

    async def answer(self, count: int) -> None:
        for _ in range(count):
            await self.click(self.options()[0])

    def text(self) -> str:
        return json.dumps(self.blocks, ensure_ascii=False)

    @property
    def finished(self) -> bool:
        return not self.options()
