"""Fit the offline answerer's scoring model on the TUNE half of the development set, and choose its thresholds.

    .venv/bin/python benchmarks/train_answerer.py --store var/eval-store [--dev eval/dev.jsonl] [--write]
        [--min-abstention 0.95] [--skip-corpus whitehouse]

The store must hold all six shared corpora (`make eval-store DATA=../shared/corpus`). For every tune question the
real pipeline runs (guard, follow-up condensing, language, retrieval); every candidate sentence of the documents
the composer reads is labelled 1 when it overlaps the question's evidence in its gold document, else 0, and a
logistic regression (L2, Newton's method, numpy only) is fitted on their features. The answer threshold is then
chosen on the tune half: the highest pass rate among thresholds that keep at least 95 % of the questions whose
answer is not in the sources unanswered (`--min-abstention`; or as many as any threshold keeps, when the rule in
front already answers some of them), ties to the higher abstention. The test half is never read. `--write` stores the result in
assistant/answer/extractive/weights.json (with what it was fitted on); a table is printed and JSON written to
var/bench/train_answerer.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import require_store, table, write_json

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "assistant" / "answer" / "extractive" / "weights.json"
MIN_ABSTENTION = 0.95  # answering a question whose answer is not in the sources is the worse mistake
L2 = 1.0


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression on standardised features (Newton's method; the
    bias is not penalised), returned for the raw features."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    w, b = _fit_standardised((x - mean) / std, y, l2, steps)
    return w / std, b - float(np.sum(w * mean / std))


def _fit_standardised(x: np.ndarray, y: np.ndarray, l2: float, steps: int) -> tuple[np.ndarray, float]:
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.eye(d + 1) * l2
    penalty[d, d] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        gradient = xb.T @ (p - y) + penalty @ w
        hessian = (xb * (p * (1 - p))[:, None]).T @ xb + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:d], float(w[d])


def evidence_spans(item: dict, text_of) -> dict[str, list[tuple[int, int]]]:
    """doc id -> (start, end) of each piece of evidence located in that gold document."""
    from assistant.evaluation import fold

    out: dict[str, list[tuple[int, int]]] = {}
    for doc_id in item.get("gold_docs") or []:
        text = text_of(doc_id) or ""
        folded, offsets = _fold_with_offsets(text, fold)
        for piece in item.get("evidence") or []:
            at = folded.find(fold(piece))
            if at >= 0:
                end = at + len(fold(piece)) - 1
                out.setdefault(doc_id, []).append((offsets[at], offsets[min(end, len(offsets) - 1)] + 1))
    return out


def _fold_with_offsets(text: str, fold) -> tuple[str, list[int]]:
    """fold(text) computed character by character, with each output character's offset in `text`."""
    chars: list[str] = []
    offsets: list[int] = []
    previous_space = True
    for i, ch in enumerate(text):
        piece = fold(ch) if not ch.isspace() else " "
        if piece == " " or ch.isspace():
            if not previous_space:
                chars.append(" ")
                offsets.append(i)
            previous_space = True
            continue
        previous_space = False
        for c in piece:
            chars.append(c)
            offsets.append(i)
    return "".join(chars).rstrip(), offsets


