"""The layers look only down (import-linter contracts in pyproject.toml), and the tests mirror the source tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_layer_that_imports_upwards_is_caught(tmp_path):
    """The contract is not vacuous: a vectorstore module importing the assistant breaks it."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("assistant", "ingestion", "vectorstore", "prompts"):
        subprocess.run(["cp", "-r", str(REPO / name), str(copy / name)], check=True)
    (copy / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    (copy / "vectorstore" / "upward.py").write_text("from assistant.settings import Settings  # noqa\n")
    lint = Path(sys.executable).parent / "lint-imports"
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode != 0 and "Layers look only down BROKEN" in done.stdout


def test_unit_tests_mirror_the_source_tree():
    """A module's tests live under tests/unit/<its package path>/ (see docs/architecture.md)."""
    unit = REPO / "tests" / "unit"
    for folder in (p for p in unit.rglob("*") if p.is_dir() and p.name != "__pycache__"):
        source = REPO / folder.relative_to(unit)
        assert source.is_dir(), f"tests/unit/{folder.relative_to(unit)} has no source folder {source}"
