"""Check the development set: fields, types, gold documents and verbatim evidence against the corpora.

    python eval/validate.py eval/dev.jsonl [more.jsonl ...] --data ../shared/corpus

Without `--data` (a clone without the corpora) only the fields are checked. Exit code 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

TYPES = (
    "which", "who", "when", "why", "how_many", "yes_no", "opinion", "falls_under",
    "withheld", "not_in_sources", "off_topic", "followup", "cross_language",
)  # fmt: skip
CORPORA = ("seed", "vac", "tk", "pc2020", "govuk", "whitehouse", "none")
STATUSES = ("answered", "withheld", "not_found", "refused")
SEED_ID = "seed/2023-06-migratiepartnerschappen.txt"
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Whitespace collapsed and quote marks unified, for comparing evidence with document text."""
    for a, b in (("“", '"'), ("”", '"'), ("„", '"'), ("‘", "'"), ("’", "'"), ("├»", "ï")):
        text = text.replace(a, b)
    return _SPACE.sub(" ", text).strip()


def load_corpus(data: Path) -> dict[str, str]:
    """doc id -> text of every document in the shared corpora (ids as `openbaar ingest samples/ ...` gives them)."""
    texts: dict[str, str] = {}
    for path in sorted(data.glob("*/docs.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                doc = json.loads(line)
                texts[doc["id"]] = doc["text"]
    seed = data / "seed" / "2023-06-migratiepartnerschappen.txt"
    if seed.exists():
        texts[SEED_ID] = seed.read_text(encoding="utf-8")
    return texts


def check_item(item: dict, corpus: dict[str, str] | None) -> list[str]:
    problems: list[str] = []
    need = (
        "id",
        "lang",
        "type",
        "corpus",
        "question",
        "expect_status",
        "must_mention",
        "gold_docs",
        "evidence",
    )
    for key in need:
        if key not in item:
            problems.append(f"missing field {key}")
    if problems:
        return problems
    if item["split"] not in ("tune", "test"):
        problems.append("split must be tune or test")
    if item["type"] not in TYPES:
        problems.append(f"unknown type {item['type']!r}")
    if item["corpus"] not in CORPORA:
        problems.append(f"unknown corpus {item['corpus']!r}")
    if item["expect_status"] not in STATUSES:
        problems.append(f"unknown status {item['expect_status']!r}")
    if item["lang"] not in ("nl", "en"):
        problems.append("lang must be nl or en")
    if not isinstance(item.get("history", []), list):
        problems.append("history must be a list of earlier user questions")
    if item["type"] == "followup" and not item.get("history"):
        problems.append("a followup needs a history")
    groups = item["must_mention"]
    if not isinstance(groups, list) or not all(isinstance(g, list) and g for g in groups):
        problems.append("must_mention must be a list of non-empty lists")
    answering = item["expect_status"] in ("answered", "withheld")
    if answering and (not item["gold_docs"] or not item["evidence"]):
        problems.append("answered/withheld needs gold_docs and evidence")
    if item["expect_status"] == "answered" and not groups:
        problems.append("answered needs at least one must_mention group")
    if not answering and (item["gold_docs"] or item["evidence"]):
        problems.append("not_found/refused has no gold_docs or evidence")
    if corpus is None or not answering:
        return problems
    texts = [corpus.get(d) for d in item["gold_docs"]]
    for doc_id, text in zip(item["gold_docs"], texts, strict=True):
        if text is None:
            problems.append(f"gold doc {doc_id} not in the corpora")
    joined = fold(" ".join(t for t in texts if t))
    for evidence in item["evidence"]:
        if fold(evidence) not in joined:
            problems.append(f"evidence not verbatim in the gold docs: {evidence[:80]!r}")
    evidence_text = fold(" ".join(item["evidence"])).lower()
    for group in groups:
        if not any(fold(alt).lower() in evidence_text for alt in group):
            problems.append(f"no alternative of {group} occurs in the evidence")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, help="folder of the shared corpora (../shared/corpus)")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.data) if args.data else None
    if args.data and not corpus:
        print(
            f"no corpora found in {args.data}: get them from the project's shared data folder",
            file=sys.stderr,
        )
        return 2
    seen: set[str] = set()
    bad = 0
    kinds: Counter[tuple[str, str]] = Counter()
    for path in args.files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            problems = check_item(item, corpus)
            if item.get("id") in seen:
                problems.append("duplicate id")
            seen.add(item.get("id"))
            kinds[(item.get("type"), item.get("corpus"))] += 1
            for p in problems:
                print(f"{path}:{n} {item.get('id')}: {p}")
            bad += bool(problems)
    by_type = Counter()
    for (kind, _), count in kinds.items():
        by_type[kind] += count
    print(f"{len(seen)} questions, {bad} with problems")
    print("per type: " + ", ".join(f"{k} {by_type[k]}" for k in TYPES))
    by_corpus = Counter()
    for (_, corpus_name), count in kinds.items():
        by_corpus[corpus_name] += count
    print("per corpus: " + ", ".join(f"{k} {by_corpus[k]}" for k in CORPORA))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
