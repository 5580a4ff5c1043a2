"""Weighted reciprocal rank fusion and near-duplicate detection (pure functions).

score(chunk) = sum over ranked lists of  weight / (rrf_k + rank of the chunk in that list)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vectorstore.retrieval.filters import fold

_WORDS = re.compile(r"\w+", re.UNICODE)


def rrf(
    lists: Sequence[tuple[Sequence[str], float]], rrf_k: int
) -> tuple[list[str], dict[str, float], list[dict[str, int]]]:
    """(chunk ids best first, scores, the 1-based rank of each chunk in each list) of weighted ranked lists.

    Ties are broken by the rank in the first list that holds the chunk. When only one list has entries, its order
    is kept even if its weight is 0."""
    scores: dict[str, float] = {}
    ranks: list[dict[str, int]] = []
    for ids, weight in lists:
        rank_of: dict[str, int] = {}
        for rank, chunk_id in enumerate(ids, 1):
            rank_of[chunk_id] = rank
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (rrf_k + rank)
        ranks.append(rank_of)
    filled = [r for r in ranks if r]
    if len(filled) == 1:
        for chunk_id, rank in filled[0].items():
            scores[chunk_id] = scores[chunk_id] or 1.0 / (rrf_k + rank)

    def tie(chunk_id: str) -> int:
        return next((r[chunk_id] for r in ranks if chunk_id in r), 10**9)

    ordered = sorted(scores, key=lambda c: (-scores[c], tie(c)))
    return ordered, scores, ranks


def shingles(text: str) -> frozenset[str]:
    """The word 3-grams of a text (the whole text when shorter)."""
    words = _WORDS.findall(fold(text))
    if len(words) < 3:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + 3]) for i in range(len(words) - 2))


def near_duplicate(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    """Word-3-gram containment: the share of the smaller chunk's 3-grams found in the other."""
    if not a or not b:
        return a == b
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small) >= threshold
