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
    if settings.llm_configured:
        try:
            pipelines["llm"] = build_llm_pipeline(settings, retriever, store.catalog)
        except Exception:
            store.close()
            raise
    return Assistant(settings, store, retriever, pipelines)


def build_llm_pipeline(settings: Settings, retriever, texts, prompts_folder=None) -> Pipeline:
    """The LLM-mode pipeline (only when an OpenAI key or base URL is set: no client is built otherwise).

    The prompts are read and validated here, so a broken prompt file stops the start with a `PromptError`."""
    from assistant.answer.llm import LLMComposer, LLMCondenser
    from assistant.llm import LLMClient
    from assistant.prompting import load_prompts

    if not settings.llm_configured:
        raise ValueError("no OPENAI_API_KEY or OPENAI_BASE_URL configured")
    prompts = load_prompts(prompts_folder or settings.llm_prompts)
    client = LLMClient(settings)
    composer = LLMComposer(
        client,
        prompts,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        context_tokens=settings.llm_context_tokens,
        response_format_kind=settings.llm_response_format,
    )
    return Pipeline(
        retriever, composer, texts, condenser=LLMCondenser(client, prompts), fallback=ExtractiveComposer()
    )
