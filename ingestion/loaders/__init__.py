"""Read files into Documents, one loader module per format; every problem becomes a LoadFailure, never an exception."""

from __future__ import annotations

from pathlib import Path

from ingestion.loaders.base import (
    SUPPORTED_EXTENSIONS,
    TEXT_EXTENSIONS,
    Corrupt,
    LoadFailure,
    LoadResult,
    apply_metadata,
    decode_bytes,
    file_doc_id,
    looks_binary,
    read_sidecar,
    title_from_stem,
)
from ingestion.loaders.docx import load_docx
from ingestion.loaders.html import load_html
from ingestion.loaders.jsonl import load_jsonl
from ingestion.loaders.pdf import load_pdf
from ingestion.loaders.text import load_plain
from vectorstore.records import Document


def load_file(path: Path, root: Path, max_bytes: int) -> LoadResult:
    """Read one file into documents (one per JSONL line, else one); never raises for bad content.

    Checks, in order: unreadable (I/O error), too_large (over `max_bytes`, not read), empty (0 bytes or no text),
    binary (text formats holding NUL/control bytes), corrupt (PDF/DOCX that do not parse), unsupported.
    Documents are not cleaned yet (see clean.prepare_document); text is raw but free of the metadata header.
    """
    path = Path(path)
    source = path.resolve()
    ext = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return LoadResult(
                failures=[LoadFailure(path, "too_large", f"{size} bytes, limit is {max_bytes}")]
            )
        data = path.read_bytes()
    except OSError as exc:
        return LoadResult(failures=[LoadFailure(path, "unreadable", str(exc.strerror or exc))])
    if not data:
        return LoadResult(failures=[LoadFailure(path, "empty", "the file is empty (0 bytes)")])
    if ext in TEXT_EXTENSIONS and looks_binary(data):
        return LoadResult(failures=[LoadFailure(path, "binary", f"a {ext} file with binary content")])
    if ext not in SUPPORTED_EXTENSIONS:
        return LoadResult(
            failures=[LoadFailure(path, "unsupported", f"no loader for '{ext or path.name}' files")]
        )

    base_id = file_doc_id(path, root)
    if ext == ".jsonl":
        return load_jsonl(path, data, base_id, source)

    try:
        if ext in (".txt", ".md"):
            text, meta = load_plain(decode_bytes(data), markdown=ext == ".md")
        elif ext in (".html", ".htm"):
            text, meta = load_html(data)
        elif ext == ".pdf":
            text, meta = load_pdf(data)
        else:
            text, meta = load_docx(data)
    except Corrupt as exc:
        return LoadResult(failures=[LoadFailure(path, "corrupt", str(exc))])
    if not text.strip():
        detail = "no extractable text (a scanned PDF?)" if ext == ".pdf" else "no text in the file"
        return LoadResult(failures=[LoadFailure(path, "empty", detail)])

    result = LoadResult()
    doc = Document(doc_id=base_id, text=text, source_path=source)
    apply_metadata(doc, meta)
    sidecar, failure = read_sidecar(path)
    if failure:
        result.failures.append(failure)
    if sidecar:
        apply_metadata(doc, sidecar)
    if not doc.title:
        doc.title = title_from_stem(path.stem)
    result.documents.append(doc)
    return result
