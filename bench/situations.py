"""Situation reading in `make bench`: outcome accuracy, facts read, latency and the confusion
between outcomes, with the offline reader (the embedded default), on two sets:

- knowledge/situations.yaml, which the test suite also asserts on (the reader's cues were tuned
  with it in view);
- bench/situations_holdout.yaml, written blind (its author never saw the reader or the other
  set) and never used for tuning: the honest figure for messages nobody here anticipated.
"""

from __future__ import annotations

from pathlib import Path

from bot.checklist.loader import load_from_knowledge_dir
from bot.checklist.reading.offline import OfflineReader
from bot.checklist.situation_eval import (
    SITUATIONS_FILE,
    describe,
    evaluate_situations,
    load_situations,
)

HOLDOUT = Path(__file__).resolve().parent / "situations_holdout.yaml"


async def run_situation_bench(knowledge_dir: Path) -> None:
    path = knowledge_dir / SITUATIONS_FILE
    if not path.is_file():
        print(f"situations: no {SITUATIONS_FILE} in {knowledge_dir}, skipped")
        return
    checklist = load_from_knowledge_dir(knowledge_dir)
    reader = OfflineReader(checklist)
    for name, cases_path in (("test set", path), ("blind holdout", HOLDOUT)):
        if not cases_path.is_file():
            continue
        cases = load_situations(cases_path, checklist)
        await evaluate_situations(checklist, reader, cases)  # warm-up: compiled patterns
        report = await evaluate_situations(checklist, reader, cases)
        print(f"-- {name}: {cases_path.name}")
        for line in describe(report):
            print(line)
