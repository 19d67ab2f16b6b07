"""Whether the guidance covers a question at all, decided from what retrieval found.

Below this line the answer says "the guidance doesn't cover this" instead of guessing.

The dense similarity alone does not travel between folders: `ADVISOR_MIN_SCORE` (0.22) was
calibrated on our own folder, and on five saved web articles a real question ("Our prices and
policies change every month. Should we bake them into the weights?") scored 0.18 and was
refused. Its words, though, are all over the passage that answers it. So a second signal rescues
such questions: how many of the question's content words one top passage (with its title and
heading path) contains. A question is covered when the best passage's similarity reaches
`min_score`, or reaches half of it while one of the top three passages shares at least three
content words with the question. Off-topic questions share none or a stray one.

Measured on knowledge/, the seed articles and the two fixture folders in tests/ingest/fixtures
(137 on-topic questions, 32 off-topic probes per folder): no on-topic question refused (the
similarity rule alone refused one), none of the issue's off-topic examples answered, and 13 of
128 harder probes that share words with the corpus ("which cloud provider has the cheapest
storage?") answered, as with the similarity rule alone. The exploration of other thresholds is
in the commit that introduced this rule.
"""

from __future__ import annotations

from bot.models import Passage
from bot.retrieval import sparse
from bot.retrieval.retriever import Retrieval

LOW_SIMILARITY_FRACTION = 0.5
MIN_SHARED_WORDS = 3
PASSAGES_CHECKED = 3
# Words of the question that say nothing about its topic ("what is the best way to ...").
# Stemmed, as `sparse.terms` returns them.
_GENERIC = frozenset(
    sparse.terms(
        "use using need make good best way get want like one help work thing know much many "
        "take go time new well give tell explain something anything really lot still even can "
        "may might let see look try start keep say think right better question answer"
    )
)


def content_words(text: str) -> set[str]:
    return set(sparse.terms(text)) - _GENERIC


def shared_words(question: str, passages: tuple[Passage, ...]) -> int:
    """Most content words of the question found in any one of the top passages."""
    words = content_words(question)
    best = 0
    for passage in passages[:PASSAGES_CHECKED]:
        chunk = passage.chunk
        found = words & set(sparse.terms(f"{chunk.title}\n{chunk.section}\n{chunk.text}"))
        best = max(best, len(found))
    return best


def is_covered(question: str, retrieval: Retrieval, min_score: float) -> bool:
    """True when the top passages are close enough to the question to answer from."""
    if not retrieval.passages:
        return False
    similarity = retrieval.best_similarity
    if similarity >= min_score:
        return True
    if similarity < min_score * LOW_SIMILARITY_FRACTION:
        return False
    return shared_words(question, retrieval.passages) >= MIN_SHARED_WORDS
