"""Qdrant being unreachable is an outage to explain, not a crash.

In server mode (`QDRANT_URL`) qdrant-client raises `ResponseHandlingException` for refused
connections and timeouts, and `UnexpectedResponse` for HTTP errors. The ones that mean "the index
cannot be reached" become `IndexUnavailableError`, whose message is safe to show in Slack and in
`advisor status`; the original stays chained for the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from bot.errors import UserFacingError

UNREACHABLE = (
    "The knowledge index (Qdrant) cannot be reached right now, so I can't answer from the "
    "guidance. Please try again in a few minutes; an admin can check it with `advisor status`."
)


class IndexUnavailableError(UserFacingError):
    """The vector index did not answer (connection refused, timeout, server error)."""

    def __init__(self) -> None:
        super().__init__(UNREACHABLE)


@contextmanager
def qdrant_reachable() -> Iterator[None]:
    try:
        yield
    except ResponseHandlingException as exc:
        raise IndexUnavailableError() from exc
    except UnexpectedResponse as exc:
        # 4xx means our request is wrong (a bug to see in the log as it is); 5xx is an outage.
        if exc.status_code is not None and exc.status_code >= 500:
            raise IndexUnavailableError() from exc
        raise
