"""deploy/docker-compose.yml: parsed and checked for the parts operations depend on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_services_volumes_and_persistence() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"advisor", "qdrant", "redis"}
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:")
    assert any(v.endswith(":/qdrant/storage") for v in services["qdrant"]["volumes"])
    redis_command = services["redis"]["command"]
    assert "--appendonly" in redis_command and "yes" in redis_command
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("..") or source in spec["volumes"], volume


def test_advisor_uses_the_servers_mounts_knowledge_and_reads_secrets_from_env_file() -> None:
    advisor = compose()["services"]["advisor"]
    assert advisor["build"]["context"] == ".."
    assert (COMPOSE.parent / advisor["build"]["context"] / advisor["build"]["dockerfile"]).is_file()
    env = advisor["environment"]
    assert env["QDRANT_URL"] == "http://qdrant:6333"
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert "../knowledge:/app/knowledge:ro" in advisor["volumes"]
    assert advisor["env_file"][0]["path"] == "../.env"
    assert set(advisor["depends_on"]) == {"qdrant", "redis"}
    # No secret is written in the file itself.
    text = COMPOSE.read_text()
    for name in ("SLACK_BOT_TOKEN:", "SLACK_SIGNING_SECRET:", "OPENAI_API_KEY:", "xoxb-"):
        assert name not in text
