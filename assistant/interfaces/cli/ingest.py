"""`openbaar ingest PATH...`: bring the store in line with the documents under the paths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.i18n import default_language, t
from assistant.interfaces.cli import render
from assistant.interfaces.cli.app import (
    EXIT_FAILURES,
    CliError,
    JsonOption,
    StoreOption,
    app,
    load_settings,
    print_json,
)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest (folders are walked).")],
    store: StoreOption = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete documents that are gone from these paths.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Ingest documents (.txt .md .html .pdf .docx .jsonl): only new and changed ones are processed."""
    from assistant.factory import cached_embedder, ingest_paths

    settings = load_settings(store)
    lang = default_language(settings.language)
    for path in paths:
        if not path.exists():
            raise CliError("error.path_missing", path=path)
    embedder = cached_embedder(settings)
    bar, update = render.progress_bar(lang)
    try:
        if bar is not None:
            with bar:
                summary = ingest_paths(settings, paths, embedder, prune=prune, progress=update)
        else:
            summary = ingest_paths(settings, paths, embedder, prune=prune)
    finally:
        embedder.cache.close()
    if as_json:
        print_json(summary.to_dict())
    else:
        render.ingest_failures(summary.failures, lang)
        typer.echo(t("ingest.summary", lang, **summary.to_dict()))
    if summary.aborted:
        typer.echo(t("ingest.aborted", lang, error=summary.aborted), err=True)
    if not summary.ok:
        raise typer.Exit(EXIT_FAILURES)
