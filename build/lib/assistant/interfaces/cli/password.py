"""`openbaar hash-password [NAME]`: a scrypt hash of a staff password for OPENBAAR_STAFF_USERS."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from assistant.i18n import t
from assistant.interfaces.cli.app import CliError, app, message_language

MIN_PASSWORD = 12


@app.command(name="hash-password")
def hash_password_command(
    name: Annotated[
        str | None, typer.Argument(help="Staff user name: print NAME:HASH for OPENBAAR_STAFF_USERS.")
    ] = None,
) -> None:
    """Make a scrypt hash of a staff password (asked twice, hidden; or read from stdin when piped)."""
    from assistant.interfaces.chat.staff import hash_password

    lang = message_language()
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
