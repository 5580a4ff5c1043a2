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
    assistant = open_assistant(settings)
    try:
        if kind == "retrieval":
            result = evaluation.score_retrieval(items, lambda q: assistant.retriever.search(q, k=k))
        else:
            pipeline = assistant.pipeline("extractive")
            checks = [
                evaluation.check_answer(
                    item,
                    pipeline.run(item["question"], history=list(item.get("history") or [])),
                    assistant.store.catalog.text,
                )
                for item in items
            ]
            result = evaluation.score_answers(checks)
    finally:
        assistant.close()
    if as_json:
        print_json(result)
    elif kind == "retrieval":
        render.retrieval_scores(result, lang)
    else:
        render.answer_scores(result, lang)
