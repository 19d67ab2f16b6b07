"""Admin settings live in bot/config.py with the other groups; re-exported for bot.admin."""

from bot.config import AdminSettings

__all__ = ["AdminSettings"]
