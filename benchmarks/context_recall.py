"""Does the answering sentence reach the composer? Context recall of both answer modes on the development set.

    .venv/bin/python benchmarks/context_recall.py --store var/eval-store [--split test] [--dev eval/dev.jsonl]

Context recall: the share of answerable questions whose verbatim evidence lies inside what the composer was given
(the extractive composer: the parts of documents it read; LLM mode: the passages put in the prompt). LLM mode runs
against the small OpenAI-compatible server of the tests (`tests/fakellm.py`) on loopback, which replies "not found"
to everything, so only what reached the model is measured, never a model's skill. Prints a table per question type
and writes var/bench/context_recall.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import require_store, table, write_json

REPO = Path(__file__).resolve().parents[1]
NOT_FOUND = json.dumps({"answer": "", "status": "not_found", "citations": []})


def run_eval(store: Path, dev: Path, split: str, mode: str, env: dict[str, str]) -> dict:
    launcher = "import sys; from assistant.interfaces.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", launcher, "eval", str(dev), "--split", split]
    command += ["--mode", mode, "--store", str(store), "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise SystemExit(f"openbaar eval --mode {mode} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a store holding the shared corpora")
    parser.add_argument("--dev", type=Path, default=REPO / "eval" / "dev.jsonl")
    parser.add_argument("--split", default="test", choices=["tune", "test"])
    args = parser.parse_args()
    require_store(args.store)

    from tests.fakellm import FakeLLM, Reply

    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OPENBAAR_LLM"))}
    results = {"extractive": run_eval(args.store, args.dev, args.split, "extractive", base)}
    with FakeLLM(default=Reply(NOT_FOUND)) as fake:
        env = {
            **base,
            "OPENAI_BASE_URL": fake.url,
            "OPENAI_API_KEY": "local",
            "OPENBAAR_LLM_MODEL": "fake-model",
        }
        results["llm"] = run_eval(args.store, args.dev, args.split, "llm", env)

    def recall(summary: dict) -> str:
        value = summary.get("context_recall")
        return "-" if value is None else f"{value:.2f}"

    types = sorted(results["extractive"]["by_type"])
    rows = [
        [t, results["extractive"]["by_type"][t]["questions"]]
        + [recall(results[m]["by_type"].get(t, {})) for m in ("extractive", "llm")]
        for t in types
    ]
    rows.append(
        ["all", results["extractive"]["questions"]] + [recall(results[m]["summary"]) for m in results]
    )
    print(f"context recall on the {args.split} half of {args.dev.name} ({args.store.name})")
    print(table(["type", "n", "extractive", "llm (fake model)"], rows))
    write_json(
        "context_recall",
        {m: {"summary": r["summary"], "by_type": r["by_type"]} for m, r in results.items()},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
