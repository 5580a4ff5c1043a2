"""Scoring of question files against the current store (`openbaar eval`).

Two formats are recognised per line:
- retrieval: `{"question"|"query", "doc_id"}` or `{"query", "gold": [ids]}` -> recall@1/5/10 and MRR@10 by document;
- answers (`eval/dev.jsonl`, `eval/seed_dev.jsonl`): `{"question", "expect_status", "must_mention", "history"?}`
  and, in the development set, `type`, `corpus`, `split`, `gold_docs` and `evidence` (verbatim answering text).

An answer passes when its status is the expected one (answered/withheld with at least one valid citation,
not_found/refused with none) and it mentions one alternative of every `must_mention` group. Also measured:
the gold document cited, the evidence inside the text the composer read ("context recall"), correct abstention on
questions whose answer is not in the sources, and citation validity (quotes checked again here, independently).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.answer.base import SUPPORTING, Answer
from vectorstore.records import Hit

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


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


def fold(text: str) -> str:
    """Whitespace and quote marks made uniform, for finding evidence in a document."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


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
    type: str = ""
    corpus: str = ""
    split: str = ""
    gold_cited: bool | None = None  # None: the question has no gold document
    context_recall: bool | None = (
        None  # the evidence was in the text the composer read (None: no evidence given)
    )
    abstained: bool | None = None  # for answers not in the sources: no answered/withheld

    @property
    def passed(self) -> bool:
        return self.status_ok and self.mentions_ok


def _evidence_in_context(
    item: dict[str, Any], context: list[tuple[str, int, int]], text_of: Callable[[str], str | None]
) -> bool | None:
    evidence = item.get("evidence") or []
    if not evidence:
        return None
    for doc_id in item.get("gold_docs") or []:
        text = text_of(doc_id)
        if not text:
            continue
        spans = [(s, e) for d, s, e in context if d == doc_id]
        for piece in evidence:
            for s, e in spans:
                if fold(piece) in fold(text[s:e]):
                    return True
    return False


def check_answer(
    item: dict[str, Any],
    answer: Answer,
    text_of: Callable[[str], str | None],
    context: list[tuple[str, int, int]] | None = None,
) -> AnswerCheck:
    """Compare one answer with its expectation; quotes are checked again here, independently of the pipeline."""
    lowered = answer.answer.lower()
    missing = [
        group for group in item.get("must_mention", []) if not any(a.lower() in lowered for a in group)
    ]
    valid = sum(1 for c in answer.citations if c.quote and c.quote in (text_of(c.doc_id) or ""))
    expected = item["expect_status"]
    status_ok = answer.status == expected
    if expected in SUPPORTING:
        status_ok = status_ok and valid > 0
    if expected in ("not_found", "refused"):
        status_ok = status_ok and not answer.citations
    gold = set(item.get("gold_docs") or [])
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
        type=str(item.get("type", "")),
        corpus=str(item.get("corpus", "")),
        split=str(item.get("split", "")),
        gold_cited=any(c.doc_id in gold for c in answer.citations) if gold else None,
        context_recall=_evidence_in_context(item, context, text_of) if context is not None else None,
        abstained=(answer.status not in SUPPORTING) if expected == "not_found" else None,
    )


def _rate(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def summarise(checks: list[AnswerCheck]) -> dict[str, Any]:
    """Pass rate and the other measures of a group of checks."""
    cited = sum(c.citations for c in checks)
    return {
        "questions": len(checks),
        "pass": _rate([c.passed for c in checks]),
        "status": _rate([c.status_ok for c in checks]),
        "mentions": _rate([c.mentions_ok for c in checks]),
        "gold_cited": _rate([c.gold_cited for c in checks]),
        "context_recall": _rate([c.context_recall for c in checks]),
        "abstention": _rate([c.abstained for c in checks]),
        "citation_validity": (sum(c.citations_valid for c in checks) / cited) if cited else None,
    }


def score_answers(checks: list[AnswerCheck]) -> dict[str, Any]:
    n = len(checks)
    cited = sum(c.citations for c in checks)
    groups: dict[str, dict[str, list[AnswerCheck]]] = {"type": defaultdict(list), "corpus": defaultdict(list)}
    for check in checks:
        if check.type:
            groups["type"][check.type].append(check)
        if check.corpus:
            groups["corpus"][check.corpus].append(check)
    return {
        "kind": "answers",
        "questions": n,
        "status_accuracy": sum(c.status_ok for c in checks) / n,
        "must_mention_accuracy": sum(c.mentions_ok for c in checks) / n,
        "citation_validity": (sum(c.citations_valid for c in checks) / cited) if cited else 1.0,
        "citations": cited,
        "summary": summarise(checks),
        "by_type": {k: summarise(v) for k, v in sorted(groups["type"].items())},
        "by_corpus": {k: summarise(v) for k, v in sorted(groups["corpus"].items())},
        "items": [{**asdict(c), "passed": c.passed} for c in checks],
    }
