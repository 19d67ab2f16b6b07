"""A small error hierarchy. `UserFacingError.message` is always safe to show to a user."""

from __future__ import annotations

import secrets


class AdvisorError(Exception):
    """Base class for errors raised on purpose by the advisor."""


class UserFacingError(AdvisorError):
    """An error whose text names the problem and is safe to show (no secrets, no internals)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(UserFacingError):
    """A setting is missing or has a bad value; the message names the environment variable."""


class IndexMissingError(UserFacingError):
    """There is no live index yet."""


class EmbedderMismatchError(UserFacingError):
    """The live index was built by another embedder than the one configured."""


class IndexLockedError(UserFacingError):
    """Another process holds the embedded index."""


class LLMUnavailableError(AdvisorError):
    """The chat endpoint failed after its retries; callers fall back to extractive answers."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnreadableFileError(AdvisorError):
    """A knowledge file cannot be ingested; `reason` goes into the reindex report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_error_id() -> str:
    """A short id to show users and to find the full error in the logs."""
    return secrets.token_hex(4)
