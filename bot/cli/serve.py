"""`advisor serve` (the Slack bot) and `advisor run` (what `make run` does).

SIGTERM (what Kubernetes and `docker stop` send) and SIGINT (Ctrl-C) both start a clean
shutdown: Slack requests are turned away, answers in flight finish or are cancelled visibly within
ADVISOR_SHUTDOWN_GRACE_SECONDS, then Redis (the embedded server included) and the index are
closed and the process exits 0.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

from bot.cli import render
from bot.cli.answers import chat
from bot.cli.app import app, console, err, run, settings, with_deps
from bot.cli.index import reindex_with_progress
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.deps import Deps


async def warm_index(deps: Deps) -> None:
    """Open the live index before the first question (and, embedded, take ownership of it).
    No index yet is fine: questions are then told to run a reindex."""
    try:
        await deps.index.search(await deps.embedder.embed_query("warm up"), ([], []), 1)
    except UserFacingError as exc:
        err.print(f"[yellow]Note:[/yellow] {exc.message}")


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve(deps: Deps) -> None:
    from bot.slack.server import serve as serve_slack
    from bot.slack.wiring import build_slack_services

    services = build_slack_services(deps)
    await deps.embedder.warm_up()  # the first question should not wait for the model to load
    await warm_index(deps)
    slack = deps.settings.slack
    if slack.app_token is not None:
        err.print("Connecting to Slack in Socket Mode. Ctrl-C to stop.")
    else:
        err.print(f"Listening for Slack on http://{slack.host}:{slack.port}/slack/events")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, _request_stop, stop, signum)
    try:
        await serve_slack(
            slack,
            services,
            health_port=deps.settings.admin.health_port,
            stop=stop,
            grace_seconds=slack.shutdown_grace_seconds,
        )
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    err.print("Stopped.")


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    if not stop.is_set():
        err.print(f"{signal.Signals(signum).name}: finishing answers in flight, then stopping.")
    stop.set()


@app.command("serve")
def serve_command() -> None:
    """Run the Slack bot: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on ADVISOR_PORT."""
    loaded = settings()
    if not loaded.slack.configured:
        raise UserFacingError("`advisor serve` needs SLACK_BOT_TOKEN; see docs/install-slack.md.")
    run(lambda: with_deps(loaded, serve))


@app.command("run")
def run_command() -> None:
    """What `make run` does: bring the index up to date, then start the Slack bot when Slack
    tokens are set, and the terminal chat otherwise."""
    loaded = settings()

    async def body(deps: Deps) -> None:
        from bot.admin.wiring import build_admin

        # The same lifecycle as `advisor reindex`: lock, gate, and a rebuild of an old layout.
        result = await reindex_with_progress(build_admin(deps, loaded.admin))
        if result.report.published:
            render.print_reindex(console, result)
        if loaded.slack.configured:
            await serve(deps)
        else:
            await chat(deps)

    run(lambda: with_deps(loaded, body))
