"""Reading stored records back from Redis: one place for the bytes-or-str reply and for a
record that no longer validates (an older format, a hand edit), which reads as missing."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def load_record(model: type[M], raw: bytes | str | None) -> M | None:
    """`raw` validated as `model`; None when it is missing or unreadable."""
    if raw is None:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError:
        return None
