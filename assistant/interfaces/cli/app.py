"""The `openbaar` Typer app and what its commands share: options, settings loading, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from assistant.i18n import default_language
from assistant.settings import Settings
from vectorstore.records import FilterError, Filters

app = typer.Typer(
    name="openbaar",
    help="Answers questions about government statements with verified, quoted citations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

EXIT_FAILURES = 1  # ran, but some input failed
EXIT_ERROR = 2  # could not run: configuration, store, lock
EXIT_UNEXPECTED = 70

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="Store folder (default: OPENBAAR_STORE or ./var/store).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only statements on or after this date (YYYY[-MM[-DD]]).")
]
UntilOption = Annotated[str | None, typer.Option("--until", help="Only statements on or before this date.")]
TypeOption = Annotated[str | None, typer.Option("--type", help="Only documents of this type.")]
SpeakerOption = Annotated[
    str | None, typer.Option("--speaker", help="Only statements by this speaker (part of the name).")
]
LanguageOption = Annotated[
    str | None, typer.Option("--language", help="Only documents in this language (nl, en, ...).")
]


class CliError(Exception):
    """A message key and its parameters; printed as one line, exit code EXIT_ERROR."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def load_settings(store: Path | None) -> Settings:
    """Settings from the environment and .env, `--store` applied; an invalid value names its variable."""
    overrides: dict[str, Any] = {}
    if store is not None:
        overrides["store"] = store
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        field = Settings.model_fields.get(name)
        alias = field.validation_alias if field is not None else None
        env = alias.choices[0] if alias is not None else f"OPENBAAR_{name.upper()}"
        raise CliError("error.settings", error=f"{env}: {first['msg']}") from exc


def message_language() -> str:
    """The language of CLI messages (OPENBAAR_LANGUAGE, else LANG), even when other settings are invalid."""
    try:
        return default_language(Settings().language)
    except ValidationError:
        return default_language()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def make_filters(
    since: str | None, until: str | None, doc_type: str | None, speaker: str | None, language: str | None
) -> Filters:
    """Filters from CLI options; a date that is not a date is an error, not an empty result."""
    try:
        return Filters(since=since, until=until, language=language, type=doc_type, speaker=speaker)
    except FilterError as exc:
        raise CliError("error.bad_date", value=exc.value) from exc
