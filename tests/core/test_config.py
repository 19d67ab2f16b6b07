import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings, mask_url_password
from bot.errors import ConfigError

ADVISOR = [sys.executable, "-m", "bot"]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "OPENAI_", "SLACK_", "QDRANT_", "REDIS_"))
    }
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("ADVISOR_PORT", "abc", "ADVISOR_PORT"),
        ("ADVISOR_TOP_K", "0", "ADVISOR_TOP_K"),
        ("ADVISOR_MIN_SCORE", "2", "ADVISOR_MIN_SCORE"),
        ("REDIS_URL", "http://nope", "REDIS_URL"),
        ("QDRANT_URL", "localhost:6333", "QDRANT_URL"),
        ("ADVISOR_EMBEDDER", "word2vec", "ADVISOR_EMBEDDER"),
        ("ADVISOR_LOG_LEVEL", "LOUD", "ADVISOR_LOG_LEVEL"),
        ("ADVISOR_EXPERT_USER_IDS", "U012ABC,alice", "not alice"),
        ("ADVISOR_EXPERT_USER_IDS", "<@U012ABC>", "ADVISOR_EXPERT_USER_IDS"),
        ("ADVISOR_EXPERT_GROUP_ID", "@ml-experts", "ADVISOR_EXPERT_GROUP_ID"),
        ("ADVISOR_EXPERT_GROUP_ID", "U012ABC", "such as S012ABCDEF"),
        ("ADVISOR_ESCALATION_CHANNEL", "#experts", "ADVISOR_ESCALATION_CHANNEL"),
        ("ADVISOR_ESCALATION_TTL_DAYS", "0", "ADVISOR_ESCALATION_TTL_DAYS"),
        ("ADVISOR_RERANK_URL", "reranker:8000/v1/rerank", "ADVISOR_RERANK_URL"),
        ("ADVISOR_RERANK_CANDIDATES", "1", "ADVISOR_RERANK_CANDIDATES"),
        ("ADVISOR_RERANK_TIMEOUT", "0", "ADVISOR_RERANK_TIMEOUT"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert fragment in caught.value.message


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_PORT", "abc")
    monkeypatch.setenv("ADVISOR_TOP_K", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert "ADVISOR_PORT" in caught.value.message
    assert "ADVISOR_TOP_K" in caught.value.message


def test_secret_values_never_appear_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "ftp://x")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-value")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert "sk-very-secret-value" not in caught.value.message


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ADVISOR_TOP_K=7\nADVISOR_COLLECTION=from_file\n")
    monkeypatch.setenv("ADVISOR_COLLECTION", "from_env")
    settings = load_settings(env_file=env_file)
    assert settings.retrieval.top_k == 7
    assert settings.retrieval.collection == "from_env"


def test_embedder_defaults_follow_the_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ADVISOR_EMBEDDER", raising=False)
    assert load_settings(env_file=None).embedder == "local"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert load_settings(env_file=None).embedder == "openai"
    monkeypatch.setenv("ADVISOR_EMBEDDER", "local")
    assert load_settings(env_file=None).embedder == "local"


def test_advisor_config_redacts_secrets(tmp_path: Path) -> None:
    env = _clean_env(
        OPENAI_API_KEY="sk-top-secret",
        SLACK_BOT_TOKEN="xoxb-top-secret",
        SLACK_SIGNING_SECRET="signing-top-secret",
        QDRANT_API_KEY="qdrant-top-secret",
        ADVISOR_RERANK_API_KEY="rerank-top-secret",
        ADVISOR_TOP_K="4",
        COLUMNS="200",
    )
    result = subprocess.run(
        [*ADVISOR, "config"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "top-secret" not in result.stdout + result.stderr
    assert "OPENAI_API_KEY" in result.stdout
    assert "********" in result.stdout
    assert "ADVISOR_TOP_K" in result.stdout


def test_advisor_fails_at_start_naming_the_bad_variable(tmp_path: Path) -> None:
    env = _clean_env(ADVISOR_PORT="not-a-port", COLUMNS="200")
    result = subprocess.run(
        [*ADVISOR, "config"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "ADVISOR_PORT" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-1234-user-token", "a user token"),
        ("SLACK_BOT_TOKEN", "xapp-1-A0-app-token", "belongs in SLACK_APP_TOKEN"),
        ("SLACK_BOT_TOKEN", "not-a-token-at-all", "not a Slack token"),
        ("SLACK_APP_TOKEN", "xoxb-1234-bot-token", "belongs in SLACK_BOT_TOKEN"),
        ("SLACK_APP_TOKEN", "xoxp-1234-user-token", "a user token"),
    ],
)
def test_a_slack_token_of_the_wrong_kind_is_rejected_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1234-bot-token")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    message = caught.value.message
    assert message.startswith(f"Invalid setting: {variable}: ")
    assert named in message
    assert value not in message  # which kind of token, never the token


def test_slack_tokens_of_the_right_kind_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1234-bot-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-app-token")
    slack = load_settings(env_file=None).slack
    assert slack.bot_token is not None and slack.app_token is not None
    assert slack.bot_token.get_secret_value() == "xoxb-1234-bot-token"
    assert slack.app_token.get_secret_value() == "xapp-1-A0-app-token"
    monkeypatch.setenv("SLACK_APP_TOKEN", "")  # empty means unset: HTTP mode
    assert load_settings(env_file=None).slack.app_token is None


def test_advisor_serve_with_a_user_token_stops_at_start(tmp_path: Path) -> None:
    env = _clean_env(SLACK_BOT_TOKEN="xoxp-1234-user-secret", SLACK_SIGNING_SECRET="s")
    result = subprocess.run(
        [*ADVISOR, "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and "xoxb-" in result.stderr
    assert "user-secret" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".data").exists()  # nothing was started


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://advisor:s3cret@10.0.0.5:6379/0", "redis://advisor:********@10.0.0.5:6379/0"),
        ("rediss://:s3cret@cache:6380", "rediss://:********@cache:6380"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("https://qdrant.internal:6333", "https://qdrant.internal:6333"),
        ("unix:///tmp/redis.sock", "unix:///tmp/redis.sock"),
    ],
)
def test_url_passwords_are_masked(url: str, shown: str) -> None:
    assert mask_url_password(url) == shown


@pytest.mark.parametrize(
    ("followup", "ttl", "fragment"),
    [
        ("121", None, "ADVISOR_FOLLOWUP_DAYS: Value error, must be 0 (off) or 1-120 days"),
        ("-1", None, "Slack schedules messages at most 120 days ahead (got '-1')"),
        ("soon", None, "ADVISOR_FOLLOWUP_DAYS: Input should be a valid integer"),
        (None, "0", "ADVISOR_DECISION_TTL_DAYS: Input should be greater than or equal to 1"),
        ("60", "60", "ADVISOR_DECISION_TTL_DAYS: 60 days must be more than ADVISOR_FOLLOWUP_DAYS"),
        (None, "20", "ADVISOR_DECISION_TTL_DAYS: 20 days must be more than ADVISOR_FOLLOWUP_DAYS"),
    ],
)
def test_followup_settings_are_validated(
    monkeypatch: pytest.MonkeyPatch, followup: str | None, ttl: str | None, fragment: str
) -> None:
    if followup is not None:
        monkeypatch.setenv("ADVISOR_FOLLOWUP_DAYS", followup)
    if ttl is not None:
        monkeypatch.setenv("ADVISOR_DECISION_TTL_DAYS", ttl)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert fragment in caught.value.message


def test_followups_default_to_30_days_and_0_turns_them_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = load_settings(env_file=None)
    assert (defaults.slack_behaviour.followup_days, defaults.redis.decision_ttl_days) == (30, 365)
    monkeypatch.setenv("ADVISOR_FOLLOWUP_DAYS", "0")
    monkeypatch.setenv("ADVISOR_DECISION_TTL_DAYS", "1")
    off = load_settings(env_file=None)
    assert (off.slack_behaviour.followup_days, off.redis.decision_ttl_days) == (0, 1)


def test_expert_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_EXPERT_USER_IDS", " U012ABC , W034DEF ")
    monkeypatch.setenv("ADVISOR_EXPERT_GROUP_ID", "S0EXPERTS")
    monkeypatch.setenv("ADVISOR_ESCALATION_CHANNEL", "C0EXPERTS")
    escalation = load_settings(env_file=None).escalation
    assert escalation.expert_user_ids == {"U012ABC", "W034DEF"}
    assert (escalation.expert_group_id, escalation.channel_id) == ("S0EXPERTS", "C0EXPERTS")
    assert escalation.configured


def test_no_experts_means_escalation_is_off() -> None:
    assert not load_settings(env_file=None).escalation.configured


def test_an_escalation_channel_without_experts_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_ESCALATION_CHANNEL", "C0EXPERTS")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert "ADVISOR_ESCALATION_CHANNEL" in caught.value.message
    assert "ADVISOR_EXPERT_USER_IDS" in caught.value.message
