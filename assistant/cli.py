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
        name = str(first["loc"][0]) if first["loc"] else ""
        field = Settings.model_fields.get(name)
        alias = field.validation_alias if field is not None else None
        env = alias.choices[0] if alias is not None else f"OPENBAAR_{name.upper()}"
        raise CliError("error.settings", error=f"{env}: {first['msg']}") from exc


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


def make_filters(since, until, doc_type, speaker, language):
    """Filters from CLI options; dates are checked so a typo is an error, not an empty result."""
    from ingestion.metadata import normalise_date
    from vectorstore.results import Filters

    for value in (since, until):
        if value is not None and normalise_date(value) is None:
            raise CliError("error.bad_date", value=value)
    return Filters(
        since=normalise_date(since) if since else None,
        until=normalise_date(until) if until else None,
        language=language,
        type=doc_type,
        speaker=speaker,
    )


def _open(settings: Settings):
    from assistant.factory import open_assistant

    return open_assistant(settings)


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
    settings = load_settings(store)
    lang = default_language(settings.language)
    filters = make_filters(since, until, doc_type, speaker, language)
    assistant = _open(settings)
    try:
        hits = assistant.retriever.search(question, k=k, filters=filters)
    finally:
        assistant.close()
    keys = ("rank", "score", "doc_id", "chunk_id", "title", "date", "speaker", "url", "text")
    if as_json:
        _print_json({"query": question, "results": [{key: getattr(h, key) for key in keys} for h in hits]})
        return
    if not hits:
        typer.echo(t("cli.no_results", lang))
    for h in hits:
        meta = " · ".join(str(v) for v in (h.date, h.speaker) if v)
        typer.echo(
            f"{h.rank:>2}. {h.title or h.doc_id}" + (f" ({meta})" if meta else "") + f"  [{h.score:.4f}]"
        )
        typer.echo(f"    {' '.join(h.text.split())[:300]}")


def _print_answer(answer, lang: str) -> None:
    typer.echo(answer.answer)
    if answer.standalone_question != answer.question:
        typer.echo(t("cli.standalone", lang, question=answer.standalone_question))
    if answer.citations:
        typer.echo("")
        typer.echo(t("cli.sources", lang))
        for c in answer.citations:
            meta = ", ".join(str(v) for v in (c.date, c.speaker) if v)
            typer.echo(f"[{c.n}] {c.title or c.doc_id}" + (f" ({meta})" if meta else ""))
            typer.echo(f"    “{c.quote}”")
            if c.url:
                typer.echo(f"    {c.url}")
    total = round(answer.timings_ms.get("total", 0))
    typer.echo(t("cli.status_line", lang, status=answer.status, mode=answer.mode, total=total), err=True)


def _read_batch(path: Path) -> list[dict[str, Any]]:
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
    settings = load_settings(store)
    lang = default_language(settings.language)
    filters = make_filters(since, until, doc_type, speaker, language)
    if mode not in (None, "llm", "extractive"):
        raise typer.BadParameter("use llm or extractive", param_hint="--mode")
    if question is None and batch is None:
        raise typer.BadParameter("give a QUESTION or --batch FILE", param_hint="QUESTION")
    items = _read_batch(batch) if batch is not None else [{"question": question, "history": history or []}]
    assistant = _open(settings)
    try:
        if mode == "llm" and "llm" not in assistant.pipelines:
            raise CliError("error.llm_not_configured")
        pipeline = assistant.pipeline(mode)
        for item in items:
            answer = pipeline.run(
                item["question"], history=list(item.get("history") or []), filters=filters, k=k
            )
            if batch is not None:
                _print_json({"id": item.get("id"), **answer.to_dict()})
            elif as_json:
                _print_json(answer.to_dict())
            else:
                _print_answer(answer, lang)
    finally:
        assistant.close()


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

    settings = load_settings(store)
    lang = default_language(settings.language)
    if not file.exists():
        raise CliError("error.path_missing", path=file)
    try:
        items = evaluation.read_jsonl(file)
        kind = evaluation.kind_of(items)
    except evaluation.EvalFileError as exc:
        raise CliError("error.eval_file", error=str(exc)) from exc
    assistant = _open(settings)
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
        _print_json(result)
        return
    pct = lambda x: f"{x:.3f}"  # noqa: E731
    if kind == "retrieval":
        typer.echo(
            t(
                "cli.eval_retrieval",
                lang,
                questions=result["questions"],
                r1=pct(result["recall@1"]),
                r5=pct(result["recall@5"]),
                r10=pct(result["recall@10"]),
                mrr=pct(result["mrr@10"]),
            )
        )
        return
    for item in result["items"]:
        ok = item["status_ok"] and item["mentions_ok"]
        missing = f" (missing: {item['missing']})" if item["missing"] else ""
        typer.echo(
            t(
                "cli.eval_item",
                lang,
                mark="✓" if ok else "✗",
                id=item["id"],
                expected=item["expected"],
                got=item["got"],
                missing=missing,
            )
        )
    typer.echo(
        t(
            "cli.eval_answers",
            lang,
            questions=result["questions"],
            status=pct(result["status_accuracy"]),
            mentions=pct(result["must_mention_accuracy"]),
            validity=pct(result["citation_validity"]),
            citations=result["citations"],
        )
    )


