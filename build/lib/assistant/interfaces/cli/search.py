"""`openbaar search QUESTION`: the passages hybrid retrieval finds, without composing an answer."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.i18n import default_language
from assistant.interfaces.cli import render
from assistant.interfaces.cli.app import (
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


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="What to search for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Number of passages.")] = 10,
    since: SinceOption = None,
    until: UntilOption = None,
    doc_type: TypeOption = None,
    speaker: SpeakerOption = None,
    language: LanguageOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the passages hybrid retrieval finds for a question (no answer composed)."""
    from assistant.factory import open_assistant

    settings = load_settings(store)
    filters = make_filters(since, until, doc_type, speaker, language)
    assistant = open_assistant(settings)
    try:
        hits = assistant.retriever.search(question, k=k, filters=filters)
    finally:
        assistant.close()
    if as_json:
        print_json(render.hits_json(question, hits))
        return
    render.hits(hits, default_language(settings.language))
