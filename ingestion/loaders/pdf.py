"""PDF: the text of every page (pypdf), and the title."""

from __future__ import annotations

import io
from typing import Any

from ingestion.loaders.base import Corrupt


def load_pdf(data: bytes) -> tuple[str, dict[str, Any]]:
    """(.pdf) text of all pages separated by blank lines, and the /Title."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Corrupt("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = info.title if info else None
        author = info.author if info else None
    except Corrupt:
        raise
    except Exception as exc:  # pypdf raises many kinds on broken input
        raise Corrupt(f"cannot parse PDF: {type(exc).__name__}: {exc}"[:200]) from exc
    meta: dict[str, Any] = {}
    if title and str(title).strip():
        meta["title"] = str(title)
    if author and str(author).strip():
        meta["author"] = str(author)
    return "\n\n".join(p.strip() for p in pages if p.strip()), meta
