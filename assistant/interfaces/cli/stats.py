"""`openbaar stats`: what the store holds."""

from __future__ import annotations

from assistant.i18n import default_language
from assistant.interfaces.cli import render
from assistant.interfaces.cli.app import JsonOption, StoreOption, app, load_settings, print_json


@app.command()
def stats(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Show what the store holds: documents, chunks, languages, dates and the manifest."""
    from assistant.factory import open_store

    settings = load_settings(store)
    opened = open_store(settings)
    try:
        data = opened.stats()
    finally:
        opened.close()
    if as_json:
        print_json(data)
        return
    render.stats(data, default_language(settings.language))
