"""The gaps report as plain text: the terminal prints it, Slack escapes it and posts it. Link
free: no URLs (a question's own links are replaced) and documents named by title, not path."""

from __future__ import annotations

import re

from bot.gaps.service import GapGroup, GapReport

KIND_LABELS = {
    "no_match": "not covered",
    "not_helpful": "not helpful",
    "escalation": "escalated",
    "provisional": "verdict left provisional",
}
# Plain URLs, and Slack's own link markup (<https://...|label>) as it arrives in message text.
_URL = re.compile(r"<(?:https?|ftp|mailto):[^>]*>|\b(?:https?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE)
EXAMPLE_CHARS = 200


def link_free(text: str, limit: int = EXAMPLE_CHARS) -> str:
    cleaned = " ".join(_URL.sub("(link)", text).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def kinds_text(by_kind: dict[str, int]) -> str:
    return ", ".join(f"{KIND_LABELS.get(kind, kind)} {count}" for kind, count in by_kind.items())


def heading(report: GapReport) -> str:
    since = report.since.strftime("%Y-%m-%d %H:%M UTC")
    if report.total == 0:
        return f"No gaps since {since}."
    topics = len(report.groups)
    return (
        f"{report.total} gap{'s' if report.total != 1 else ''} since {since} "
        f"({kinds_text(report.by_kind)}) in {topics} topic{'s' if topics != 1 else ''}."
    )


def group_lines(number: int, group: GapGroup) -> list[str]:
    lines = [
        f"{number}. {group.count} × “{link_free(group.example)}” ({kinds_text(group.by_kind)})"
    ]
    others = [q for q in group.questions if q != group.example][:2]
    lines.extend(f"   also: “{link_free(question, 120)}”" for question in others)
    lines.extend(f"   said: “{link_free(reason, 120)}”" for reason in group.reasons[:2])
    if group.missing:
        lines.append(f"   left open: {', '.join(group.missing)}")
    if group.closest is None:
        lines.append("   closest document: none")
    else:
        closest = group.closest
        where = f"{closest.title} › {closest.section}" if closest.section else closest.title
        lines.append(f"   closest document: {where} (similarity {closest.similarity:.2f})")
    return lines


def report_text(report: GapReport, top: int | None = None) -> str:
    lines = [heading(report)]
    groups = report.groups if top is None else report.groups[:top]
    for number, group in enumerate(groups, start=1):
        lines.extend(group_lines(number, group))
    if top is not None and len(report.groups) > top:
        lines.append(f"… and {len(report.groups) - top} more topics (`advisor gaps`).")
    if report.pending:
        lines.append(f"{report.pending} provisional verdicts are still waiting for their facts.")
    if report.note:
        lines.append(report.note)
    return "\n".join(lines)
