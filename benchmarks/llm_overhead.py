"""What LLM mode adds around the model, against the local fake OpenAI-compatible server answering instantly.

Per question (LLM pipeline, streaming, real store: the seed article + a few VAC pages, real openai client):
- overhead = total time of `Pipeline.run` minus the time spent inside the LLM client (`llm_ms`): guard, language,
  retrieval, passage fitting and prompt building, JSON parsing, verification and logging;
- first-token overhead = time from the server writing the first content chunk to `on_token` being called (an upper
  bound of "first chunk arrives at the client -> forwarded": it includes the loopback transfer and SSE parsing).
Targets: overhead p95 <= 150 ms, first token forwarded within 20 ms.

Run: `.venv/bin/python benchmarks/llm_overhead.py [--runs 60] [--dense]`; writes var/bench/llm_overhead.json
(`--dense`: sentences whose support the claim check must judge by meaning, with the offline embedder).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import REPO, SAMPLES, percentile, table, write_json

VAC_TITLES = (
    "Wat gebeurt er nadat ik een Woo-verzoek heb gedaan?",
    "Hoe vraag ik DigiD aan?",
    "Wat kost een paspoort of identiteitskaart?",
)
TARGET_OVERHEAD_P95_MS = 150.0
TARGET_FIRST_TOKEN_MS = 20.0


def _reply(body: dict, dense: bool = False) -> str:
    """Cite the first sentence of passage 1 (what a well-behaved model would do), in the agreed JSON. With `dense`,
    the sentence restates the quote with a word it does not have, so the claim check must compare meanings (one
    embedding of the sentence and one of the quote, assistant/safety/claims.py)."""
    from tests.fakellm import answer_json, passages

    given = passages(body)
    if not given:
        return answer_json("", "not_found")
    text = given[min(given)].replace("\n", " ")
    quote = text.split(". ")[0].strip().rstrip(".") if ". " in text else text.strip()
    sentence = f"Kort samengevat: {quote}" if dense else "Volgens de bron geldt het volgende"
    return answer_json(f"{sentence} [{min(given)}].", citations=[(min(given), quote)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="questions to time (after 3 warm-up runs)")
    parser.add_argument(
        "--dense",
        action="store_true",
        help="model sentences that need the claim check's embedder (see _reply)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from assistant.factory import build_llm_pipeline, ingest_paths
    from assistant.settings import Settings
    from tests.fakellm import FakeLLM, Reply
    from vectorstore.embeddings import build_embedder, with_cache
    from vectorstore.retrieval.hybrid import HybridRetriever
    from vectorstore.store import Store

    seed = SAMPLES / "seed" / "2023-06-migratiepartnerschappen.txt"
    vac_lines = [
        line
        for line in (SAMPLES / "nl_rijksoverheid_vac" / "docs.jsonl").read_text().splitlines()
        if line.strip() and json.loads(line)["title"] in VAC_TITLES
    ]
    questions = [
        json.loads(line)["question"]
        for line in (REPO / "eval" / "seed_dev.jsonl").read_text().splitlines()
        if line.strip()
    ] + ["Hoe vraag ik DigiD aan?", "Wat kost een paspoort?", "Which partnerships are public?"]

    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeLLM(default=Reply(lambda body: _reply(body, args.dense), chunk_size=16)) as fake,
    ):
        folder = Path(tmp)
        (folder / "vac.jsonl").write_text("\n".join(vac_lines) + "\n")
        settings = Settings(store=folder / "store", embedding_cache=folder / "emb.sqlite")
        embedder = with_cache(build_embedder(settings.embedding_config()), settings.embedding_config())
        ingest_paths(settings, [seed, folder / "vac.jsonl"], embedder)
        store = Store(settings.store_config(), embedder)
        llm_settings = Settings(
            store=folder / "store", openai_base_url=fake.url, llm_model="gpt-4o-mini", llm_timeout=10
        )
        pipeline = build_llm_pipeline(llm_settings, HybridRetriever(store), store.catalog)
        overhead: list[float] = []
        totals: list[float] = []
        model_ms: list[float] = []
        first_token: list[float] = []
        steps: dict[str, list[float]] = {}
        statuses: dict[str, int] = {}
        for i in range(args.runs + 3):
            question = questions[i % len(questions)]
            fake.first_chunk_sent.clear()
            arrivals: list[float] = []

            def on_token(piece: str, arrivals=arrivals) -> None:
                if not arrivals:
                    arrivals.append(time.perf_counter())

            answer = pipeline.run(question, on_token=on_token)
            if i < 3:
                continue
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            total = answer.timings_ms["total"]
            llm_ms = _last_llm_ms.get("llm_ms", 0.0)  # from the request's log line
            totals.append(total)
            model_ms.append(llm_ms)
            overhead.append(total - llm_ms)
            for step in ("guard", "condense", "language", "retrieve", "verify"):
                steps.setdefault(step, []).append(answer.timings_ms.get(step, 0.0))
            steps.setdefault("compose (minus model)", []).append(answer.timings_ms["compose"] - llm_ms)
            if arrivals and fake.first_chunk_sent:
                first_token.append((arrivals[0] - fake.first_chunk_sent[0]) * 1000)
        store.close()

    rows = [
        ["total per question", f"{percentile(totals, 50):.1f}", f"{percentile(totals, 95):.1f}", ""],
        [
            "inside the LLM client (instant fake model)",
            f"{percentile(model_ms, 50):.1f}",
            f"{percentile(model_ms, 95):.1f}",
            "",
        ],
        [
            "overhead around the model",
            f"{percentile(overhead, 50):.1f}",
            f"{percentile(overhead, 95):.1f}",
            f"p95 <= {TARGET_OVERHEAD_P95_MS:.0f}",
        ],
        *[
            [f"  {name}", f"{percentile(v, 50):.1f}", f"{percentile(v, 95):.1f}", ""]
            for name, v in steps.items()
        ],
        [
            "first chunk sent -> on_token",
            f"{percentile(first_token, 50):.2f}",
            f"{percentile(first_token, 95):.2f}",
            f"<= {TARGET_FIRST_TOKEN_MS:.0f}",
        ],
    ]
    print(f"LLM overhead, {len(totals)} questions, statuses {statuses} (ms)")
    print(table(["measure", "p50 ms", "p95 ms", "target"], rows))
    ok = (
        percentile(overhead, 95) <= TARGET_OVERHEAD_P95_MS
        and percentile(first_token, 95) <= TARGET_FIRST_TOKEN_MS
    )
    path = write_json(
        "llm_overhead_dense" if args.dense else "llm_overhead",
        {
            "runs": len(totals),
            "statuses": statuses,
            "overhead_ms": {"p50": percentile(overhead, 50), "p95": percentile(overhead, 95)},
            "llm_client_ms": {"p50": percentile(model_ms, 50), "p95": percentile(model_ms, 95)},
            "total_ms": {"p50": percentile(totals, 50), "p95": percentile(totals, 95)},
            "first_token_ms": {"p50": percentile(first_token, 50), "p95": percentile(first_token, 95)},
            "steps_ms": {k: {"p50": percentile(v, 50), "p95": percentile(v, 95)} for k, v in steps.items()},
            "targets_met": ok,
        },
    )
    print(f"targets met: {ok}; wrote {path}")
    return 0


class _LastStats(logging.Handler):
    """Keeps the last request log line's counts (`llm_ms` is logged, not returned)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _last_llm_ms.clear()
            _last_llm_ms.update(json.loads(record.getMessage()))
        except ValueError:
            pass


_last_llm_ms: dict = {}
_handler = _LastStats()
logging.getLogger("openbaar.request").addHandler(_handler)
logging.getLogger("openbaar.request").setLevel(logging.INFO)
logging.getLogger("openbaar.request").propagate = False

if __name__ == "__main__":
    sys.exit(main())
