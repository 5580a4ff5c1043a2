"""Reranking of the fused candidates with a small learned model (learning to rank over fusion features).

The fused list is good at finding candidates and poorer at ordering them: a passage whose one sentence says what
is asked can sit below a passage about the same topic in general. For the first `depth` fused candidates this
module reads what is already stored (chunk vectors, sentence vectors, BM25 scores) and scores each with a logistic
model over:

- `dense`: the chunk's cosine with the question; `sentence`: the best cosine of one of its sentences;
- `dense_gap`, `sentence_gap`: how far below the best candidate's;
- `lexical`: its BM25 score over the best candidate's; `in_lexical`, `in_dense`: found by that list at all;
- `fused`: its fused (RRF) score over the best one's.

The weights are fitted on the tune half of the development set by `benchmarks/train_reranker.py` and shipped as
`rerank.json` beside this module. Nothing here imports the rest of the project.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

FEATURES = ("dense", "sentence", "dense_gap", "sentence_gap", "lexical", "in_lexical", "in_dense", "fused")
MODEL_FILE = "rerank.json"


@dataclass(frozen=True)
class RerankModel:
    weights: dict[str, float]
    bias: float
    depth: int  # how many fused candidates are reranked
    trained: dict[str, Any]

    def score(self, features: dict[str, float]) -> float:
        x = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RerankModel:
        weights = data["weights"]
        return cls(
            {n: float(weights[n]) for n in FEATURES},
            float(data["bias"]),
            int(data["depth"]),
            data.get("trained", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "bias": self.bias, "depth": self.depth, "trained": self.trained}


@lru_cache(maxsize=4)
def load_rerank_model(path: Path | None = None) -> RerankModel:
    """The model in `path`, or the one shipped with the package."""
    if path is None:
        raw = (resources.files(__package__) / MODEL_FILE).read_text(encoding="utf-8")
    else:
        raw = Path(path).read_text(encoding="utf-8")
    return RerankModel.from_dict(json.loads(raw))


@dataclass
class Candidate:
    """One fused candidate and what the reranker reads of it."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    fused: float
    lexical: float | None  # BM25 score, None when BM25 did not find it
    dense: float | None  # cosine, None when not among the dense candidates
    features: dict[str, float] | None = None


def features(candidates: Sequence[Candidate], sentence_best: Sequence[float]) -> list[dict[str, float]]:
    """The feature vectors of `candidates` (in order); `sentence_best[i]`: best sentence cosine of candidate i."""
    best_dense = max((c.dense for c in candidates if c.dense is not None), default=0.0)
    best_sentence = max(sentence_best, default=0.0)
    best_lexical = max((c.lexical for c in candidates if c.lexical is not None), default=0.0) or 1.0
    best_fused = max((c.fused for c in candidates), default=0.0) or 1.0
    out = []
    for c, sentence in zip(candidates, sentence_best, strict=True):
        dense = c.dense if c.dense is not None else 0.0
        out.append(
            {
                "dense": dense,
                "sentence": sentence,
                "dense_gap": dense - best_dense,
                "sentence_gap": sentence - best_sentence,
                "lexical": (c.lexical or 0.0) / best_lexical,
                "in_lexical": 1.0 if c.lexical is not None else 0.0,
                "in_dense": 1.0 if c.dense is not None else 0.0,
                "fused": c.fused / best_fused,
            }
        )
    return out


def cosines(query: Sequence[float], vectors: Sequence[Sequence[float]]) -> np.ndarray:
    if not vectors:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(vectors, dtype=np.float32) @ np.asarray(query, dtype=np.float32)
