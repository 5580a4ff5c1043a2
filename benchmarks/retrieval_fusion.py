"""Fusion experiments beside `retrieval.py`: RRF vs score-based fusion, dense re-scoring, query variants.

    .venv/bin/python benchmarks/retrieval_fusion.py      # all sets: nl (main, english, faq_titles), vac, pc

Reuses the stores and passage-embedding cache of `retrieval.py` (no passage is embedded). Per query it embeds
the question twice ("query: " as the product does, and "passage: "), takes the dense top-50 of each and the
BM25 top-50, reads the stored vectors of the union from Chroma, then ranks offline:

- RRF as in `HybridRetriever` (dense weight 1, BM25 weight 0.75, rrf_k 5, depth 50);
- score fusion: alpha * norm(cosine) + (1 - alpha) * norm(BM25) over the union, min-max or z-score normalised
  per list, a missing score = that list's minimum; "rescored": exact cosine for every union candidate
  (BM25-only candidates get a dense score too);
- query variants: cosine averaged (or maxed) over the "query:" and "passage:" embeddings.

Ranks are taken at document level (first chunk of each document), without near-duplicate collapse; the
current-RRF row matches `retrieval.py` to within a query. Results: var/bench/retrieval_fusion.json.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import retrieval as bench

from vectorstore.retrieval.hybrid import HybridRetriever

SETS = ("main", "english", "faq_titles", "vac", "pc")
DEPTH = 50


def _sources(embedder):
    raw = [json.loads(x) for x in (bench.NL_SET / "queries.jsonl").read_text().splitlines() if x.strip()]
    nl = {
        s: [bench.Query(q["id"], q["query"], frozenset(q["gold"])) for q in raw if q["subset"] == s]
        for s in ("main", "english", "faq_titles")
    }
    yield bench.build_passage_store(embedder), nl
    vac = bench.build_corpus_store("vac", ["nl_rijksoverheid_vac"], embedder)
    yield vac, {"vac": bench._doc_queries(bench.EVAL / "vac_qa.jsonl", "question")}
    pc = bench.build_corpus_store("pc", ["nl_rijksoverheid_persconferenties_2020"], embedder)
    yield pc, {"pc": bench._doc_queries(bench.EVAL / "persconferenties_2020_qa.jsonl", "question")}


def collect() -> tuple[dict[str, list[dict[str, Any]]], dict[str, float]]:
    embedder = bench.make_embedder()
    model = embedder.inner._load()
    data: dict[str, list[dict[str, Any]]] = {}
    t_query: list[float] = []
    t_passage: list[float] = []
    for folder, subsets in _sources(embedder):
        store = bench.open_store(folder, embedder)
        bench._warm(HybridRetriever(store))
        for name, queries in subsets.items():
            rows = []
            for q in queries:
                t = time.perf_counter()
                qv = np.asarray(embedder.embed_query(q.text), dtype=np.float32)
                t_query.append(time.perf_counter() - t)
                t = time.perf_counter()
                pv = np.asarray(model.passage([q.text])[0], dtype=np.float32)
                t_passage.append(time.perf_counter() - t)
                res = store.collection.query(
                    query_embeddings=[qv.tolist(), pv.tolist()], n_results=DEPTH, include=[]
                )
                lexical = store.lexical.search(q.text, DEPTH)
                union = list({*res["ids"][0], *res["ids"][1], *(c for c, _ in lexical)})
                got = store.collection.get(ids=union, include=["metadatas", "embeddings"])
                vectors = np.asarray(got["embeddings"], dtype=np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                rows.append(
                    {
                        "gold": q.gold,
                        "dq": res["ids"][0],
                        "dp": res["ids"][1],
                        "lex": lexical,
                        "doc": {i: m["doc_id"] for i, m in zip(got["ids"], got["metadatas"], strict=True)},
                        "cq": dict(zip(got["ids"], vectors @ (qv / np.linalg.norm(qv)), strict=True)),
                        "cp": dict(zip(got["ids"], vectors @ (pv / np.linalg.norm(pv)), strict=True)),
                    }
                )
            data[name] = rows
            bench._say(f"collected {name}: {len(rows)} queries")
        store.close()
    latency = {
        "query_embedding_ms_p50": 1000 * float(np.median(t_query)),
        "passage_prefix_embedding_ms_p50": 1000 * float(np.median(t_passage)),
    }
    return data, latency


# --- ranking -------------------------------------------------------------------------------------------------
def doc_rank(order: list[str], row: dict[str, Any], k: int = 10) -> int | None:
    seen: list[str] = []
    for chunk in order:
        doc = row["doc"].get(chunk)
        if doc is None or doc in seen:
            continue
        seen.append(doc)
        if doc in row["gold"]:
            return len(seen)
        if len(seen) >= k:
            break
    return None


def similarity(row: dict[str, Any], chunk: str, variant: str) -> float:
    if variant == "avg":
        return (row["cq"][chunk] + row["cp"][chunk]) / 2
    if variant == "max":
        return max(row["cq"][chunk], row["cp"][chunk])
    return row["cq"][chunk]


def dense_candidates(row: dict[str, Any], variant: str) -> list[str]:
    return list(dict.fromkeys(row["dq"] + (row["dp"] if variant != "q" else [])))


def dense(row: dict[str, Any], variant: str = "q") -> list[str]:
    return sorted(dense_candidates(row, variant), key=lambda c: -similarity(row, c, variant))


def rrf(row: dict[str, Any], weight: float = 0.75, rrf_k: int = 5, variant: str = "q") -> list[str]:
    ranked = dense(row, variant)[:DEPTH]
    scores: dict[str, float] = {}
    for r, c in enumerate(ranked, 1):
        scores[c] = scores.get(c, 0.0) + 1 / (rrf_k + r)
    for r, (c, _) in enumerate(row["lex"], 1):
        scores[c] = scores.get(c, 0.0) + weight / (rrf_k + r)
    first = {c: r for r, c in enumerate(ranked)}
    return sorted(scores, key=lambda c: (-scores[c], first.get(c, 10**9)))


def normalise(values: dict[str, float], how: str) -> dict[str, float]:
    v = np.fromiter(values.values(), dtype=float)
    if how == "minmax":
        low, span = v.min(), v.max() - v.min()
        return {c: (x - low) / span if span > 0 else 0.0 for c, x in values.items()}
    mean, sd = v.mean(), v.std()
    return {c: (x - mean) / sd if sd > 0 else 0.0 for c, x in values.items()}


def score_fusion(
    row: dict[str, Any], alpha: float, how: str, rescored: bool, variant: str = "q"
) -> list[str]:
    lexical = dict(row["lex"])
    dense_ids = dense_candidates(row, variant)
    union = list(dict.fromkeys(dense_ids + list(lexical)))
    dense_scores = normalise(
        {c: similarity(row, c, variant) for c in (union if rescored else dense_ids)}, how
    )
    lexical_scores = normalise(lexical, how) if lexical else {}
    d_min = min(dense_scores.values())
    l_min = min(lexical_scores.values(), default=0.0)
    fused = {
        c: alpha * dense_scores.get(c, d_min) + (1 - alpha) * lexical_scores.get(c, l_min) for c in union
    }
    return sorted(union, key=lambda c: -fused[c])


def methods() -> dict[str, Callable[[dict[str, Any]], list[str]]]:
    out: dict[str, Callable[[dict[str, Any]], list[str]]] = {
        "dense (query:)": dense,
        "dense avg(query:,passage:)": lambda r: dense(r, "avg"),
        "dense max(query:,passage:)": lambda r: dense(r, "max"),
        "BM25": lambda r: [c for c, _ in r["lex"]],
        "RRF w=0.75 k=5 (current)": rrf,
        "RRF w=0.75 k=5, dense avg": lambda r: rrf(r, variant="avg"),
    }
    for how in ("minmax", "z"):
        for a in (0.5, 0.6, 0.7, 0.8):
            out[f"{how} a={a}"] = lambda r, a=a, how=how: score_fusion(r, a, how, False)
            out[f"{how} a={a} rescored"] = lambda r, a=a, how=how: score_fusion(r, a, how, True)
            out[f"{how} a={a} rescored, avg"] = lambda r, a=a, how=how: score_fusion(r, a, how, True, "avg")
    return out


def metrics(ranks: list[int | None]) -> tuple[float, float]:
    n = max(len(ranks), 1)
    return sum(1 for r in ranks if r and r <= 5) / n, sum(1 / r for r in ranks if r) / n


def main() -> int:
    data, latency = collect()
    table: dict[str, dict[str, tuple[float, float]]] = {}
    bench._say("\nR@5 / MRR@10 (document level, top-50 candidates per list)")
    bench._say(f"| {'method':<30} | " + " | ".join(f"{s:<13}" for s in SETS) + " |")
    bench._say(f"|{'-' * 32}|" + "|".join("-" * 15 for _ in SETS) + "|")
    for name, fn in methods().items():
        table[name] = {s: metrics([doc_rank(fn(r), r) for r in data[s]]) for s in SETS}
        cells = " | ".join(f"{a:.3f} / {b:.3f}" for a, b in table[name].values())
        bench._say(f"| {name:<30} | {cells} |")
    bench._say(
        f"\nquery embedding p50 {latency['query_embedding_ms_p50']:.1f} ms; extra 'passage:' embedding p50 "
        f"{latency['passage_prefix_embedding_ms_p50']:.1f} ms"
    )
    out = bench.BENCH / "retrieval_fusion.json"
    out.write_text(json.dumps({"latency": latency, "table": table}, indent=2))
    bench._say(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
