"""Typed settings, grouped by concern, read from the environment and an optional `.env`.

Nothing here runs at import time: `load_settings()` is called once by the composition root or the
CLI. A bad value raises `ConfigError` naming the environment variable, never a pydantic dump.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

EmbedderName = Literal["local", "openai"]
ReaderChoice = Literal["auto", "offline", "llm"]


def _env(name: str) -> Any:
    """Bind a field to exactly one environment variable (case-insensitive) or its field name."""
    return AliasChoices(name)


def _require_http(value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")


def _optional_http_url(value: str | None) -> str | None:
    if value:
        _require_http(value)
    return value or None


def _split_ids(value: object) -> object:
    # Env values arrive as "C1,C2"; Python callers may pass any iterable of ids.
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    return value


# An http(s) URL, or unset (an empty value counts as unset).
OptionalHttpUrl = Annotated[str | None, AfterValidator(_optional_http_url)]
# Comma-separated Slack ids; NoDecode keeps pydantic-settings from expecting JSON.
IdSet = Annotated[frozenset[str], NoDecode, BeforeValidator(_split_ids)]


class _Group(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", populate_by_name=True, frozen=True
    )


class CoreSettings(_Group):
    knowledge_dir: Path = Field(Path("knowledge"), validation_alias=_env("ADVISOR_KNOWLEDGE_DIR"))
    data_dir: Path = Field(Path(".data"), validation_alias=_env("ADVISOR_DATA_DIR"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", validation_alias=_env("ADVISOR_LOG_LEVEL")
    )
    log_json: bool = Field(False, validation_alias=_env("ADVISOR_LOG_JSON"))

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class RetrievalSettings(_Group):
    collection: str = Field(
        "advisor", pattern=r"^[a-zA-Z0-9_-]{1,64}$", validation_alias=_env("ADVISOR_COLLECTION")
    )
    top_k: int = Field(5, ge=1, le=20, validation_alias=_env("ADVISOR_TOP_K"))
    # Cosine similarity of the best dense hit below which we say the guidance does not cover the
    # question. Calibrated on knowledge/questions.yaml (see README, "Answer quality").
    min_score: float = Field(0.22, ge=0.0, le=1.0, validation_alias=_env("ADVISOR_MIN_SCORE"))
    chunk_chars: int = Field(1200, ge=200, le=8000, validation_alias=_env("ADVISOR_CHUNK_CHARS"))
    max_file_bytes: int = Field(
        5_000_000, ge=1_000, validation_alias=_env("ADVISOR_MAX_FILE_BYTES")
    )
    max_question_chars: int = Field(
        2000, ge=50, le=20_000, validation_alias=_env("ADVISOR_MAX_QUESTION_CHARS")
    )
    # An optional cross-encoder service (Jina / Cohere rerank API) that reorders the fused top
    # `rerank_candidates` passages of every hybrid query; unset, the fused order is final.
    rerank_url: OptionalHttpUrl = Field(None, validation_alias=_env("ADVISOR_RERANK_URL"))
    rerank_model: str | None = Field(None, validation_alias=_env("ADVISOR_RERANK_MODEL"))
    rerank_api_key: SecretStr | None = Field(None, validation_alias=_env("ADVISOR_RERANK_API_KEY"))
    rerank_candidates: int = Field(
        20, ge=2, le=100, validation_alias=_env("ADVISOR_RERANK_CANDIDATES")
    )
    rerank_timeout_seconds: float = Field(
        5.0, gt=0, le=60, validation_alias=_env("ADVISOR_RERANK_TIMEOUT")
    )


class QdrantSettings(_Group):
    url: OptionalHttpUrl = Field(None, validation_alias=_env("QDRANT_URL"))
    api_key: SecretStr | None = Field(None, validation_alias=_env("QDRANT_API_KEY"))


class RedisSettings(_Group):
    url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    memory_ttl_seconds: int = Field(
        7 * 24 * 3600, ge=60, validation_alias=_env("ADVISOR_MEMORY_TTL_SECONDS")
    )
    memory_max_turns: int = Field(
        12, ge=2, le=200, validation_alias=_env("ADVISOR_MEMORY_MAX_TURNS")
    )
    memory_max_tokens: int = Field(
        3000, ge=200, le=100_000, validation_alias=_env("ADVISOR_MEMORY_MAX_TOKENS")
    )
    checklist_ttl_days: int = Field(
        14, ge=1, le=365, validation_alias=_env("ADVISOR_CHECKLIST_TTL_DAYS")
    )
    # Completed decisions (with their follow-up and its answer) are kept this long; it must
    # outlast ADVISOR_FOLLOWUP_DAYS or the answer would have no decision to join.
    decision_ttl_days: int = Field(
        365, ge=1, le=3650, validation_alias=_env("ADVISOR_DECISION_TTL_DAYS")
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None


class LLMSettings(_Group):
    api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    base_url: OptionalHttpUrl = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    chat_model: str = Field(
        "gpt-4o-mini", min_length=1, validation_alias=_env("ADVISOR_CHAT_MODEL")
    )
    timeout_seconds: float = Field(30.0, gt=0, le=600, validation_alias=_env("ADVISOR_LLM_TIMEOUT"))
    max_retries: int = Field(2, ge=0, le=10, validation_alias=_env("ADVISOR_LLM_MAX_RETRIES"))
    temperature: float = Field(0.2, ge=0, le=2, validation_alias=_env("ADVISOR_LLM_TEMPERATURE"))
    # How a situation is read from a message: `auto` uses the chat model when one is configured
    # (falling back to the offline reader on any failure) and the offline reader otherwise.
    situation_reader: ReaderChoice = Field(
        "auto", validation_alias=_env("ADVISOR_SITUATION_READER")
    )
    reader_timeout_seconds: float = Field(
        8.0, gt=0, le=120, validation_alias=_env("ADVISOR_SITUATION_READER_TIMEOUT")
    )

    @property
    def reads_with_llm(self) -> bool:
        return self.enabled and self.situation_reader in ("auto", "llm")

    @property
    def enabled(self) -> bool:
        return self.api_key is not None and bool(self.api_key.get_secret_value())


class EmbeddingSettings(_Group):
    # Unset means: `openai` when OPENAI_API_KEY is set, otherwise `local`.
    provider: EmbedderName | None = Field(None, validation_alias=_env("ADVISOR_EMBEDDER"))
    openai_model: str = Field(
        "text-embedding-3-small", min_length=1, validation_alias=_env("ADVISOR_EMBED_MODEL")
    )
    # Defaults to OPENAI_BASE_URL; set when embeddings come from a different server.
    base_url: str | None = Field(None, validation_alias=_env("ADVISOR_EMBED_BASE_URL"))
    batch_size: int = Field(64, ge=1, le=2048, validation_alias=_env("ADVISOR_EMBED_BATCH_SIZE"))


# What each Slack token prefix is, to say which token was put in the wrong variable.
_SLACK_TOKEN_KINDS = {
    "xoxb-": "a bot token (it belongs in SLACK_BOT_TOKEN)",
    "xapp-": "an app-level token (it belongs in SLACK_APP_TOKEN)",
    "xoxp-": "a user token",
    "xoxe": "a token rotation token",
}


def _slack_token(prefix: str, kind: str) -> Any:
    """A validator: unset when empty, else it must start with `prefix`. The message may show a
    prefix (which kind of token was given) but never the token itself."""

    def check(value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        token = value.get_secret_value()
        if token.startswith(prefix):
            return value
        given = next(
            (name for start, name in _SLACK_TOKEN_KINDS.items() if token.startswith(start)),
            "not a Slack token",
        )
        raise ValueError(f"must be {kind} starting with {prefix}…; the value given is {given}")

    return AfterValidator(check)


def _channel_id(value: str | None) -> str | None:
    if value and not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
        raise ValueError("must be a Slack channel id such as C0123ABCD (not a #name)")
    return value or None


SlackChannelId = Annotated[str | None, AfterValidator(_channel_id)]
# Unset when empty; a value of the wrong kind stops the start with a message naming the variable.
BotToken = Annotated[SecretStr | None, _slack_token("xoxb-", "a bot token")]
AppToken = Annotated[SecretStr | None, _slack_token("xapp-", "an app-level token")]


class SlackSettings(_Group):
    bot_token: BotToken = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    app_token: AppToken = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    signing_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    host: str = Field("0.0.0.0", validation_alias=_env("ADVISOR_HOST"))
    port: int = Field(3000, ge=1, le=65535, validation_alias=_env("ADVISOR_PORT"))
    # On SIGTERM/SIGINT, answers in flight get this long to finish before they are cancelled
    # (visibly). Well under Kubernetes' 30 s, leaving time to close Redis and the index.
    shutdown_grace_seconds: float = Field(
        10.0, ge=0, le=300, validation_alias=_env("ADVISOR_SHUTDOWN_GRACE_SECONDS")
    )

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        _require_http(value)
        return value if value.endswith("/") else value + "/"

    @property
    def configured(self) -> bool:
        return self.bot_token is not None


MAX_FOLLOWUP_DAYS = 120  # chat.scheduleMessage refuses post_at further ahead (time_too_far)


class SlackBehaviour(_Group):
    """Channel noise settings.

    Mention-only is the default everywhere: a channel message is answered only when it mentions
    the bot or sits in a thread the bot already answered. Channels in `channel_allowlist` are
    "ask here" channels where every new top-level message is answered without a mention.
    """

    channel_allowlist: IdSet = Field(
        frozenset(), validation_alias=_env("ADVISOR_SLACK_CHANNEL_ALLOWLIST")
    )
    ignore_bots: bool = Field(True, validation_alias=_env("ADVISOR_SLACK_IGNORE_BOTS"))
    thread_ttl_seconds: int = Field(
        7 * 24 * 3600, ge=60, validation_alias=_env("ADVISOR_SLACK_THREAD_TTL_SECONDS")
    )
    dedupe_ttl_seconds: int = Field(
        3600, ge=60, validation_alias=_env("ADVISOR_SLACK_DEDUPE_TTL_SECONDS")
    )
    reaction: str = Field("hourglass_flowing_sand", validation_alias=_env("ADVISOR_SLACK_REACTION"))
    # Days after a checklist decision that Slack posts the follow-up ("what did you do, how did
    # it go?"); 0 turns follow-ups off. chat.scheduleMessage takes at most 120 days ahead.
    followup_days: int = Field(30, validation_alias=_env("ADVISOR_FOLLOWUP_DAYS"))

    @field_validator("followup_days")
    @classmethod
    def _schedulable(cls, value: int) -> int:
        if not 0 <= value <= MAX_FOLLOWUP_DAYS:
            raise ValueError(
                f"must be 0 (off) or 1-{MAX_FOLLOWUP_DAYS} days: Slack schedules messages "
                f"at most {MAX_FOLLOWUP_DAYS} days ahead"
            )
        return value

    @field_validator("reaction")
    @classmethod
    def _bare_name(cls, value: str) -> str:
        return value.strip().strip(":") or "hourglass_flowing_sand"


class AdminSettings(_Group):
    # Slack user ids allowed to run /finetune-admin, e.g. "U012ABC,U034DEF".
    admin_user_ids: IdSet = Field(frozenset(), validation_alias=_env("ADVISOR_ADMIN_USER_IDS"))
    # Also trust the workspace's admins and owners (checked with users.info on each command).
    admins_include_workspace_admins: bool = Field(
        False, validation_alias=_env("ADVISOR_ADMINS_INCLUDE_WORKSPACE_ADMINS")
    )
    # A new index is published only if its hit@3 is at most this much below the live one's.
    quality_gate_margin: float = Field(
        0.05, ge=0.0, le=1.0, validation_alias=_env("ADVISOR_QUALITY_GATE_MARGIN")
    )
    # Side port for /healthz, /readyz and /metrics in Socket Mode; 0 disables it.
    health_port: int = Field(8080, ge=0, le=65535, validation_alias=_env("ADVISOR_HEALTH_PORT"))
    # The reindex lock expires this long after its owner stops refreshing it (a crashed replica).
    reindex_lock_ttl_seconds: int = Field(
        60, ge=5, le=3600, validation_alias=_env("ADVISOR_REINDEX_LOCK_TTL_SECONDS")
    )
    # Where messages for the admins go (the weekly gaps digest); unset: none are posted.
    admin_channel_id: SlackChannelId = Field(
        None, validation_alias=_env("ADVISOR_ADMIN_CHANNEL_ID")
    )


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _weekday(value: object) -> object:
    # "Monday", "MON" and "mon" all mean "mon".
    return value.strip().casefold()[:3] if isinstance(value, str) else value


class GapSettings(_Group):
    """What the guidance misses (bot/gaps): how long gaps are kept, how they are grouped, and
    when the weekly digest goes to ADVISOR_ADMIN_CHANNEL_ID."""

    ttl_days: int = Field(90, ge=1, le=365, validation_alias=_env("ADVISOR_GAPS_TTL_DAYS"))
    max_records: int = Field(
        2000, ge=10, le=20_000, validation_alias=_env("ADVISOR_GAPS_MAX_RECORDS")
    )
    # A provisional verdict becomes a gap when no later answer in its conversation supplies
    # any of its missing facts within this many hours.
    pending_hours: int = Field(
        24, ge=1, le=720, validation_alias=_env("ADVISOR_GAPS_PENDING_HOURS")
    )
    # Questions whose embeddings are at least this similar on average are one topic.
    group_similarity: float = Field(
        0.25, gt=0.0, lt=1.0, validation_alias=_env("ADVISOR_GAPS_GROUP_SIMILARITY")
    )
    digest_day: Annotated[Weekday, BeforeValidator(_weekday)] = Field(
        "mon", validation_alias=_env("ADVISOR_GAPS_DIGEST_DAY")
    )
    digest_hour: int = Field(9, ge=0, le=23, validation_alias=_env("ADVISOR_GAPS_DIGEST_HOUR"))


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


def _user_ids(value: frozenset[str]) -> frozenset[str]:
    bad = sorted(user_id for user_id in value if not _USER_ID.fullmatch(user_id))
    if bad:
        raise ValueError(
            f"must be Slack user ids such as U012ABCDEF, comma-separated; not {', '.join(bad)}"
        )
    return value


def _slack_id(pattern: re.Pattern[str], example: str) -> Any:
    """A validator: unset when empty, else it must look like `example` (an id, not a name)."""

    def check(value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if not pattern.fullmatch(value):
            raise ValueError(f"must be a Slack id such as {example} (not a name or a mention)")
        return value

    return AfterValidator(check)


class EscalationSettings(_Group):
    """Who "Ask an expert" calls. With neither experts nor a group, there is no button."""

    # Slack user ids of the experts, e.g. "U012ABC,U034DEF".
    expert_user_ids: Annotated[IdSet, AfterValidator(_user_ids)] = Field(
        frozenset(), validation_alias=_env("ADVISOR_EXPERT_USER_IDS")
    )
    # A Slack user group (S...) whose members are experts; needs the usergroups:read scope.
    expert_group_id: Annotated[str | None, _slack_id(_GROUP_ID, "S012ABCDEF")] = Field(
        None, validation_alias=_env("ADVISOR_EXPERT_GROUP_ID")
    )
    # A channel where every escalation is also listed, with a link to its thread.
    channel_id: Annotated[str | None, _slack_id(_CHANNEL_ID, "C012ABCDEF")] = Field(
        None, validation_alias=_env("ADVISOR_ESCALATION_CHANNEL")
    )
    ttl_days: int = Field(90, ge=1, le=365, validation_alias=_env("ADVISOR_ESCALATION_TTL_DAYS"))

    @property
    def configured(self) -> bool:
        return bool(self.expert_user_ids) or self.expert_group_id is not None


class Settings:
    """All groups together. Built by `load_settings`; plain attribute access afterwards."""

    def __init__(
        self,
        core: CoreSettings,
        retrieval: RetrievalSettings,
        qdrant: QdrantSettings,
        redis: RedisSettings,
        llm: LLMSettings,
        embedding: EmbeddingSettings,
        slack: SlackSettings,
        slack_behaviour: SlackBehaviour,
        admin: AdminSettings,
        escalation: EscalationSettings,
        gaps: GapSettings | None = None,
    ) -> None:
        self.core = core
        self.retrieval = retrieval
        self.qdrant = qdrant
        self.redis = redis
        self.llm = llm
        self.embedding = embedding
        self.slack = slack
        self.slack_behaviour = slack_behaviour
        self.admin = admin
        self.escalation = escalation
        self.gaps = gaps or GapSettings()

    @property
    def embedder(self) -> EmbedderName:
        if self.embedding.provider is not None:
            return self.embedding.provider
        return "openai" if self.llm.enabled else "local"

    def groups(self) -> dict[str, _Group]:
        return {
            "core": self.core,
            "retrieval": self.retrieval,
            "qdrant": self.qdrant,
            "redis": self.redis,
            "llm": self.llm,
            "embedding": self.embedding,
            "slack": self.slack,
            "slack_behaviour": self.slack_behaviour,
            "admin": self.admin,
            "escalation": self.escalation,
            "gaps": self.gaps,
        }

    def describe(self) -> list[tuple[str, str, str]]:
        """(group, ENV_NAME, value) for every setting, secrets redacted."""
        rows: list[tuple[str, str, str]] = []
        for group_name, group in self.groups().items():
            for field_name, info in type(group).model_fields.items():
                value = getattr(group, field_name)
                rows.append((group_name, env_name(info, field_name), _redact(value)))
        rows.append(("embedding", "(effective embedder)", self.embedder))
        return rows


_GROUP_TYPES: dict[str, type[_Group]] = {
    "core": CoreSettings,
    "retrieval": RetrievalSettings,
    "qdrant": QdrantSettings,
    "redis": RedisSettings,
    "llm": LLMSettings,
    "embedding": EmbeddingSettings,
    "slack": SlackSettings,
    "slack_behaviour": SlackBehaviour,
    "admin": AdminSettings,
    "escalation": EscalationSettings,
    "gaps": GapSettings,
}


def env_name(info: FieldInfo, field_name: str) -> str:
    alias = info.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return field_name.upper()


_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@]*:)[^@]*@", re.IGNORECASE)


def mask_url_password(text: str) -> str:
    """`redis://user:secret@host` -> `redis://user:********@host`: URLs may carry passwords."""
    return _URL_PASSWORD.sub(r"\1********@", text)


def _redact(value: object) -> str:
    if isinstance(value, SecretStr):
        return "********" if value.get_secret_value() else "(empty)"
    if value is None:
        return "(unset)"
    if isinstance(value, frozenset):
        return ",".join(sorted(value)) or "(empty)"
    return mask_url_password(str(value))


def load_settings(env_file: Path | str | None = ".env", **overrides: Any) -> Settings:
    """Read every group from the environment and `env_file` (if it exists).

    `overrides` maps group name to a dict of field values, for tests and CLI flags.
    """
    env_path = Path(env_file) if env_file else None
    use_file = env_path if env_path is not None and env_path.is_file() else None
    built: dict[str, Any] = {}
    problems: list[str] = []
    for name, group_type in _GROUP_TYPES.items():
        try:
            built[name] = group_type(_env_file=use_file, **overrides.get(name, {}))
        except ValidationError as exc:
            problems.extend(_explain(group_type, exc))
    llm = built.get("llm")
    if isinstance(llm, LLMSettings) and llm.situation_reader == "llm" and not llm.enabled:
        problems.append("ADVISOR_SITUATION_READER: 'llm' needs a chat model (set OPENAI_API_KEY)")
    redis, behaviour = built.get("redis"), built.get("slack_behaviour")
    if (
        isinstance(redis, RedisSettings)
        and isinstance(behaviour, SlackBehaviour)
        and redis.decision_ttl_days <= behaviour.followup_days
    ):
        problems.append(
            f"ADVISOR_DECISION_TTL_DAYS: {redis.decision_ttl_days} days must be more than "
            f"ADVISOR_FOLLOWUP_DAYS ({behaviour.followup_days}), or decisions are gone before "
            "their follow-up is answered"
        )
    escalation = built.get("escalation")
    lonely_channel = (
        isinstance(escalation, EscalationSettings)
        and escalation.channel_id is not None
        and not escalation.configured
    )
    if lonely_channel:
        problems.append(
            "ADVISOR_ESCALATION_CHANNEL: set, but there are no experts to call "
            "(set ADVISOR_EXPERT_USER_IDS or ADVISOR_EXPERT_GROUP_ID)"
        )
    if problems:
        raise ConfigError("Invalid setting: " + "; ".join(problems))
    return Settings(**built)


def _explain(group_type: type[_Group], exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        field_name = str(error["loc"][0]) if error["loc"] else ""
        info = group_type.model_fields.get(field_name)
        name = env_name(info, field_name) if info else field_name.upper()
        if not info:
            # With AliasChoices pydantic reports the alias itself.
            name = field_name
        raw = os.environ.get(name)
        secret = any(word in name for word in ("KEY", "SECRET", "TOKEN"))
        shown = "" if raw is None or secret else f" (got {mask_url_password(raw)!r})"
        problems.append(f"{name}: {error['msg']}{shown}")
    return problems
