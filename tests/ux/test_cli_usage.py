"""Issue point 11: typing mistakes on the command line are usage errors, not crashes.

Today `openbaar ask` with no question, `search` with no arguments, an unknown command, an unknown option and
`--k 0` print "Something unexpected went wrong (BadParameter)..." and exit 70 (the code of an unexpected error).
Usage errors get the usual usage line (`Usage: openbaar ...`), say what is wrong, and exit 2.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.ux.helpers import OPENBAAR, clean_env

MISTAKES = {
    "ask-without-question": (["ask"], "ask"),
    "search-without-arguments": (["search"], "search"),
    "unknown-command": (["frobnicate"], None),
    "unknown-option": (["ask", "--bogus", "x", "Welke partnerschappen zijn openbaar?"], "ask"),
    "ask-k-zero": (["ask", "--k", "0", "Welke partnerschappen zijn openbaar?"], "ask"),
    "search-k-zero": (["search", "--k", "0", "paspoort"], "search"),
    "ingest-without-path": (["ingest"], "ingest"),
}


def run(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = clean_env(OPENBAAR_STORE=str(tmp_path / "no-store"))
    return subprocess.run(
        [*OPENBAAR, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )


@pytest.mark.parametrize("case", list(MISTAKES))
def test_a_typing_mistake_gets_a_usage_line_and_exit_code_2(case, tmp_path):
    args, command = MISTAKES[case]
    done = run(args, tmp_path)
    err = done.stderr
    assert "unexpected" not in err.lower() and "onverwacht" not in err.lower(), f"{args}: {err!r}"
    assert done.returncode == 2, f"{args}: exit {done.returncode}, stderr {err!r}"
    usage = f"Usage: openbaar {command}" if command else "Usage: openbaar"
    assert usage in err, f"{args}: no {usage!r} line in {err!r}"
    assert "Traceback" not in err


def test_help_still_works(tmp_path):
    """Guard: `openbaar --help` prints the commands and exits 0."""
    done = run(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Usage: openbaar" in done.stdout and "ask" in done.stdout
