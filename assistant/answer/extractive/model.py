"""The offline answerer's scoring model: logistic regression over the sentence features, and the thresholds
that decide when the sources answer the question. Weights and thresholds are fitted on the tune half of the
development set by `benchmarks/train_answerer.py` and shipped as `weights.json` beside this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.answer.extractive.features import FEATURES, sigmoid

WEIGHTS_FILE = "weights.json"


class ModelError(RuntimeError):
    """The weights file is missing a feature or a threshold."""


@dataclass(frozen=True)
class AnswerModel:
    """P(sentence answers the question) = sigmoid(bias + sum of weight * feature); thresholds on that probability."""

    weights: dict[str, float]
    bias: float
    answer_threshold: float  # the best sentence must reach this, else "not found"
    extra_ratio: float  # a further sentence is quoted when its probability is at least this share of the best
    extra_floor: float  # ... and at least this probability
    remark_threshold: (
        float  # a withholding statement is added as "not everything is public" at this probability
    )
    trained: dict[str, Any] = field(default_factory=dict)  # what it was fitted on, and the scores then

    def probability(self, features: dict[str, float]) -> float:
        return sigmoid(self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerModel:
        weights = data.get("weights") or {}
        missing = [name for name in FEATURES if name not in weights]
        if missing:
            raise ModelError(f"{WEIGHTS_FILE}: no weight for {', '.join(missing)}")
        try:
            return cls(
                weights={name: float(weights[name]) for name in FEATURES},
                bias=float(data["bias"]),
                answer_threshold=float(data["answer_threshold"]),
                extra_ratio=float(data["extra_ratio"]),
                extra_floor=float(data["extra_floor"]),
                remark_threshold=float(data["remark_threshold"]),
                trained=dict(data.get("trained") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{WEIGHTS_FILE}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "bias": self.bias,
            "answer_threshold": self.answer_threshold,
            "extra_ratio": self.extra_ratio,
            "extra_floor": self.extra_floor,
            "remark_threshold": self.remark_threshold,
            "trained": self.trained,
        }


@dataclass(frozen=True)
class AnswerModels:
    """Two fits of the same features: with sentence vectors, and without (when the embedder is unavailable, the
    meaning features are 0 and the words decide)."""

    with_vectors: AnswerModel
    without_vectors: AnswerModel

    def pick(self, vectors: bool) -> AnswerModel:
        return self.with_vectors if vectors else self.without_vectors

    def to_dict(self) -> dict[str, Any]:
        return {
            "with_vectors": self.with_vectors.to_dict(),
            "without_vectors": self.without_vectors.to_dict(),
        }


@lru_cache(maxsize=4)
def load_models(path: Path | None = None) -> AnswerModels:
    """The models in `path`, or the ones shipped with the package."""
    if path is None:
        raw = (resources.files(__package__) / WEIGHTS_FILE).read_text(encoding="utf-8")
    else:
        raw = Path(path).read_text(encoding="utf-8")
    data = json.loads(raw)
    try:
        return AnswerModels(
            AnswerModel.from_dict(data["with_vectors"]), AnswerModel.from_dict(data["without_vectors"])
        )
    except KeyError as exc:
        raise ModelError(f"{WEIGHTS_FILE}: no {exc} model") from exc
