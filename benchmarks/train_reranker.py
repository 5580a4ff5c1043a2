"""Fit the retrieval reranker (vectorstore/retrieval/rerank.py) on the TUNE half of the development set.

    .venv/bin/python benchmarks/train_reranker.py --store var/eval-store [--write]

For every answerable tune question the standalone question (follow-ups condensed offline) is retrieved with the
configured fusion; each of the first fused candidates is labelled 1 when its chunk holds the question's evidence in
its gold document. A logistic regression over the reranking features is fitted (the answerer's training code) and
compared with the fused order on the tune half: recall@1/5 and MRR@10 of an evidence-bearing chunk. The test half is
never read. `--write` stores it in vectorstore/retrieval/rerank.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import require_store, table, write_json
from benchmarks.train_answerer import evidence_spans, fit_logistic

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "vectorstore" / "retrieval" / "rerank.json"


def ranks(orders: list[list[str]], labels: list[set[str]]) -> dict[str, float]:
    found = [
        next((i for i, c in enumerate(order, 1) if c in gold), None)
        for order, gold in zip(orders, labels, strict=True)
    ]
    n = len(found) or 1
    return {
        "R@1": sum(1 for r in found if r == 1) / n,
        "R@5": sum(1 for r in found if r and r <= 5) / n,
        "MRR@10": sum(1 / r for r in found if r and r <= 10) / n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--dev", type=Path, default=REPO / "eval" / "dev.jsonl")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    from assistant.evaluation import read_jsonl
    from assistant.factory import open_assistant
    from assistant.pipeline.followup import condense
    from assistant.settings import Settings
    from vectorstore.retrieval.rerank import FEATURES, RerankModel, load_rerank_model

    require_store(args.store)
    items = [
        it
        for it in read_jsonl(args.dev)
        if it.get("split") == "tune" and it["expect_status"] in ("answered", "withheld")
    ]
    assistant = open_assistant(Settings(store=args.store))
    retriever, store = assistant.retriever, assistant.store
    started = time.perf_counter()
    groups = []
    for item in items:
        query = condense(item["question"], list(item.get("history") or []))
        vector = retriever.embed(query)
        cfg = retriever.config
        dense = retriever._dense(vector, cfg.candidates, None)
        lexical = store.lexical.search(query, cfg.candidates)
        sentences = (
            retriever._sentence_ranking(vector, None, store.lexical) if cfg.sentence_weight > 0 else []
        )
        candidates = retriever.rerank_candidates(vector, dense, lexical, sentences)
        spans = evidence_spans(item, store.catalog.text)
        gold = {
            c.chunk_id
            for c in candidates
            if any(s < c.end and c.start < e for s, e in spans.get(c.doc_id, []))
        }
        groups.append((candidates, gold))
    usable = [(c, g) for c, g in groups if g]
    x = np.asarray([[c.features[n] for n in FEATURES] for cands, _ in usable for c in cands])
    y = np.asarray([1.0 if c.chunk_id in gold else 0.0 for cands, gold in usable for c in cands])
    w, b = fit_logistic(x, y)
    shipped = load_rerank_model()
    model = RerankModel(
        {n: float(v) for n, v in zip(FEATURES, w, strict=True)},
        b,
        shipped.depth,
        {
            "on": f"{args.dev.name} split=tune ({len(usable)} questions with their evidence among the first {shipped.depth})",
            "date": time.strftime("%Y-%m-%d"),
        },
    )
    fused = ranks([[c.chunk_id for c in cands] for cands, _ in usable], [g for _, g in usable])
    reranked = ranks(
        [[c.chunk_id for c in sorted(cands, key=lambda c: -model.score(c.features))] for cands, _ in usable],
        [g for _, g in usable],
    )
    model.trained.update({"tune_fused": fused, "tune_reranked": reranked})
    print(
        f"{len(items)} answerable tune questions, {len(usable)} with evidence among the candidates; {time.perf_counter() - started:.0f} s"
    )
    print(
        table(
            ["feature", "weight"],
            [[n, f"{v:+.3f}"] for n, v in model.weights.items()] + [["bias", f"{b:+.3f}"]],
        )
    )
    print(
        table(
            ["order", "R@1", "R@5", "MRR@10"],
            [
                [name, *(f"{r[k]:.3f}" for k in ("R@1", "R@5", "MRR@10"))]
                for name, r in (("fused", fused), ("reranked", reranked))
            ],
        )
    )
    write_json("train_reranker", model.to_dict())
    if args.write:
        MODEL.write_text(json.dumps(model.to_dict(), indent=2) + "\n")
        print(f"written {MODEL.relative_to(REPO)}")
    assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
