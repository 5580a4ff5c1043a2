"""`openbaar ask QUESTION` (or `--batch FILE`): an answer from the sources, with verified quotes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.i18n import default_language
from assistant.interfaces.cli import render
from assistant.interfaces.cli.app import (
    CliError,
    JsonOption,
    LanguageOption,
    SinceOption,
    SpeakerOption,
    StoreOption,
    TypeOption,
    UntilOption,
    app,
    load_settings,
    make_filters,
    print_json,
)


def read_batch(path: Path) -> list[dict[str, Any]]:
    """The lines of a --batch file; each must hold a question."""
    from assistant.evaluation import EvalFileError, read_jsonl

    try:
        items = read_jsonl(path)
    except EvalFileError as exc:
        raise CliError("error.eval_file", error=str(exc)) from exc
    for n, item in enumerate(items, 1):
        if not isinstance(item.get("question"), str):
            raise CliError("error.batch_line", line=n, path=path, error="no question")
    return items


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question (omit with --batch).")] = None,
    history: Annotated[
        list[str] | None,
        typer.Option("--history", help="An earlier question of the conversation (repeatable)."),
    ] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help='JSONL file of {"id", "question", "history"} lines.')
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="llm or extractive (default: llm when configured).")
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Passages given to the answer step.")] = 8,
    since: SinceOption = None,
    until: UntilOption = None,
    doc_type: TypeOption = None,
    speaker: SpeakerOption = None,
    language: LanguageOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from the sources, with verified quotes."""
    from assistant.factory import open_assistant

    settings = load_settings(store)
    lang = default_language(settings.language)
    filters = make_filters(since, until, doc_type, speaker, language)
    if mode not in (None, "llm", "extractive"):
        raise typer.BadParameter("use llm or extractive", param_hint="--mode")
    if question is None and batch is None:
        raise typer.BadParameter("give a QUESTION or --batch FILE", param_hint="QUESTION")
    items = read_batch(batch) if batch is not None else [{"question": question, "history": history or []}]
    assistant = open_assistant(settings)
    try:
        if mode == "llm" and "llm" not in assistant.pipelines:
            raise CliError("error.llm_not_configured")
        pipeline = assistant.pipeline(mode)
        for item in items:
            result = pipeline.run(
                item["question"], history=list(item.get("history") or []), filters=filters, k=k
            )
            if batch is not None:
                print_json({"id": item.get("id"), **result.to_dict()})
            elif as_json:
                print_json(result.to_dict())
            else:
                render.answer(result, lang)
    finally:
        assistant.close()
