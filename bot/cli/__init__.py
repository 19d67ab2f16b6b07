"""`advisor`: the terminal face of the same engine the Slack bot uses."""

from __future__ import annotations

import sys

from bot.cli import (  # noqa: F401  (register commands)
    answers,
    checklist,
    decisions,
    eval,
    gaps,
    index,
    info,
    serve,
)
from bot.cli.app import app, err
from bot.errors import UserFacingError

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except UserFacingError as exc:  # raised while loading settings
        err.print(f"[red]Error:[/red] {exc.message}")
        sys.exit(2)
