"""Latency of an offline `ask` (guard, retrieval, extractive answer, citation check) over a 10,000+ chunk store.

Reuses the latency store of benchmarks/retrieval.py (built on first use). Search alone is measured in the same run
as a baseline. Prints a table and writes var/bench/ask_latency.json. Run: .venv/bin/python benchmarks/ask_latency.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from benchmarks._common import percentile, require_store, table, write_json
from benchmarks.retrieval import bench_settings, build_latency_store, latency_queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--store",
        type=Path,
        help="measure on this store (10k+ chunks, e.g. `make eval-store`) instead of building the latency store",
    )
    parser.add_argument(
        "--data", type=Path, help="folder holding the shared corpus/ and eval/ (default ../shared)"
    )
    args = parser.parse_args()

    from assistant.factory import open_assistant
    from vectorstore.embeddings import build_embedder, with_cache

    config = bench_settings(Path("var/bench/none")).embedding_config()
    embedder = with_cache(build_embedder(config), config)
    folder = require_store(args.store) if args.store is not None else build_latency_store(embedder)
    process = psutil.Process()
    started = time.perf_counter()
    assistant = open_assistant(bench_settings(folder))
    pipeline = assistant.pipeline("extractive")
    questions = latency_queries(args.queries)
    for q in questions[:5]:  # load models and caches, as the app does at start
        pipeline.run(q)
    load_s = time.perf_counter() - started

    search_ms, ask_ms, statuses = [], [], {}
    for q in questions:
        t = time.perf_counter()
        assistant.retriever.search(q, k=8)
        search_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        answer = pipeline.run(q)
        ask_ms.append((time.perf_counter() - t) * 1000)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    results = {
        "chunks": assistant.store.collection.count(),
        "questions": len(questions),
        "search": {
            "p50_ms": round(percentile(search_ms, 50), 1),
            "p95_ms": round(percentile(search_ms, 95), 1),
        },
        "ask": {"p50_ms": round(percentile(ask_ms, 50), 1), "p95_ms": round(percentile(ask_ms, 95), 1)},
        "statuses": statuses,
        "load_seconds": round(load_s, 2),
        "rss_mb": round(process.memory_info().rss / 2**20),
    }
    assistant.close()
    print(
        f"{results['chunks']} chunks, {results['questions']} questions, offline (extractive); "
        f"loaded in {results['load_seconds']} s; RSS {results['rss_mb']} MB"
    )
    print(
        table(
            ["step", "p50 ms", "p95 ms", "target"],
            [
                ["search only (baseline)", results["search"]["p50_ms"], results["search"]["p95_ms"], "-"],
                [
                    "ask (retrieval + answer + checks)",
                    results["ask"]["p50_ms"],
                    results["ask"]["p95_ms"],
                    "p50 <= 60, p95 <= 150",
                ],
            ],
        )
    )
    print(f"statuses: {statuses}")
    print(f"\nJSON: {write_json('ask_latency', results)}")


if __name__ == "__main__":
    main()
