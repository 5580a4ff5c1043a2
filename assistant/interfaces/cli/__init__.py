"""The `openbaar` command: one module per command, rendering in render.py, shared options in app.py.

Library errors become one line on stderr and a non-zero exit code (`main`): 1 some input failed, 2 could not run
(settings, store, lock, usage), 70 unexpected; never a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer

from assistant.i18n import t
from assistant.interfaces.cli import (  # noqa: F401 - commands
    ask,
    evaluate,
    ingest,
    password,
    search,
    serve,
    stats,
    worker,
)
from assistant.interfaces.cli.app import EXIT_ERROR, EXIT_UNEXPECTED, CliError, app, message_language


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `openbaar` console command."""
    from assistant.answer.llm.prompts import PromptError
    from vectorstore.errors import EmbeddingError, StoreError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(args=argv, standalone_mode=False, prog_name="openbaar")  # the exit code of typer.Exit
        return code if isinstance(code, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 130
    except (
        typer.exceptions.TyperException
    ) as exc:  # a typing mistake: the usage line and what is wrong, exit 2
        exc.show()
        return exc.exit_code
    except CliError as exc:
        typer.echo(t(exc.key, message_language(), **exc.params), err=True)
        return EXIT_ERROR
    except StoreError as exc:
        typer.echo(t(f"error.{exc.code}", message_language(), **exc.params), err=True)
        return EXIT_ERROR
    except EmbeddingError as exc:
        typer.echo(t("error.embedding", message_language(), error=str(exc)), err=True)
        return EXIT_ERROR
    except PromptError as exc:
        typer.echo(t("error.prompts", message_language(), error=str(exc)), err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: never a traceback
        logging.getLogger("openbaar").debug("unexpected error", exc_info=True)
        typer.echo(t("error.unexpected", message_language(), error=type(exc).__name__), err=True)
        return EXIT_UNEXPECTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
