"""How the CLI prints answers, passages, store statistics, evaluation results and ingestion reports."""

from __future__ import annotations

import sys
from typing import Any

import typer

from assistant.answer.base import Answer
from assistant.i18n import framing, t
from ingestion.discover import printable
from vectorstore.records import Hit


def answer(result: Answer, lang: str) -> None:
    """The answer and its sources in the answer's language (the question's); the status line, on stderr, in the
    terminal's language `lang`."""
    said = framing(result.language)
    typer.echo(result.answer)
    if result.standalone_question != result.question:
        typer.echo(t("cli.standalone", said, question=result.standalone_question))
    if result.citations:
        typer.echo("")
        typer.echo(t("cli.sources", said))
        for c in result.citations:
            meta = ", ".join(str(v) for v in (c.date, c.speaker) if v)
            typer.echo(f"[{c.n}] {c.title or c.doc_id}" + (f" ({meta})" if meta else ""))
            typer.echo(f"    “{c.quote}”")
            if c.url:
                typer.echo(f"    {c.url}")
    total = round(result.timings_ms.get("total", 0))
    typer.echo(t("cli.status_line", lang, status=result.status, mode=result.mode, total=total), err=True)


HIT_FIELDS = ("rank", "score", "doc_id", "chunk_id", "title", "date", "speaker", "url", "text")


def hits_json(query: str, hits: list[Hit]) -> dict[str, Any]:
    return {"query": query, "results": [{key: getattr(h, key) for key in HIT_FIELDS} for h in hits]}


def hits(found: list[Hit], lang: str) -> None:
    if not found:
        typer.echo(t("cli.no_results", lang))
    for h in found:
        meta = " · ".join(str(v) for v in (h.date, h.speaker) if v)
        typer.echo(
            f"{h.rank:>2}. {h.title or h.doc_id}" + (f" ({meta})" if meta else "") + f"  [{h.score:.4f}]"
        )
        typer.echo(f"    {' '.join(h.text.split())[:300]}")


def stats(data: dict[str, Any], lang: str) -> None:
    manifest = data.get("manifest") or {}
    emb = manifest.get("embedding", {})
    chunking = manifest.get("chunking", {})
    rows = [
        (t("stats.documents", lang), str(data["documents"])),
        (t("stats.chunks", lang), str(data["chunks"])),
        (t("stats.languages", lang), ", ".join(f"{k} {v}" for k, v in data["languages"].items())),
        (t("stats.types", lang), ", ".join(f"{k} {v}" for k, v in data["types"].items())),
        (t("stats.dates", lang), t("stats.dates_value", lang, **data["date_range"])),
        (t("stats.embedder", lang), f"{emb.get('provider')} {emb.get('model_id')} ({emb.get('dimension')})"),
        (t("stats.chunking", lang), ", ".join(f"{k}={v}" for k, v in chunking.items())),
        (t("stats.updated", lang), str(manifest.get("updated_at"))),
        (t("stats.generation", lang), str(data.get("generation", "-"))),
        (
            t("stats.lexical", lang),
            t("stats.lexical_current" if data.get("lexical_current") else "stats.lexical_stale", lang),
        ),
    ]
    typer.echo(t("stats.title", lang, store=data["store"]))
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        typer.echo(f"  {label.ljust(width)}  {value}")


def _pct(x: float) -> str:
    return f"{x:.3f}"


def retrieval_scores(result: dict[str, Any], lang: str) -> None:
    typer.echo(
        t(
            "cli.eval_retrieval",
            lang,
            questions=result["questions"],
            r1=_pct(result["recall@1"]),
            r5=_pct(result["recall@5"]),
            r10=_pct(result["recall@10"]),
            mrr=_pct(result["mrr@10"]),
        )
    )


def answer_scores(result: dict[str, Any], lang: str) -> None:
    for item in result["items"]:
        ok = item["status_ok"] and item["mentions_ok"]
        missing = f" (missing: {item['missing']})" if item["missing"] else ""
        typer.echo(
            t(
                "cli.eval_item",
                lang,
                mark="✓" if ok else "✗",
                id=item["id"],
                expected=item["expected"],
                got=item["got"],
                missing=missing,
            )
        )
    score_table("type", result.get("by_type", {}))
    score_table("corpus", result.get("by_corpus", {}))
    if result.get("by_type"):
        score_table("all", {"all": result["summary"]})
    typer.echo(
        t(
            "cli.eval_answers",
            lang,
            questions=result["questions"],
            status=_pct(result["status_accuracy"]),
            mentions=_pct(result["must_mention_accuracy"]),
            validity=_pct(result["citation_validity"]),
            citations=result["citations"],
        )
    )


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


SCORE_COLUMNS = ("pass", "status", "mentions", "gold_cited", "context_recall", "abstention")


def score_table(title: str, groups: dict[str, dict[str, Any]]) -> None:
    """One row per group (type or corpus): questions and each measure (- where it does not apply)."""
    if not groups:
        return
    header = [title, "n", *SCORE_COLUMNS]
    rows = [[name, str(g["questions"]), *(_cell(g[c]) for c in SCORE_COLUMNS)] for name, g in groups.items()]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    typer.echo("")
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def ingest_failures(failures: list[Any], lang: str) -> None:
    for failure in failures:
        detail = f" ({failure.detail})" if failure.detail else ""
        reason = t(f"failure.{failure.code}", lang)
        typer.echo(
            t(
                "ingest.failure_line",
                lang,
                where=printable(failure.where),
                reason=reason,
                detail=printable(detail),
            ),
            err=True,
        )


def progress_bar(lang: str):
    """A rich progress bar with ETA on a terminal; (None, None) (quiet) otherwise."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(t(f"ingest.progress_{phase}", lang), total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return bar, update
