"""Read knowledge/checklist.yaml into a validated `Checklist`; every error names file:line and field.

The file is composed into a YAML node tree once: the tree gives each value its line, and pydantic's
error locations are walked down that tree so an admin sees the line to fix, not a traceback.
Citations are checked in a separate step (`check_citations`) so the definition can be loaded and
tested without the knowledge documents next to it.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.checklist.definition import Checklist, ChecklistError, DefinitionProblem, Loc

CHECKLIST_FILE = "checklist.yaml"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys, which plain YAML silently lets the last one win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ChecklistError(f"{{file}}:{line}: duplicate key '{key}'")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _line_of(root: yaml.Node | None, loc: Loc) -> int:
    """The 1-based line of the deepest node `loc` reaches (the parent when a field is missing)."""
    node = root
    line = (root.start_mark.line + 1) if root is not None else 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            # pydantic adds type tags (e.g. 'str', 'function-before') that are not YAML keys.
            continue
        node = child
    return line


def _field(loc: Loc) -> str:
    # '[key]' is pydantic's marker for "the key of this mapping", not a name the admin wrote.
    return ".".join(str(part) for part in loc if part != "[key]") or "(top level)"


def _describe(error: ValidationError, root: yaml.Node | None, name: str) -> str:
    lines = []
    for item in error.errors():
        loc: Loc = tuple(item["loc"])
        message = item["msg"]
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, DefinitionProblem):
            # Cross-reference problems come from the model validator at the root; use their loc.
            loc, message = cause.loc, str(cause)
        lines.append(f"{name}:{_line_of(root, loc)}: {_field(loc)}: {message}")
    return "invalid checklist definition\n" + "\n".join(lines)


def parse_checklist(text: str, name: str = CHECKLIST_FILE) -> Checklist:
    """Validate YAML text; `name` is used in messages. Raises ChecklistError naming file:line."""
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except ChecklistError as exc:
        raise ChecklistError(exc.message.replace("{file}", name)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ChecklistError(f"{name}:{line}: YAML syntax error: {problem}") from None
    if not isinstance(data, dict):
        raise ChecklistError(f"{name}:1: the checklist must be a YAML mapping")
    try:
        return Checklist.model_validate(data)
    except ValidationError as exc:
        raise ChecklistError(_describe(exc, root, name)) from None


def load_checklist(path: Path) -> Checklist:
    """Load and validate one definition file (no check of cited documents)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChecklistError(f"cannot read checklist {path}: {exc.strerror}") from None
    return parse_checklist(text, name=str(path))


def check_citations(checklist: Checklist, knowledge_dir: Path) -> None:
    """Fail with every rule or warning whose cited document is not in the knowledge folder."""
    missing = [
        f"{kind} '{item.id}' cites missing file {doc}"
        for kind, items in (("rule", checklist.rules), ("warning", checklist.warnings))
        for item in items
        for doc in item.cites
        if not (knowledge_dir / doc).is_file()
    ]
    if missing:
        raise ChecklistError(
            f"checklist cites documents not in {knowledge_dir}:\n" + "\n".join(missing)
        )


def load_from_knowledge_dir(knowledge_dir: Path) -> Checklist:
    """What the bot and the CLI use: knowledge_dir/checklist.yaml, with its citations checked."""
    checklist = load_checklist(knowledge_dir / CHECKLIST_FILE)
    check_citations(checklist, knowledge_dir)
    return checklist
