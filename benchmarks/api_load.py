"""Load on the HTTP API: 50 concurrent clients x 5 questions against /api/ask and /api/ask/stream (offline mode).

Starts `openbaar serve` on a free loopback port over the bundled samples (ingested into var/bench/api-store),
prints a table and writes var/bench/api_load.json. Run on demand: .venv/bin/python benchmarks/api_load.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()

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
