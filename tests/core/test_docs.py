"""The settings reference must match the code: every variable documented, none invented."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def variables() -> set[str]:
    return {
        name for _, name, _ in load_settings(env_file=None).describe() if not name.startswith("(")
    }


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == variables()


def test_readme_settings_reference_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in variables() if f"`{name}`" not in readme)
    assert missing == []


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert first_block.strip().splitlines() == ["sh", "make run", "make test"]
