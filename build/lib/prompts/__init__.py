"""Every text the assistant shows or sends a model: messages, canned replies, cue lists and prompts, as data files.

This package holds data plus the one loader of it: `read_text(name)` and `load_toml(name)` read a file of this
folder (or of `folder`, for prompt sets configured elsewhere). Nothing here imports the rest of the project.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any


def read_text(name: str, folder: Path | None = None) -> str:
    """The text of prompt file `name` from this package, or from `folder` when given (OSError if missing)."""
    if folder is not None:
        return (Path(folder) / name).read_text(encoding="utf-8")
    return (resources.files(__name__) / name).read_text(encoding="utf-8")


@lru_cache(maxsize=16)
def load_toml(name: str) -> dict[str, Any]:
    """The parsed TOML file `name` of this package (read once)."""
    return tomllib.loads(read_text(name))
