"""`openbaar serve`: the chat in the browser (Chainlit), with the HTTP API, after checking everything it needs.

Every check that can refuse runs first, so a refused start leaves nothing behind; then the history tables are
created, the app root Chainlit reads (config, translations, public files) is prepared in OPENBAAR_RUN_DIR, and
this process becomes `chainlit run`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated

import typer

from assistant.i18n import default_language, t
from assistant.interfaces.cli.app import CliError, StoreOption, app, load_settings
from assistant.settings import Settings


def check_chat_settings(settings: Settings) -> None:
    """Staff logins, their secret and the allowed origins, each refused in one line when wrong."""
    from assistant.interfaces.chat.staff import StaffUsersError, parse_staff_users

    try:
        staff = parse_staff_users(settings.staff_users)
    except StaffUsersError as exc:
        raise CliError("error.staff_users", error=str(exc)) from exc
    secret = settings.chainlit_auth_secret
    if staff and (
        secret is None or not secret.get_secret_value().strip()
    ):  # `CHAINLIT_AUTH_SECRET=` is empty
        raise CliError("error.auth_secret_missing")
    if "*" in settings.allowed_origins:
        raise CliError("error.origins_wildcard")


def create_history(settings: Settings) -> None:
    from assistant.interfaces.chat.history import database_url, ensure_schema

    try:
        asyncio.run(ensure_schema(database_url(settings)))
    except Exception as exc:
        raise CliError("error.chat_db", error=type(exc).__name__) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    store: StoreOption = None,
) -> None:
    """Serve the chat in the browser (Chainlit). Checks the store first."""
    from assistant.factory import open_assistant
    from assistant.interfaces.chat import chainlit_compat as compat
    from assistant.interfaces.chat.texts import chainlit_overrides

    settings = load_settings(store)
    lang = default_language(settings.language)
    try:
        compat.check_version()
    except compat.ChainlitVersionError as exc:
        raise CliError("error.chainlit_version", expected=exc.expected, found=exc.found) from exc
    check_chat_settings(settings)
    opened = open_assistant(settings)  # a missing store or another embedder stops here, in one line
    mode = opened.default_mode
    opened.close()
    create_history(settings)
    # One app root per port: Chainlit deletes its upload folder (.files) when it stops, so two servers of one
    # run dir (on two ports) must not share it.
    root = settings.run_dir.resolve() / f"chat-{port}"
    env = compat.run_environment(dict(os.environ), root)
    env["OPENBAAR_STORE"] = str(settings.store)
    if settings.chainlit_auth_secret is not None:
        env["CHAINLIT_AUTH_SECRET"] = settings.chainlit_auth_secret.get_secret_value()
    entry = compat.prepare_app_root(root, chainlit_overrides(mode))
    typer.echo(t("serve.starting", lang, host=host, port=port), err=True)
    cmd = compat.run_command(sys.executable, entry, host, port)
    os.execvpe(cmd[0], cmd, env)
