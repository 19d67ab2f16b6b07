"""The text admins see in chat (Slack mrkdwn), as pure functions of the results."""

from __future__ import annotations

from bot.admin.gate import GateResult
from bot.admin.lock import LockHolder
from bot.admin.service import AdminStatus, ReindexResult, RollbackResult
from bot.retrieval.index.port import IndexInfo
from bot.retrieval.indexer import ReindexReport

ADMIN_COMMAND = "/finetune-admin"
HELP = (
    f"*{ADMIN_COMMAND}* — advisor administration (admins only)\n"
    f"• `{ADMIN_COMMAND} reindex` — rebuild the index from the knowledge folder; questions are "
    "answered from the current index until the new one passes the quality gate\n"
    f"• `{ADMIN_COMMAND} reindex --dry-run` — show what would change, touch nothing\n"
    f"• `{ADMIN_COMMAND} rollback` — go back to the previous index\n"
    f"• `{ADMIN_COMMAND} status` — index version, health, recent feedback\n"
    f"• `{ADMIN_COMMAND} gaps [--since 7d]` — what the guidance missed, grouped by topic\n"
    f"• `{ADMIN_COMMAND} help` — this message"
)
REFUSED = "Sorry, only advisor admins can use this command."
_STAGES = {
    "scan": "Reading the knowledge folder",
    "embed": "Embedding",
    "write": "Writing",
    "gate": "Checking quality",
    "publish": "Publishing",
}
_SKIPPED_SHOWN = 10


def _escape(text: str) -> str:
    # File names and reasons come from the folder; Slack must not read them as markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def who(user: str) -> str:
    return user if user in ("cli", "") else f"<@{user}>"


def progress_text(by: str, stage: str, done: int, total: int, dry_run: bool) -> str:
    kind = "Dry-run reindex" if dry_run else "Reindex"
    label = _STAGES.get(stage, stage)
    return f":hourglass_flowing_sand: {kind} started by {who(by)}: {label}… {done}/{total}"


def report_lines(report: ReindexReport) -> list[str]:
    lines = [
        f"• added {report.added}, changed {report.changed}, removed {report.removed}, "
        f"unchanged {report.unchanged} chunks ({report.documents} documents, "
        f"{report.chunks} chunks; {report.embedded} embedded)",
        f"• took {report.duration_seconds:.1f}s",
    ]
    if report.skipped:
        lines.append(f"• skipped {len(report.skipped)} file(s):")
        lines.extend(
            f"    ◦ `{_escape(item.source)}`: {_escape(item.reason)}"
            for item in report.skipped[:_SKIPPED_SHOWN]
        )
        if len(report.skipped) > _SKIPPED_SHOWN:
            lines.append(f"    ◦ … and {len(report.skipped) - _SKIPPED_SHOWN} more")
    return lines


def gate_line(gate: GateResult | None) -> str:
    if gate is None:
        return "• quality gate: not run (no questions.yaml in the knowledge folder)"
    live = "no comparable live index" if gate.live_hit is None else f"live {gate.live_hit:.2f}"
    return f"• quality gate: hit@{gate.k} {gate.candidate_hit:.2f} ({live}) — passed"


def reindex_summary(by: str, result: ReindexResult) -> str:
    report = result.report
    if report.dry_run:
        head = (
            f":mag: Dry run by {who(by)}: this is what a reindex would change. Nothing was touched."
        )
        return "\n".join([head, *report_lines(report)])
    if not report.published:
        head = (
            f":white_check_mark: Reindex by {who(by)}: nothing changed in the knowledge folder. "
            f"Index version *{report.version}* is still live."
        )
        return "\n".join([head, *report_lines(report)])
    head = (
        f":white_check_mark: Reindex by {who(by)} done. Index version *{report.version}* is live."
    )
    notes = [f"• {_escape(note)}" for note in result.notes]
    return "\n".join([head, *report_lines(report), gate_line(result.gate), *notes])


def failure_text(by: str, reason: str) -> str:
    return (
        f":x: Reindex by {who(by)} failed: {_escape(reason)}\n"
        "The previous index is still answering questions."
    )


def rollback_text(by: str, result: RollbackResult) -> str:
    return f":leftwards_arrow_with_hook: {who(by)} rolled back. {_index_line(result.live)}"


def _index_line(info: IndexInfo) -> str:
    built_by = f" by {who(info.built_by)}" if info.built_by else ""
    return f"Live index version *{info.version}*, built {info.built_at or '?'}{built_by}."


def status_text(status: AdminStatus) -> str:
    lines = ["*Advisor status*"]
    if status.index is None:
        lines.append("• index: none yet (run `/finetune-admin reindex`)")
    else:
        lines.append("• " + _index_line(status.index))
        lines.append(
            f"• {status.index.documents} documents, {status.index.chunks} chunks, "
            f"embedder `{status.index.embedder}`, {status.backend} index"
        )
        if status.previous is not None:
            lines.append(f"• rollback target: version *{status.previous.version}*")
    if status.problem and status.index is not None:
        lines.append(f"• :warning: {_escape(status.problem)}")
    lines.append(f"• configured embedder: `{status.embedder}`")
    for check in status.checks:
        mark = ":large_green_circle:" if check.ok else ":red_circle:"
        lines.append(f"• {mark} {check.name}: {_escape(check.detail)}")
    if status.feedback:
        counts = ", ".join(f"{rating} {n}" for rating, n in sorted(status.feedback.items()))
        lines.append(f"• recent feedback: {counts}")
    else:
        lines.append("• recent feedback: none")
    if status.running is not None:
        lines.append(f"• reindex running: {running_text(status.running)}")
    return "\n".join(lines)


def running_text(holder: LockHolder) -> str:
    return f"started by {who(holder.owner)} at {holder.started_at} UTC on {holder.host}"


def unknown_reindex_argument(word: str) -> str:
    shown = word[:40].replace("`", "'")
    return (
        f"`{shown}` is not an option of reindex. Reindex always reads the configured knowledge "
        "folder; its only option is `--dry-run`."
    )
