"""`openbaar stats`: what the store holds (also a half-built one, reported as such)."""

from __future__ import annotations

import typer

from assistant.i18n import default_language, t
from assistant.interfaces.cli import render
from assistant.interfaces.cli.app import JsonOption, StoreOption, app, load_settings, print_json


@app.command()
def stats(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Show what the store holds: documents, chunks, languages, dates, the manifest and its generation."""
    from assistant.factory import open_store

    settings = load_settings(store)
    lang = default_language(settings.language)
    opened = open_store(settings, incomplete_ok=True)
    try:
        data = opened.stats()
    finally:
        opened.close()
    if not data["complete"]:
        typer.echo(t("stats.incomplete", lang), err=True)
    if as_json:
        print_json(data)
        return
    render.stats(data, lang)
