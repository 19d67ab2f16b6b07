"""The Dockerfile, checked statically (no Docker engine here): multi-stage, non-root, small."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, args = stripped.partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, args in instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, args))
    return found


def test_multi_stage_with_a_non_root_final_stage_and_a_healthcheck() -> None:
    built = stages()
    assert len(built) >= 2
    final = built[-1]
    assert final[0][1].endswith("AS runtime")
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    health = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0]
    # The exec-form command is valid JSON and valid Python.
    command = json.loads(health[0][health[0].index("CMD") + 3 :].strip())
    compile(command[-1], "healthcheck", "exec")
    assert ("ENTRYPOINT", '["advisor"]') in final


def test_no_build_tools_or_caches_in_the_final_stage() -> None:
    final_text = " ".join(args for _, args in stages()[-1]).lower()
    for tool in ("gcc", "build-essential", "apt-get install", "g++", "make "):
        assert tool not in final_text
    copies = [args for keyword, args in stages()[-1] if keyword == "COPY"]
    assert any(args.startswith("--from=build /opt/venv") for args in copies)
    assert not any(re.search(r"(^|\s)\.\s", args + " ") for args in copies)  # no `COPY . .`


def test_local_variant_pins_cpu_torch() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG EMBEDDER=openai" in text
    assert '"torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu' in text
    # An unpinned torch (which pulls CUDA) is never installed.
    assert not re.search(r"pip install[^\n]*\btorch\b(?!==)", text)


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".data", ".git"} <= ignored
    assert "knowledge" not in ignored and "bot" not in ignored
