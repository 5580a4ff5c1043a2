"""The `openbaar` command. Library errors become one line on stderr and a non-zero exit code."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from assistant.messages import default_language, t
from assistant.settings import Settings

app = typer.Typer(
    name="openbaar",
    help="Answers questions about government statements with verified, quoted citations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="Store folder (default: OPENBAAR_STORE or ./var/store).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]

EXIT_FAILURES = 1  # ran, but some input failed
EXIT_ERROR = 2  # could not run: configuration, store, lock


class CliError(Exception):
    """A message key and its parameters; printed as one line, exit code EXIT_ERROR."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def load_settings(store: Path | None) -> Settings:
    overrides: dict[str, Any] = {}
    if store is not None:
        overrides["store"] = store
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CliError("error.settings", error=f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def _lang() -> str:
    try:
        return default_language(Settings().language)
    except ValidationError:
        return default_language()


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def _progress_bar(lang: str):
    """A rich progress bar with ETA on a terminal; None (quiet) otherwise."""
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
    from ingestion.indexer import ingest as run_ingest
    from vectorstore.embeddings import build_embedder, with_cache

    settings = load_settings(store)
    lang = default_language(settings.language)
    for path in paths:
        if not path.exists():
            raise CliError("error.path_missing", path=path)
    embedder = with_cache(build_embedder(settings), settings)
    bar, update = _progress_bar(lang)
    try:
        if bar is not None:
            with bar:
                summary = run_ingest(paths, settings, embedder, prune=prune, progress=update)
        else:
            summary = run_ingest(paths, settings, embedder, prune=prune)
    finally:
        embedder.cache.close()
    if as_json:
        _print_json(summary.to_dict())
    else:
        for failure in summary.failures:
            detail = f" ({failure.detail})" if failure.detail else ""
            typer.echo(
                t(
                    "ingest.failure_line",
                    lang,
                    where=failure.where,
                    reason=t(f"failure.{failure.code}", lang),
                    detail=detail,
                ),
                err=True,
            )
        data = summary.to_dict()
        typer.echo(t("ingest.summary", lang, **data))
    if summary.aborted:
        typer.echo(t("ingest.aborted", lang, error=summary.aborted), err=True)
    if not summary.ok:
        raise typer.Exit(EXIT_FAILURES)


@app.command()
def stats(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Show what the store holds: documents, chunks, languages, dates and the manifest."""
    from vectorstore.embeddings import build_embedder
    from vectorstore.store import Store

    settings = load_settings(store)
    lang = default_language(settings.language)
    opened = Store(settings, build_embedder(settings))
    try:
        data = opened.stats()
    finally:
        opened.close()
    if as_json:
        _print_json(data)
        return
    manifest = data.get("manifest") or {}
    emb = manifest.get("embedding", {})
    chunking = manifest.get("chunking", {})
    dates = data["date_range"]
    rows = [
        (t("stats.documents", lang), str(data["documents"])),
        (t("stats.chunks", lang), str(data["chunks"])),
        (t("stats.languages", lang), ", ".join(f"{k} {v}" for k, v in data["languages"].items())),
        (t("stats.types", lang), ", ".join(f"{k} {v}" for k, v in data["types"].items())),
        (t("stats.dates", lang), t("stats.dates_value", lang, **dates)),
        (t("stats.embedder", lang), f"{emb.get('provider')} {emb.get('model_id')} ({emb.get('dimension')})"),
        (t("stats.chunking", lang), ", ".join(f"{k}={v}" for k, v in chunking.items())),
        (t("stats.updated", lang), str(manifest.get("updated_at"))),
    ]
    typer.echo(t("stats.title", lang, store=data["store"]))
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        typer.echo(f"  {label.ljust(width)}  {value}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `openbaar` console command."""
    from vectorstore.embeddings import EmbeddingError
    from vectorstore.store import StoreError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(args=argv, standalone_mode=False)  # returns the exit code of typer.Exit
        return code if isinstance(code, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except CliError as exc:
        typer.echo(t(exc.key, _lang(), **exc.params), err=True)
        return EXIT_ERROR
    except StoreError as exc:
        typer.echo(t(f"error.{exc.code}", _lang(), **exc.params), err=True)
        return EXIT_ERROR
    except EmbeddingError as exc:
        typer.echo(t("error.embedding", _lang(), error=str(exc)), err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: never a traceback
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 130
        logging.getLogger("openbaar").debug("unexpected error", exc_info=True)
        typer.echo(t("error.unexpected", _lang(), error=type(exc).__name__), err=True)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
