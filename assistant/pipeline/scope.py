"""A check by meaning after retrieval: a question far closer to an off-topic example request (recipes, poems,
sports results, weather, coding, personal advice, the assistant's own opinion ...) than to any question about
government statements gets the off-topic reply, in any wording and in either language.

The examples and the margin are in prompts/scope.toml ([examples]); the patterns checked before retrieval
(safety/input.py) catch the plain cases without a model. Without the question's vector (no dense retrieval), or with
another embedder than the one the margin was chosen for (`model`), the check does nothing: similarities of another
model are on another scale.
"""

from __future__ import annotations

import threading

import numpy as np

import prompts
from assistant.pipeline.context import RequestContext
from assistant.pipeline.retrieve import Retriever

_SHARED: dict[tuple[str | None, str], list[float]] = {}  # (model, example) -> vector, for every pipeline


class CheckScope:
    """Refuse (status refused, note refusal.off_topic) when the question is closest to an off-topic example."""

    name = "scope"

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        raw = prompts.load_toml("scope.toml")["examples"]
        self.margin = float(raw["margin"])
        self.model = str(raw.get("model") or "")
        self.examples = {"off": list(raw["off_topic"]), "in": list(raw["in_scope"])}
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def vectors(self) -> dict[str, np.ndarray] | None:
        """The examples' vectors (embedded once per process and model, on first use or at `warm`); None when
        the embedder is unavailable."""
        with self._lock:
            if self._vectors is None:
                model = getattr(self.retriever, "embedder_id", None)
                found: dict[str, np.ndarray] = {}
                for side, texts in self.examples.items():
                    rows = [self._embed(model, text) for text in texts]
                    if any(row is None for row in rows):
                        return None
                    found[side] = np.asarray(rows, dtype=np.float32)
                self._vectors = found
            return self._vectors

    def warm(self) -> None:
        """Embed the examples now (at server start), not in the first visitor's question."""
        if self.applies():
            self.vectors()

    def _embed(self, model: str | None, text: str) -> list[float] | None:
        key = (model, text)
        if model is not None and key in _SHARED:
            return _SHARED[key]
        vector = self.retriever.embed(text)
        if model is not None and vector is not None:
            _SHARED[key] = vector
        return vector

    def distance(self, vector: list[float]) -> float | None:
        """Best off-topic similarity minus best in-scope similarity (positive: closer to off-topic)."""
        vectors = self.vectors()
        if vectors is None:
            return None
        q = np.asarray(vector, dtype=np.float32)
        return float((vectors["off"] @ q).max() - (vectors["in"] @ q).max())

    def applies(self) -> bool:
        """Whether the store's embedder is the one the margin was chosen for."""
        return getattr(self.retriever, "embedder_id", None) == self.model

    def __call__(self, ctx: RequestContext) -> None:
        if ctx.query_vector is None or not self.applies():
            return
        gap = self.distance(ctx.query_vector)
        if gap is None:
            return
        ctx.stats["scope_gap"] = round(gap, 3)
        if gap >= self.margin:
            ctx.hits = []
            ctx.stop("refused", "refusal.off_topic", ["refusal.off_topic", "scope_by_meaning"])
