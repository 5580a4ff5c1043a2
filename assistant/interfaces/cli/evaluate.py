"""`openbaar eval FILE`: score a question file (retrieval or answers) against the current store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.i18n import default_language
from assistant.interfaces.cli import render
from assistant.interfaces.cli.app import CliError, JsonOption, StoreOption, app, load_settings, print_json


@app.command(name="eval")
def evaluate(
    file: Annotated[
        Path,
        typer.Argument(help="Question file (JSONL): retrieval (doc_id/gold) or answers (expect_status)."),
    ],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages retrieved per question.")] = 10,
    split: Annotated[
        str | None, typer.Option("--split", help="Only the questions of this split (tune or test).")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="Answer mode: extractive (default) or llm.")
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score a question file against the current store."""
    from assistant import evaluation
    from assistant.factory import open_assistant

    settings = load_settings(store)
    lang = default_language(settings.language)
    if not file.exists():
        raise CliError("error.path_missing", path=file)
    try:
        items = evaluation.read_jsonl(file)
        kind = evaluation.kind_of(items)
    except evaluation.EvalFileError as exc:
        raise CliError("error.eval_file", error=str(exc)) from exc
    if split is not None:
        if split not in ("tune", "test"):
            raise typer.BadParameter("use tune or test", param_hint="--split")
        items = [item for item in items if item.get("split") == split]
        if not items:
            raise CliError("error.eval_file", error=f"{file}: no questions in split {split}")
    if mode not in (None, "llm", "extractive"):
        raise typer.BadParameter("use llm or extractive", param_hint="--mode")
    assistant = open_assistant(settings)
    try:
        if kind == "retrieval":
            result = evaluation.score_retrieval(items, lambda q: assistant.retriever.search(q, k=k))
        else:
            if mode == "llm" and "llm" not in assistant.pipelines:
                raise CliError("error.llm_not_configured")
            pipeline = assistant.pipeline(mode or "extractive")
            checks = []
            for item in items:
                ctx = pipeline.run_context(item["question"], history=list(item.get("history") or []))
                assert ctx.answer is not None
                checks.append(
                    evaluation.check_answer(item, ctx.answer, assistant.store.catalog.text, ctx.context)
                )
            result = evaluation.score_answers(checks)
    finally:
        assistant.close()
    if as_json:
        print_json(result)
    elif kind == "retrieval":
        render.retrieval_scores(result, lang)
    else:
        render.answer_scores(result, lang)
