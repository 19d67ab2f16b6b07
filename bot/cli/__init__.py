"""`advisor`: the terminal face of the same engine the Slack bot uses."""

from __future__ import annotations

import sys

from bot.cli import answers, checklist, eval, gaps, index, info, serve  # noqa: F401
from bot.cli.app import app, err
from bot.errors import UserFacingError

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except UserFacingError as exc:  # raised while loading settings
        err.print(f"[red]Error:[/red] {exc.message}")
        sys.exit(2)