def _chat_env(settings: Settings) -> dict[str, str]:
    """Checks the chat settings (one-line errors) and returns what the Chainlit process needs in its environment."""
    import asyncio

    from assistant.auth import StaffUsersError, parse_staff_users
    from assistant.datalayer import database_url, ensure_schema

    try:
        staff = parse_staff_users(settings.staff_users)
    except StaffUsersError as exc:
        raise CliError("error.staff_users", error=str(exc)) from exc
    if staff and settings.chainlit_auth_secret is None:
        raise CliError("error.auth_secret_missing")
    if "*" in settings.allowed_origins:
        raise CliError("error.origins_wildcard")
    try:
        asyncio.run(ensure_schema(database_url(settings)))
    except Exception as exc:
        raise CliError("error.chat_db", error=type(exc).__name__) from exc
    root = Path(__file__).resolve().parents[1]  # chainlit.md, public/ and .chainlit/ live at the project root
    env = {"CHAINLIT_APP_ROOT": str(root), "OPENBAAR_STORE": str(settings.store)}
    if settings.chainlit_auth_secret is not None:
        env["CHAINLIT_AUTH_SECRET"] = settings.chainlit_auth_secret.get_secret_value()
    return env


MIN_PASSWORD = 12


@app.command(name="hash-password")
def hash_password_command(
    name: Annotated[
        str | None, typer.Argument(help="Staff user name: print NAME:HASH for OPENBAAR_STAFF_USERS.")
    ] = None,
) -> None:
    """Make a scrypt hash of a staff password (asked twice, hidden; or read from stdin when piped)."""
    from assistant.auth import hash_password

    lang = _lang()
    if sys.stdin.isatty():
        password = typer.prompt(t("cli.password_prompt", lang), hide_input=True, err=True)
        if password != typer.prompt(t("cli.password_repeat", lang), hide_input=True, err=True):
            raise CliError("error.password_mismatch")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise CliError("error.password_short", min=MIN_PASSWORD)
    encoded = hash_password(password)
    typer.echo(f"{name}:{encoded}" if name else encoded)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    store: StoreOption = None,
) -> None:
    """Serve the chat in the browser (Chainlit). Checks the store first."""
    import os

    from assistant.factory import open_assistant

    settings = load_settings(store)
    lang = default_language(settings.language)
    env = {**os.environ, **_chat_env(settings)}  # login, origins and history database checked first
    # `chainlit run` treats CI=true as "--ci" and then sets a fake OPENAI_API_KEY in its process, which would
    # switch Openbaar to a language model that does not exist. Our own settings decide that, so CI stays out.
    env.pop("CI", None)
    open_assistant(settings).close()  # a missing store or another embedder stops here, in one line
    root = Path(env["CHAINLIT_APP_ROOT"])
    typer.echo(t("serve.starting", lang, host=host, port=port), err=True)
    cmd = [
        sys.executable,
        "-m",
        "chainlit",
        "run",
        str(root / "assistant" / "app.py"),
        "--headless",
        "--host",
        host,
        "--port",
        str(port),
    ]
    os.execvpe(cmd[0], cmd, env)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `openbaar` console command."""
    from assistant.prompting import PromptError
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
    except PromptError as exc:
        typer.echo(t("error.prompts", _lang(), error=str(exc)), err=True)
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
