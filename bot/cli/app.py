"""The `advisor` Typer app and what every command shares: settings, the error policy, Deps.

Commands live in one module per area (answers, index, checklist, slack, info) and register on
`app` when `bot.cli` is imported.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from bot.config import Settings, load_settings
from bot.errors import UserFacingError, new_error_id
from bot.logging_setup import configure_logging

if TYPE_CHECKING:
    from bot.deps import Deps

app = typer.Typer(
    help="The fine-tune advisor: should you prompt, add RAG, or fine-tune?",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("bot.cli")
T = TypeVar("T")


def settings() -> Settings:
    loaded = load_settings()
    configure_logging(loaded.core.log_level, loaded.core.log_json)
    return loaded


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one command; user-facing errors become a clear message and exit code 2."""
    try:
        return asyncio.run(coro_fn())
    except UserFacingError as exc:
        err.print(f"[red]Error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted.[/yellow]")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise  # a command's own exit code (click's Exit is a RuntimeError)
    except Exception as exc:
        # Whatever it is (a library's TypeError included), the user gets one line with an id
        # that finds the traceback in the log, not a screenful of it.
        error_id = log_unexpected(exc, "command failed")
        err.print(f"[red]Error:[/red] {unexpected_message(exc, error_id)}")
        raise typer.Exit(1) from None


def log_unexpected(exc: BaseException, what: str) -> str:
    """Log `exc` with its traceback under a new error id, and return the id."""
    error_id = new_error_id()
    log.error("%s (error id %s)", what, error_id, exc_info=exc)
    return error_id


def unexpected_message(exc: BaseException, error_id: str) -> str:
    return f"{type(exc).__name__} (error id {error_id}); see the log."


async def with_deps(
    loaded: Settings, body: Callable[[Deps], Awaitable[T]], *, with_memory: bool = True
) -> T:
    # Imported here: the whole engine is slow to import, and `advisor reindex` never needs it.
    from bot.deps import aclose, build_deps

    deps = await build_deps(loaded, with_memory=with_memory)
    try:
        return await body(deps)
    finally:
        await aclose(deps)
