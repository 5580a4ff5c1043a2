"""Errors of the store layer that a user can act on; the interfaces turn them into one-line messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StoreError(RuntimeError):
    """A store problem a user can fix; `code` selects the message, `params` fill it in."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: " + ", ".join(f"{k}={v}" for k, v in self.params.items())


class EmbeddingError(RuntimeError):
    """The embedder could not be loaded or failed on a request."""
