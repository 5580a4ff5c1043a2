"""JSON Lines: one document per line with its metadata fields; a bad line is a failure, the rest is kept."""

from __future__ import annotations

import json
from pathlib import Path

from ingestion.loaders.base import LoadFailure, LoadResult, apply_metadata, decode_bytes
from vectorstore.records import Document


def load_jsonl(path: Path, data: bytes, base_id: str, source: Path) -> LoadResult:
    """(.jsonl) one document per line; bad lines become `invalid_json` failures, good lines are kept."""
    result = LoadResult()
    text = decode_bytes(data)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            result.failures.append(LoadFailure(path, "invalid_json", f"not JSON: {exc.msg}", line=number))
            continue
        if not isinstance(record, dict):
            result.failures.append(
                LoadFailure(
                    path, "invalid_json", f"a JSON {type(record).__name__}, not an object", line=number
                )
            )
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            result.failures.append(LoadFailure(path, "invalid_json", "missing or empty 'text'", line=number))
            continue
        doc = Document(doc_id=f"{base_id}#{number}", text=body, source_path=source)
        apply_metadata(doc, record)
        result.documents.append(doc)
    if not result.documents and not result.failures:
        result.failures.append(LoadFailure(path, "empty", "no JSON lines"))
    return result
