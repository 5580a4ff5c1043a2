"""Find the passages the answer will be built from (the question's vector is computed once and kept)."""

from __future__ import annotations

from typing import Protocol

from assistant.pipeline.context import RequestContext
from vectorstore.records import Filters, Hit


class Retriever(Protocol):
    def embed(self, query: str) -> list[float] | None:
        """The query's vector (None when dense retrieval is unavailable)."""
        ...

    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, vector: list[float] | None = None
    ) -> list[Hit]: ...


class Retrieve:
    """The best `ctx.k` passages for the standalone question, within the request's filters."""

    name = "retrieve"

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def __call__(self, ctx: RequestContext) -> None:
        ctx.query_vector = self.retriever.embed(ctx.standalone)
        ctx.hits = self.retriever.search(
            ctx.standalone, k=ctx.k, filters=ctx.filters, vector=ctx.query_vector
        )
        ctx.stats["hits"] = len(ctx.hits)
