"""Load on the HTTP API: 50 concurrent clients x 5 questions against /api/ask and /api/ask/stream (offline mode).

Starts `openbaar serve` on a free loopback port over the bundled samples (ingested into var/bench/api-store),
prints a table and writes var/bench/api_load.json. Run on demand: .venv/bin/python benchmarks/api_load.py

With `--replicas 2`: the multi-machine shape on loopback instead (a throwaway PostgreSQL, `chroma run`, two
`openbaar serve` replicas sharing them, a round-robin proxy); the same load runs against one replica directly and
against both through the proxy, in the same run, and the ratio is reported (var/bench/api_load_replicas.json).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks._common import OUT, REPO, median, percentile, table, write_json
from tests.integration.servers import OPENBAAR, openbaar_serve

QUESTIONS = [
    "Welke partnerschappen zijn openbaar?",
    "Which partnerships are public?",
    "Hoe vraag ik een nieuw paspoort aan?",
    "Wat is een Woo-verzoek?",
    "Wat zei Jan Klink?",
    "Hoeveel kost een identiteitskaart?",
    "Wie mag stemmen bij de gemeenteraadsverkiezingen?",
    "Wat doet de Nationale ombudsman?",
]


async def client_run(client: httpx.AsyncClient, base: str, n: int, offset: int, stream: bool) -> list[dict]:
    results = []
    for i in range(n):
        question = QUESTIONS[(offset + i) % len(QUESTIONS)]
        started = time.perf_counter()
        first = None
        try:
            if stream:
                async with client.stream(
                    "POST", f"{base}/api/ask/stream", json={"question": question}
                ) as response:
                    ok = response.status_code == 200
                    async for line in response.aiter_lines():
                        if first is None and line.startswith("event:"):
                            first = time.perf_counter() - started
                        if line == "event: done":
                            break
            else:
                response = await client.post(f"{base}/api/ask", json={"question": question})
                ok = response.status_code == 200 and "status" in response.json()
        except httpx.HTTPError:
            ok = False
        results.append({"ok": ok, "seconds": time.perf_counter() - started, "first_event": first})
    return results


async def load(base: str, clients: int, per_client: int, stream: bool) -> dict:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        batches = await asyncio.gather(
            *(client_run(client, base, per_client, c, stream) for c in range(clients))
        )
        wall = time.perf_counter() - started
    flat = [r for batch in batches for r in batch]
    ms = [r["seconds"] * 1000 for r in flat]
    firsts = [r["first_event"] * 1000 for r in flat if r["first_event"] is not None]
    return {
        "requests": len(flat),
        "errors": sum(1 for r in flat if not r["ok"]),
        "p50_ms": round(percentile(ms, 50)),
        "p95_ms": round(percentile(ms, 95)),
        "throughput_per_s": round(len(flat) / wall, 1),
        "first_event_p50_ms": round(median(firsts)) if firsts else None,
        "first_event_p95_ms": round(percentile(firsts, 95)) if firsts else None,
    }


def single(base: str, n: int = 20) -> float:
    """Median latency of one client alone: the baseline measured in the same run."""
    times = []
    with httpx.Client(timeout=60) as client:
        for i in range(n):
            started = time.perf_counter()
            client.post(
                f"{base}/api/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]}
            ).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return median(times)


def replicas(args: argparse.Namespace) -> None:
    """One replica vs two behind the proxy, same store (PostgreSQL + Chroma server), same run."""
    import uuid
    from contextlib import ExitStack

    from tests.integration.proxy import RoundRobinProxy
    from tests.integration.servers import chroma_server, create_database, postgres_server

    root = OUT / "api-replicas"
    root.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        pg = stack.enter_context(postgres_server())
        db = create_database(pg, f"bench_{uuid.uuid4().hex[:8]}")
        port = stack.enter_context(
            chroma_server(root / f"chroma-{uuid.uuid4().hex[:6]}", root / "chroma.log")
        )
        env = {
            **os.environ,
            "OPENBAAR_DB_URL": db,
            "OPENBAAR_CHROMA_HOST": "127.0.0.1",
            "OPENBAAR_CHROMA_PORT": str(port),
            "OPENBAAR_STORE": str(root / "no-store"),
            "OPENBAAR_EMBEDDING_CACHE": str(
                OUT / "api-store" / "embeddings.sqlite"
            ),  # reuse earlier embeddings
            "OPENBAAR_API_RATE_LIMIT": "0",
        }
        subprocess.run([*OPENBAAR, "ingest", str(REPO / "samples")], env=env, check=True, capture_output=True)
        bases = [
            stack.enter_context(
                openbaar_serve(
                    root / f"replica{n}.log", {**env, "OPENBAAR_RUN_DIR": str(root / f"run{n}")}, timeout=180
                )
            )
            for n in (1, 2)
        ]
        proxy = stack.enter_context(RoundRobinProxy([("127.0.0.1", int(b.rsplit(":", 1)[1])) for b in bases]))
        for base in bases:
            for question in QUESTIONS:  # warm up caches
                httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60)
        baseline = single(bases[0])
        one = asyncio.run(load(bases[0], args.clients, args.questions, stream=False))
        two = asyncio.run(load(proxy.url, args.clients, args.questions, stream=False))
        one_again = asyncio.run(load(bases[0], args.clients, args.questions, stream=False))
    ratio = two["throughput_per_s"] / statistics.median(
        [one["throughput_per_s"], one_again["throughput_per_s"]]
    )
    results = {
        "clients": args.clients,
        "questions_per_client": args.questions,
        "single_client_p50_ms": round(baseline),
        "one_replica": one,
        "two_replicas": two,
        "one_replica_again": one_again,
        "throughput_ratio_two_vs_one": round(ratio, 2),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    print(
        f"{args.clients} clients x {args.questions} questions on /api/ask, offline mode, shared PostgreSQL + Chroma "
        f"server; one client alone: p50 {results['single_client_p50_ms']} ms; {os.cpu_count()} cores"
    )
    print(
        table(
            ["replicas", "requests", "errors", "p50 ms", "p95 ms", "req/s"],
            [
                [name, r["requests"], r["errors"], r["p50_ms"], r["p95_ms"], r["throughput_per_s"]]
                for name, r in (("1 (direct)", one), ("2 (proxy)", two), ("1 (direct, again)", one_again))
            ],
        )
    )
    print(f"throughput 2 replicas / 1 replica: {ratio:.2f}; load average {os.getloadavg()[0]:.1f}")
    print(f"\nJSON: {write_json('api_load_replicas', results)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--replicas", type=int, choices=[1, 2], default=1)
    args = parser.parse_args()
    if args.replicas == 2:
        replicas(args)
        return

    store = OUT / "api-store"
    env = {**os.environ, "OPENBAAR_STORE": str(store), "OPENBAAR_API_RATE_LIMIT": "0"}
    subprocess.run([*OPENBAAR, "ingest", str(REPO / "samples")], env=env, check=True, capture_output=True)
    with openbaar_serve(OUT / "api_load.log", env, timeout=120) as base:
        for question in QUESTIONS:  # warm up caches
            httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60)
        baseline = single(base)
        ask = asyncio.run(load(base, args.clients, args.questions, stream=False))
        stream = asyncio.run(load(base, args.clients, args.questions, stream=True))
    results = {
        "clients": args.clients,
        "questions_per_client": args.questions,
        "single_client_p50_ms": round(baseline),
        "ask": ask,
        "stream": stream,
    }
    print(
        f"{args.clients} clients x {args.questions} questions, offline mode; one client alone: "
        f"p50 {results['single_client_p50_ms']} ms"
    )
    print(
        table(
            [
                "endpoint",
                "requests",
                "errors",
                "p50 ms",
                "p95 ms",
                "req/s",
                "first event p50 ms",
                "first event p95 ms",
            ],
            [
                [
                    "/api/ask",
                    ask["requests"],
                    ask["errors"],
                    ask["p50_ms"],
                    ask["p95_ms"],
                    ask["throughput_per_s"],
                    "-",
                    "-",
                ],
                [
                    "/api/ask/stream",
                    stream["requests"],
                    stream["errors"],
                    stream["p50_ms"],
                    stream["p95_ms"],
                    stream["throughput_per_s"],
                    stream["first_event_p50_ms"],
                    stream["first_event_p95_ms"],
                ],
            ],
        )
    )
    print(f"\nJSON: {write_json('api_load', results)}")


if __name__ == "__main__":
    main()
