"""Builds the parts of the assistant from settings: the one place where defaults are chosen.

Entry points (CLI, chat app, HTTP API) call `open_assistant(settings)`; tests and other callers may build a
`Pipeline` from their own parts instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer.base import Composer
from assistant.answer.extractive import ExtractiveComposer
from assistant.pipeline import Pipeline
from assistant.settings import Settings
from vectorstore.embeddings import build_embedder
from vectorstore.hybrid import HybridRetriever
from vectorstore.store import Store


@dataclass
class Assistant:
    """What an entry point needs: the store, the retriever and a pipeline per answer mode."""

    settings: Settings
    store: Store
    retriever: HybridRetriever
    pipelines: dict[str, Pipeline]

    @property
    def default_mode(self) -> str:
        return "llm" if "llm" in self.pipelines else "extractive"

    def pipeline(self, mode: str | None = None) -> Pipeline:
        """The pipeline for `mode` (`llm` or `extractive`); None = the configured default."""
        return self.pipelines[mode or self.default_mode]

    def close(self) -> None:
        self.store.close()


def open_assistant(settings: Settings) -> Assistant:
    """Open the store (refusing a missing one or another embedder) and build the pipelines."""
    store = Store(settings, build_embedder(settings))
    retriever = HybridRetriever.from_settings(store, settings)
    composers: dict[str, Composer] = {"extractive": ExtractiveComposer()}
    pipelines = {mode: Pipeline(retriever, composer, store.catalog) for mode, composer in composers.items()}
    return Assistant(settings, store, retriever, pipelines)
