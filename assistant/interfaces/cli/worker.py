"""`openbaar worker`: take part in an ingestion run started elsewhere (`openbaar ingest`), through the database."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.i18n import default_language, t
from assistant.interfaces.cli.app import (
    EXIT_FAILURES,
    JsonOption,
    StoreOption,
    app,
    load_settings,
    print_json,
)


@app.command()
def worker(
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, max=3600, help="Seconds to wait for a run to start (default 30)."),
    ] = 30.0,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Process documents of the running ingestion (needs OPENBAAR_DB_URL and a Chroma server); exits when the
    run has none left. The coordinator (`openbaar ingest`) does the global steps."""
    from assistant.factory import cached_embedder, run_worker

    settings = load_settings(store)
    lang = default_language(settings.language)
    embedder = cached_embedder(settings)
    try:
        summary = run_worker(settings, embedder, wait=wait)
    finally:
        embedder.cache.close()
    if as_json:
        print_json(summary.to_dict())
    elif summary.joined:
        typer.echo(t("worker.summary", lang, **summary.to_dict()))
    if not summary.joined:
        typer.echo(t("worker.no_run", lang, wait=round(wait)), err=True)
        raise typer.Exit(EXIT_FAILURES)
