"""The LLM prompts: files in `prompts/` (system.md, condense.md, answer.md), checked at start and versioned.

Placeholders are written `{{name}}` (single braces stay literal, so prompts may show JSON). Each file must contain
exactly its required placeholders; a missing or unknown one is a `PromptError` naming the file. The version is a
short hash of the three files, recorded in every LLM answer (`prompt_version`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import prompts

REQUIRED: dict[str, frozenset[str]] = {
    "system.md": frozenset(),
    "condense.md": frozenset({"history", "question"}),
    "answer.md": frozenset({"passages", "question", "language", "delimiter"}),
}
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class PromptError(RuntimeError):
    """A prompt file is missing or has missing/unknown placeholders (checked at start)."""


@dataclass(frozen=True)
class PromptSet:
    """The three prompt texts and their version."""

    system: str
    condense: str
    answer: str
    version: str
    folder: str

    def render(self, name: str, **values: str) -> str:
        """Fill the placeholders of `name` ("condense" or "answer") in one pass (values are not re-scanned)."""
        text: str = getattr(self, name)
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _read(folder: Path | None, name: str) -> str:
    try:
        return prompts.read_text(name, folder)
    except (FileNotFoundError, OSError) as exc:
        raise PromptError(f"prompt file {name} cannot be read in {folder or 'prompts/'}: {exc}") from exc


def load_prompts(folder: Path | None = None) -> PromptSet:
    """Read and validate the prompt files of `folder` (None = the packaged `prompts/`)."""
    texts: dict[str, str] = {}
    for name, required in REQUIRED.items():
        text = _read(folder, name)
        found = set(_PLACEHOLDER.findall(text))
        missing, unknown = sorted(required - found), sorted(found - required)
        if missing or unknown:
            parts = [f"missing {{{{{m}}}}}" for m in missing] + [f"unknown {{{{{u}}}}}" for u in unknown]
            raise PromptError(f"prompt file {name}: {', '.join(parts)}")
        if not text.strip():
            raise PromptError(f"prompt file {name} is empty")
        texts[name] = text.strip()
    digest = hashlib.sha256("\x00".join(texts[n] for n in REQUIRED).encode()).hexdigest()[:12]
    return PromptSet(
        system=texts["system.md"],
        condense=texts["condense.md"],
        answer=texts["answer.md"],
        version=digest,
        folder=str(folder or "prompts/"),
    )
