"""Scoring of question files against the current store (`openbaar eval`).

Two formats are recognised per line:
- retrieval: `{"question"|"query", "doc_id"}` or `{"query", "gold": [ids]}` -> recall@1/5/10 and MRR@10 by document;
- answers (as `../shared/eval/seed_dev.jsonl`): `{"question", "expect_status", "must_mention", "history"?}` ->
  status accuracy, must-mention accuracy and citation validity.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answer.base import Answer
from vectorstore.records import Hit


class EvalFileError(ValueError):
    """The file is not a question file in a known format."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise EvalFileError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise EvalFileError(f"{path}:{n}: not a JSON object")
        items.append(item)
    if not items:
        raise EvalFileError(f"{path}: no questions")
    return items


def kind_of(items: list[dict[str, Any]]) -> str:
    """`answers` or `retrieval`, from the fields of the first line."""
    first = items[0]
    if "expect_status" in first:
        return "answers"
    if ("doc_id" in first or "gold" in first) and ("question" in first or "query" in first):
        return "retrieval"
    raise EvalFileError("unknown format: expected `expect_status` (answers) or `doc_id`/`gold` (retrieval)")


def first_relevant_rank(hits: list[Hit], gold: set[str]) -> int | None:
    """1-based rank of the first distinct document (or chunk) id in `gold`."""
    seen: list[str] = []
    for hit in hits:
        if hit.doc_id not in seen:
            seen.append(hit.doc_id)
        if hit.doc_id in gold or hit.chunk_id in gold:
            return seen.index(hit.doc_id) + 1
    return None


def score_retrieval(items: Iterable[dict[str, Any]], search: Callable[[str], list[Hit]]) -> dict[str, Any]:
    ranks: list[int | None] = []
    for item in items:
        gold = set(item["gold"]) if "gold" in item else {item["doc_id"]}
        ranks.append(first_relevant_rank(search(item.get("question") or item["query"]), gold))
    n = len(ranks)
    recall = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in (1, 5, 10)}
    mrr = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    return {"kind": "retrieval", "questions": n, **recall, "mrr@10": mrr}


@dataclass
class AnswerCheck:
    id: str
    expected: str
    got: str
    status_ok: bool
    mentions_ok: bool
    citations: int
    citations_valid: int
    answer: str = ""
    missing: list[list[str]] = field(default_factory=list)


def check_answer(item: dict[str, Any], answer: Answer, text_of: Callable[[str], str | None]) -> AnswerCheck:
    """Compare one answer with its expectation; quotes are checked again here, independently of the pipeline."""
    lowered = answer.answer.lower()
    missing = [
        group for group in item.get("must_mention", []) if not any(a.lower() in lowered for a in group)
    ]
    valid = sum(1 for c in answer.citations if c.quote and c.quote in (text_of(c.doc_id) or ""))
    expected = item["expect_status"]
    status_ok = answer.status == expected
    if expected in ("answered", "withheld"):
        status_ok = status_ok and valid > 0
    if expected == "not_found":
        status_ok = status_ok and not answer.citations
    return AnswerCheck(
        id=str(item.get("id", "")),
        expected=expected,
        got=answer.status,
        status_ok=status_ok,
        mentions_ok=not missing,
        citations=len(answer.citations),
        citations_valid=valid,
        answer=answer.answer,
        missing=missing,
    )


def score_answers(checks: list[AnswerCheck]) -> dict[str, Any]:
    n = len(checks)
    cited = sum(c.citations for c in checks)
    return {
        "kind": "answers",
        "questions": n,
        "status_accuracy": sum(c.status_ok for c in checks) / n,
        "must_mention_accuracy": sum(c.mentions_ok for c in checks) / n,
        "citation_validity": (sum(c.citations_valid for c in checks) / cited) if cited else 1.0,
        "citations": cited,
        "items": [c.__dict__ for c in checks],
    }
