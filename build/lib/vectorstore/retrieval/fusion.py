"""Weighted reciprocal rank fusion and near-duplicate detection (pure functions).

score(chunk) = dense_weight / (rrf_k + dense_rank) + lexical_weight / (rrf_k + lexical_rank)
"""

from __future__ import annotations

import re

from vectorstore.retrieval.filters import fold

_WORDS = re.compile(r"\w+", re.UNICODE)


def rrf(
    dense: list[str], lexical: list[str], dense_weight: float, lexical_weight: float, rrf_k: int
) -> tuple[list[str], dict[str, float], dict[str, int], dict[str, int]]:
    """(chunk ids best first, scores, dense ranks, lexical ranks) of two ranked lists of chunk ids."""
    scores: dict[str, float] = {}
    dense_rank: dict[str, int] = {}
    lexical_rank: dict[str, int] = {}
    for rank, chunk_id in enumerate(dense, 1):
        dense_rank[chunk_id] = rank
        scores[chunk_id] = scores.get(chunk_id, 0.0) + dense_weight / (rrf_k + rank)
    for rank, chunk_id in enumerate(lexical, 1):
        lexical_rank[chunk_id] = rank
        scores[chunk_id] = scores.get(chunk_id, 0.0) + lexical_weight / (rrf_k + rank)
    if not dense:
        for chunk_id in lexical:  # BM25 alone: keep its order even when its weight is 0
            scores[chunk_id] = scores[chunk_id] or 1.0 / (rrf_k + lexical_rank[chunk_id])
    ordered = sorted(scores, key=lambda c: (-scores[c], dense_rank.get(c, 10**9)))
    return ordered, scores, dense_rank, lexical_rank


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
