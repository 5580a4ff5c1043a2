"""What every loader shares: the result and failure records, byte decoding, metadata from fields and sidecars."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vectorstore.records import METADATA_FIELDS, Document

SUPPORTED_EXTENSIONS = {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl"}
TEXT_EXTENSIONS = {".txt", ".md", ".html", ".htm", ".jsonl"}
SIDECAR_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class LoadFailure:
    """A file (or one line of it) that could not be read. `code` is machine-readable, `detail` is for humans."""

    path: Path
    code: str  # one of FAILURE_CODES
    detail: str = ""
    line: int | None = None  # 1-based line number for JSONL lines

    @property
    def where(self) -> str:
        """`path` or `path:line`."""
        return f"{self.path}:{self.line}" if self.line else str(self.path)


FAILURE_CODES = (
    "empty",  # 0 bytes or no text after cleaning
    "binary",  # a text extension but binary content
    "too_large",  # over the configured size limit
    "corrupt",  # a PDF/DOCX that cannot be parsed
    "invalid_json",  # a JSONL line that is not a JSON object with text
    "unsupported",  # an extension no loader handles
    "unreadable",  # permission or I/O error
    "embedding_failed",  # the embedder failed on this document
    "duplicate_id",  # a second document with an id already seen in this run
)


@dataclass
class LoadResult:
    """What loading one file gave: documents (possibly several, for JSONL) and failures."""

    documents: list[Document] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)


def file_doc_id(path: Path, root: Path) -> str:
    """Path relative to `root`, posix style, extension kept (`a.txt` and `a.md` are different documents);
    just the file name when not below `root`."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    if rel == Path("."):
        rel = Path(path.name)
    return rel.as_posix()


class Corrupt(Exception):
    """A PDF/DOCX that cannot be parsed."""


_DATE_PREFIX = re.compile(r"^\d{4}(?:[-_]\d{1,2}){0,2}(?:[-_ ]+|$)")


def title_from_stem(stem: str) -> str:
    """Readable title from a file name: "2023-06-migratiepartnerschappen" -> "Migratiepartnerschappen"."""
    words = _DATE_PREFIX.sub("", stem).replace("_", " ").replace("-", " ").split()
    if not words:
        return stem
    title = " ".join(words)
    return title[0].upper() + title[1:]


_UTF16_32_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_HIGH_BYTES = bytes(range(0x80, 0x100))
_CP1252_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0C, 0x0D)) + b"\x7f"


def _unicode_bom(data: bytes) -> str | None:
    return next((codec for bom, codec in _UTF16_32_BOMS if data.startswith(bom)), None)


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or more than 5% control bytes in the first 8 KiB (UTF-16/32 text with a BOM is not binary)."""
    if _unicode_bom(data):
        return False
    if b"\x00" in data:
        return True
    head = data[:8192]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > 0.05 * len(head)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: a BOM, else UTF-8, else the declared charset, else cp1252 (Western text) or a guess.

    charset-normalizer misreads short Latin-1/cp1252 Dutch as mac_latin2 ("Één" -> "…ťn"), so it is only asked
    when the bytes do not look like cp1252 text: over 30% non-ASCII bytes or bytes cp1252 leaves undefined.
    """
    bom = _unicode_bom(data)
    if bom:
        try:
            return data.decode(bom)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    if high <= 0.3 * len(data) and not any(bytes([b]) in data for b in _CP1252_UNDEFINED):
        return data.decode("cp1252")
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # a guess that fails is no worse than no guess
        best = None
    if best is not None:
        return str(best)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def as_text(value: Any) -> str | None:
    """A metadata value as a string; None/empty stays None, lists are joined."""
    if value is None:
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if v not in (None, ""))
    text = str(value).strip()
    return text or None


def apply_metadata(doc: Document, meta: dict[str, Any]) -> None:
    """Set core fields (and `id`) from `meta`; anything else goes to `extra`. `text` is never taken."""
    for key, value in meta.items():
        if key == "text":
            continue
        if key == "id":
            new_id = as_text(value)
            if new_id:
                doc.doc_id = new_id
        elif key in METADATA_FIELDS:
            setattr(doc, key, as_text(value))
        else:
            doc.extra[key] = value


def read_sidecar(path: Path) -> tuple[dict[str, Any] | None, LoadFailure | None]:
    """Metadata from `NAME.EXT.meta.json` next to `path`: (None, None) when absent."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    try:
        raw = sidecar.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, LoadFailure(
            sidecar, "unreadable", f"cannot read metadata sidecar: {exc.strerror or exc}"
        )
    try:
        meta = json.loads(decode_bytes(raw))
    except ValueError as exc:
        return None, LoadFailure(sidecar, "invalid_json", f"metadata sidecar is not JSON: {exc}"[:200])
    if not isinstance(meta, dict):
        return None, LoadFailure(sidecar, "invalid_json", "metadata sidecar is not a JSON object")
    return meta, None
