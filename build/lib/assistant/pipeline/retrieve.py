"""Find the passages the answer will be built from."""

from __future__ import annotations

from typing import Protocol

from assistant.pipeline.context import RequestContext
from vectorstore.records import Filters, Hit


class Retriever(Protocol):
    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]: ...


class Retrieve:
    """The best `ctx.k` passages for the standalone question, within the request's filters."""

    name = "retrieve"

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def __call__(self, ctx: RequestContext) -> None:
        ctx.hits = self.retriever.search(ctx.standalone, k=ctx.k, filters=ctx.filters)
        ctx.stats["hits"] = len(ctx.hits)
