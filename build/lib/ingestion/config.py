"""The ingestion configuration: a small frozen object built from the application's settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestConfig:
    """How documents are read and cut: size limit, chunk size and overlap in tokens, writer-lock patience."""

    chunk_tokens: int = 200
    chunk_overlap: int = 40
    max_file_bytes: int = 50 * 1024 * 1024
    lock_timeout: float = 3.0
