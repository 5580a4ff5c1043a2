"""Issue point 2: everything a test needs is in the repository; a fresh clone with no ../shared beside it collects.

`make test` on a fresh clone fails today with FileNotFoundError .../shared/eval/seed_dev.jsonl (tests/unit/
test_pipeline.py reads it at import time). CI and developers get a copy of shared/ beside the clone, a visitor does not.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.ux.helpers import REPO, clean_env

# A path into the project's shared folder, built at run time: "../shared", "/work/shared", `parent / "shared"`,
# `"shared/corpus"`, a SHARED constant, or a helper that requires it.
SHARED_REFERENCE = re.compile(
    r"""\.\./shared\b|/work/shared\b|/\s*["']shared["']|["']shared/|\bSHARED\b|require_shared|shared_dir\(""",
)
CODE = {".py", ".toml", ".cfg", ".ini", ".sh", ".json", ".jsonl", ".yaml", ".yml", ".txt", ""}


def test_a_fresh_clone_without_shared_collects_every_test(tmp_path):
    """`git clone` of this repository into a folder with no shared/ beside it; `pytest --collect-only -q` there
    must collect the whole suite without errors."""
    clone = tmp_path / "visitor" / "openbaar"
    done = subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not (clone.parent / "shared").exists() and not (clone.parents[1] / "shared").exists()
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=clone,
        env=clean_env(PYTHONDONTWRITEBYTECODE="1"),
        timeout=300,
    )
    output = collected.stdout + collected.stderr
    errors = [
        line for line in output.splitlines() if line.startswith("ERROR ") or "FileNotFoundError" in line
    ]
    tail = "\n".join(errors[:10]) + "\n...\n" + output[-1500:]
    assert collected.returncode == 0, f"collection failed in a clone without ../shared:\n{tail}"
    assert "error" not in collected.stdout.splitlines()[-1].lower(), tail


def _files(folder: Path) -> list[Path]:
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and (p.suffix in CODE or p.name == "Makefile")
    ]


def test_no_test_or_sample_file_reaches_for_shared_at_run_time():
    """No code or data file under tests/ or samples/ builds a path into ../shared (documentation may mention
    where a sample came from)."""
    me = Path(__file__).resolve()
    hits = []
    for folder in (REPO / "tests", REPO / "samples"):
        for path in _files(folder):
            if path.resolve() == me:
                continue
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if SHARED_REFERENCE.search(line):
                    hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()[:120]}")
    assert not hits, "files that need ../shared at run time:\n" + "\n".join(hits)