class Capture:
    """A composer that records the offline composer's candidates for each question, then answers as it does."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.mode = inner.mode
        self.last: list = []
        self.last_request = None

    def compose(self, request):
        self.last = self.inner.candidates(request).candidates
        self.last_request = request
        return self.inner.compose(request)

    def finalise(self, answer, valid, rejected):
        return self.inner.finalise(answer, valid, rejected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a store holding all shared corpora")
    parser.add_argument("--dev", type=Path, default=REPO / "eval" / "dev.jsonl")
    parser.add_argument("--write", action="store_true", help="write the fitted model to weights.json")
    parser.add_argument(
        "--min-abstention",
        type=float,
        default=MIN_ABSTENTION,
        help="only thresholds that keep at least this share of not-in-the-sources questions unanswered",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="FEATURE",
        help="fit with this feature's weight held at 0 (a quirk of one corpus, not of answers); repeatable",
    )
    parser.add_argument(
        "--skip-corpus",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out the questions of this corpus (when the store does not hold it); repeatable",
    )
    args = parser.parse_args()

    from assistant.answer.extractive.features import FEATURES
    from assistant.answer.extractive.model import AnswerModel, AnswerModels, load_models
    from assistant.evaluation import check_answer, read_jsonl, summarise
    from assistant.factory import offline_composer, open_assistant
    from assistant.pipeline import answer_pipeline
    from assistant.settings import Settings

    require_store(args.store)
    items = [
        it
        for it in read_jsonl(args.dev)
        if it.get("split") == "tune" and it.get("corpus") not in args.skip_corpus
    ]
    assistant = open_assistant(Settings(store=args.store))
    base = offline_composer(assistant.store)
    capture = Capture(base)
    pipeline = answer_pipeline(assistant.retriever, capture, assistant.store.catalog)
    text_of = assistant.store.catalog.text

    started = time.perf_counter()
    rows: list[tuple[dict, object, list]] = []  # (item, request context, candidates)
    xs: list[list[float]] = []
    ys: list[float] = []
    for item in items:
        capture.last, capture.last_request = [], None
        ctx = pipeline.run_context(item["question"], history=list(item.get("history") or []))
        candidates = list(capture.last)
        rows.append((item, ctx, candidates))
        spans = evidence_spans(item, text_of) if item["expect_status"] in ("answered", "withheld") else {}
        for c in candidates:
            label = any(s < c.end and c.start < e for s, e in spans.get(c.hit.doc_id, []))
            xs.append([c.features.get(name, 0.0) for name in FEATURES])
            ys.append(1.0 if label else 0.0)
    x, y = np.asarray(xs), np.asarray(ys)
    print(
        f"{len(items)} tune questions, {len(y)} candidates, {int(y.sum())} answering; {time.perf_counter() - started:.0f} s"
    )
    shipped = load_models()
    dense_columns = [FEATURES.index(n) for n in ("dense", "dense_gap", "dense_doc", "chunk_dense")]

    held = [FEATURES.index(n) for n in args.without]

    def fit(vectors: bool) -> AnswerModel:
        data = x.copy()
        data[:, held] = 0.0
        if not vectors:
            data[:, dense_columns] = 0.0
        w, b = fit_logistic(data, y)
        return replace(
            shipped.pick(vectors), weights={n: float(v) for n, v in zip(FEATURES, w, strict=True)}, bias=b
        )

    def evaluate(models: AnswerModels, vectors: bool) -> dict:
        base.models = models
        checks = []
        for item, ctx, _ in rows:
            if ctx.answer is not None and ctx.answer.status == "refused":
                answer = ctx.answer
            else:
                kept = ctx.query_vector
                if not vectors:
                    ctx.query_vector = None
                answer = base.compose(ctx)
                ctx.query_vector = kept
            checks.append(check_answer(item, answer, text_of, ctx.context))
        return summarise(checks)

    chosen: dict[bool, AnswerModel] = {}
    report: dict[str, object] = {}
    for vectors in (True, False):
        fitted = fit(vectors)
        results = []
        for threshold in np.round(np.arange(0.02, 0.96, 0.02), 2):
            for ratio in (0.5, 0.7, 0.9):
                model = replace(
                    fitted,
                    answer_threshold=float(threshold),
                    extra_ratio=ratio,
                    extra_floor=float(threshold) * 0.6,
                )
                pair = AnswerModels(model, model)
                results.append((float(threshold), ratio, evaluate(pair, vectors)))
        # the floor: --min-abstention, or the most any threshold reaches (the rule in front may answer a question
        # the sources cannot answer whatever the model's threshold)
        floor = min(args.min_abstention, max((r[2]["abstention"] or 0) for r in results))
        allowed = [r for r in results if (r[2]["abstention"] or 0) >= floor]
        threshold, ratio, summary = max(
            allowed, key=lambda r: (round(r[2]["pass"] or 0, 6), r[2]["abstention"] or 0, r[0])
        )
        name = "with_vectors" if vectors else "without_vectors"
        chosen[vectors] = replace(
            fitted,
            answer_threshold=threshold,
            extra_ratio=ratio,
            extra_floor=round(threshold * 0.6, 3),
            remark_threshold=round(threshold * 0.6, 3),
            trained={
                "on": f"{args.dev.name} split=tune ({len(items)} questions, {len(y)} candidate sentences)"
                + (f", without {', '.join(args.skip_corpus)}" if args.skip_corpus else "")
                + (f"; weights held at 0: {', '.join(args.without)}" if args.without else ""),
                "store": str(args.store.name),
                "date": time.strftime("%Y-%m-%d"),
                "tune_pass": summary["pass"],
                "tune_abstention": summary["abstention"],
                "rule": f"highest tune pass rate (then abstention) with abstention >= {floor:.3f}",
            },
        )
        print(f"\n{name}")
        print(
            table(
                ["feature", "weight"],
                [[n, f"{v:+.3f}"] for n, v in fitted.weights.items()] + [["bias", f"{fitted.bias:+.3f}"]],
            )
        )
        print(
            table(
                ["threshold", "ratio", "pass", "abstention", "gold cited", "context"],
                [
                    [
                        t,
                        r,
                        f"{s['pass']:.3f}",
                        f"{(s['abstention'] or 0):.3f}",
                        f"{(s['gold_cited'] or 0):.3f}",
                        f"{(s['context_recall'] or 0):.3f}",
                    ]
                    for t, r, s in results
                    if r == ratio
                ],
            )
        )
        print(
            f"chosen: threshold {threshold}, ratio {ratio}: tune pass {summary['pass']:.3f}, abstention {summary['abstention']}"
        )
        report[name] = {"chosen": chosen[vectors].to_dict(), "grid": [[t, r, s] for t, r, s in results]}
    models = AnswerModels(chosen[True], chosen[False])
    write_json("train_answerer", report)
    if args.write:
        WEIGHTS.write_text(json.dumps(models.to_dict(), indent=2) + "\n")
        print(f"written {WEIGHTS.relative_to(REPO)}")
    assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
