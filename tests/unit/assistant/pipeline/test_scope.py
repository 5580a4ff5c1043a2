"""The scope check by meaning: refuses a question closest to an off-topic example, only with the embedder its margin
was chosen for."""

from __future__ import annotations

import contextlib

import pytest

import prompts
from assistant.pipeline import scope
from assistant.pipeline.context import RequestContext, SafeSink, Stop
from assistant.pipeline.scope import CheckScope

EXAMPLES = prompts.load_toml("scope.toml")["examples"]
OFF, IN = set(EXAMPLES["off_topic"]), set(EXAMPLES["in_scope"])


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch):
    """The examples' vectors are shared per process and model: these fake ones must not meet the real ones."""
    monkeypatch.setattr(scope, "_SHARED", {})


class Retriever:
    """Off-topic examples point one way, in-scope examples the other; counts what it embeds."""

    def __init__(self, embedder_id: str) -> None:
        self.embedder_id = embedder_id
        self.embedded = 0

    def embed(self, query: str) -> list[float]:
        self.embedded += 1
        return [1.0, 0.0] if query in OFF else [0.0, 1.0]

    def search(self, query, k=10, filters=None, vector=None):
        return []


def run(check: CheckScope, vector: list[float]) -> RequestContext:
    ctx = RequestContext(
        question="Wat eten we vanavond?",
        history=[],
        filters=None,
        k=5,
        mode="extractive",
        sink=SafeSink(None),
        budget=30.0,
    )
    ctx.query_vector = vector
    with contextlib.suppress(Stop):  # a refusal ends the run with ctx.answer, the canned reply
        check(ctx)
    return ctx


def test_a_question_closest_to_an_off_topic_example_is_refused_with_the_calibrated_embedder():
    check = CheckScope(Retriever(EXAMPLES["model"]))
    refused = run(check, [1.0, 0.0])
    assert refused.answer is not None and refused.answer.status == "refused"
    assert "scope_by_meaning" in refused.answer.notes
    assert run(check, [0.0, 1.0]).answer is None  # closest to a question about government statements


def test_another_embedder_is_never_judged_by_this_margin():
    retriever = Retriever("openai:text-embedding-3-small")
    check = CheckScope(retriever)
    check.warm()
    assert run(check, [1.0, 0.0]).answer is None
    assert retriever.embedded == 0  # not even the examples are embedded


def test_examples_are_embedded_once_per_process_and_model():
    first = Retriever(EXAMPLES["model"])
    CheckScope(first).warm()
    second = Retriever(EXAMPLES["model"])
    check = CheckScope(second)
    check.warm()
    assert second.embedded == 0 and run(check, [1.0, 0.0]).answer is not None
