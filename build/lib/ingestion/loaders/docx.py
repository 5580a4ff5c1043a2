"""Word (.docx): paragraphs and table rows in document order, and the core properties."""

from __future__ import annotations

import io
from typing import Any

from ingestion.loaders.base import Corrupt


def load_docx(data: bytes) -> tuple[str, dict[str, Any]]:
    """(.docx) paragraphs and table rows in document order; core title and creation date, author in extra."""
    try:
        import docx
        from docx.table import Table

        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                for row in item.rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        value = " ".join(cell.text.split())
                        if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                            cells.append(value)
                    if cells:
                        blocks.append(" | ".join(cells))
            elif item.text.strip():
                blocks.append(item.text)
        props = document.core_properties
        title, created, author = props.title, props.created, props.author
    except Exception as exc:  # python-docx / zipfile / lxml raise many kinds on broken input
        raise Corrupt(f"cannot parse DOCX: {type(exc).__name__}: {exc}"[:200]) from exc
    meta: dict[str, Any] = {}
    if title and title.strip():
        meta["title"] = title
    if created is not None:  # when the file was made, not when the statement was published
        meta["created"] = created.date().isoformat()
    if author and author.strip():
        meta["author"] = author
    return "\n\n".join(blocks), meta
