"""Find the files to ingest: folders walked in sorted order, hidden names, ignore files and sidecars skipped, and
links that lead out of the folder given not followed."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from ingestion.loaders.base import SIDECAR_SUFFIX, SUPPORTED_EXTENSIONS

IGNORE_FILE = ".openbaarignore"
log = logging.getLogger("openbaar.ingest")


def _read_ignore_patterns(folder: Path) -> list[str]:
    """Patterns of `folder/.openbaarignore` (one per line, `#` comments); none when missing or unreadable."""
    try:
        raw = (folder / IGNORE_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    patterns = []
    for line in raw.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return patterns


def _ignored(path: Path, is_dir: bool, rules: list[tuple[Path, list[str]]]) -> bool:
    """Whether a pattern of any applicable ignore file matches the name or the path relative to that file."""
    for base, patterns in rules:
        rel = path.relative_to(base).as_posix()
        for pattern in patterns:
            dir_only = pattern.endswith("/")
            pat = pattern.rstrip("/")
            if not pat or (dir_only and not is_dir):
                continue
            pat = pat.lstrip("/")
            if fnmatchcase(path.name, pat) or fnmatchcase(rel, pat):
                return True
    return False


def printable(path: Path | str) -> str:
    """A path as text safe to print on a terminal: control characters (escape sequences, bell) written as \\xNN."""
    return "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in str(path)
    )


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, with every link resolved, is `root` or lies under it."""
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):  # outside, unreadable, or a link loop
        return False
    return True


def _walk(
    folder: Path, inherited: list[tuple[Path, list[str]]], top: bool = True, root: Path | None = None
) -> Iterator[Path]:
    """Files under `folder` in sorted path order, honouring hidden names and ignore files.

    Symbolic links to folders are not followed (no loops); a link to a file is followed only when the file lies
    inside the folder given (`root`): a link out of it (to a secret `.env`, a home folder) is skipped with a warning.
    A subfolder that cannot be listed is yielded itself, so that loading it reports `unreadable` instead of it
    vanishing silently.
    """
    root = root or folder.resolve()
    patterns = _read_ignore_patterns(folder)
    rules = [*inherited, (folder, patterns)] if patterns else inherited
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        if not top:
            yield folder
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            if not _ignored(path, True, rules):
                yield from _walk(path, rules, top=False, root=root)
        elif entry.is_symlink() and not _inside(path, root):
            log.warning("not following %s: it links outside %s", printable(path), printable(root))
        elif (
            not entry.name.endswith(SIDECAR_SUFFIX)
            and path.suffix.lower() in SUPPORTED_EXTENSIONS
            and not _ignored(path, False, rules)
        ):
            yield path


def iter_files(paths: Sequence[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield `(file, root)` for every file to load; doc ids are made relative to `root`.

    - A folder is walked recursively in sorted order and yields `(file, folder)`. Inside it, hidden files and
      folders (name starting with "."), sidecars `*.meta.json`, files with an unsupported extension and
      anything matched by a `.openbaarignore` in that folder or a subfolder are skipped silently. Ignore
      patterns are globs matched against the file (or folder) name and against its path relative to the folder
      holding the ignore file; a pattern ending in "/" matches folders only.
    - A path given directly that is not a folder yields `(file, file.parent)` whatever it is (hidden,
      unsupported or missing), so that `load_file` reports what is wrong with it.
    The same file is yielded once, even when reached through several of the given paths.
    """
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if given.is_dir():
            candidates: Iterator[tuple[Path, Path]] = ((f, given) for f in _walk(given, []))
        else:
            candidates = iter([(given, given.parent)])
        for file, root in candidates:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file, root
