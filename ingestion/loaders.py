"""Find files and read them into SourceDocuments; every problem becomes a LoadFailure, never an exception."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ingestion.documents import CORE_FIELDS, LoadFailure, LoadResult, SourceDocument
from ingestion.metadata import normalise_date, parse_front_matter, parse_header

SUPPORTED_EXTENSIONS = {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl"}
TEXT_EXTENSIONS = {".txt", ".md", ".html", ".htm", ".jsonl"}
IGNORE_FILE = ".openbaarignore"
SIDECAR_SUFFIX = ".meta.json"

# --- finding files -----------------------------------------------------------------------------------------


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


def _walk(folder: Path, inherited: list[tuple[Path, list[str]]], top: bool = True) -> Iterator[Path]:
    """Files under `folder` in sorted path order, honouring hidden names and ignore files.

    Symbolic links to folders are not followed (no loops). A subfolder that cannot be listed is yielded itself,
    so that loading it reports `unreadable` instead of it vanishing silently.
    """
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
                yield from _walk(path, rules, top=False)
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


# --- helpers -----------------------------------------------------------------------------------------------


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


def _as_text(value: Any) -> str | None:
    """A metadata value as a string; None/empty stays None, lists are joined."""
    if value is None:
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if v not in (None, ""))
    text = str(value).strip()
    return text or None


def _apply_metadata(doc: SourceDocument, meta: dict[str, Any]) -> None:
    """Set core fields (and `id`) from `meta`; anything else goes to `extra`. `text` is never taken."""
    for key, value in meta.items():
        if key == "text":
            continue
        if key == "id":
            new_id = _as_text(value)
            if new_id:
                doc.doc_id = new_id
        elif key in CORE_FIELDS:
            setattr(doc, key, _as_text(value))
        else:
            doc.extra[key] = value


# --- formats -----------------------------------------------------------------------------------------------


class _Corrupt(Exception):
    """A PDF/DOCX that cannot be parsed."""


def _load_plain(text: str, markdown: bool) -> tuple[str, dict[str, Any]]:
    """(.txt/.md) text without its metadata header, and that metadata."""
    meta: dict[str, Any] = {}
    if markdown:
        front, text = parse_front_matter(text)
        meta.update(front)
    header, text = parse_header(text)
    meta.update(header)
    if markdown and not meta.get("title"):
        m = re.search(r"^#[ \t]+(.+?)[ \t#]*$", text, re.MULTILINE)
        if m:
            meta["title"] = m[1]
    return text, meta


_HTML_DROP = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe", "template",
)  # fmt: skip
_HTML_BLOCKS = (
    "address", "article", "blockquote", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "main", "ol", "p", "pre", "section", "summary", "table",
    "ul", "caption", "body",
)  # fmt: skip
_HTML_LINES = ("li", "tr", "br")
# Private-use markers for paragraph and line breaks, resolved after HTML whitespace has been collapsed.
_PARA_MARK, _LINE_MARK = "\ue000", "\ue001"
_MARK_RUN = re.compile(f"[ {_PARA_MARK}{_LINE_MARK}]*[{_PARA_MARK}{_LINE_MARK}][ {_PARA_MARK}{_LINE_MARK}]*")
_HTML_DATE_NAMES = (
    "date", "dc.date", "dcterms.date", "dc.date.issued", "dcterms.issued", "article:published_time",
    "og:published_time",
)  # fmt: skip


def _declared_charset(data: bytes) -> str | None:
    m = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", data[:4096], re.IGNORECASE)
    return m[1].decode("ascii") if m else None


def _load_html(data: bytes) -> tuple[str, dict[str, Any]]:
    """(.html/.htm) main text with blocks separated by blank lines, and title/language/url/date."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(decode_bytes(data, _declared_charset(data)), "html.parser")
    meta: dict[str, Any] = {}
    title_tag = soup.find("title")
    if isinstance(title_tag, Tag) and title_tag.get_text(strip=True):
        meta["title"] = " ".join(title_tag.get_text().split())
    html = soup.find("html")
    if isinstance(html, Tag) and html.get("lang"):
        meta["language"] = str(html["lang"])
    canonical = soup.find("link", rel="canonical")
    if isinstance(canonical, Tag) and canonical.get("href"):
        meta["url"] = str(canonical["href"])
    for tag in soup.find_all("meta"):
        name = str(tag.get("name") or tag.get("property") or "").lower()
        content = str(tag.get("content") or "").strip()
        if not content:
            continue
        if name == "og:url" and "url" not in meta:
            meta["url"] = content
        elif name in _HTML_DATE_NAMES and "date" not in meta and normalise_date(content):
            meta["date"] = content

    if "title" not in meta:
        h1 = soup.find("h1")
        if isinstance(h1, Tag) and h1.get_text(strip=True):
            meta["title"] = " ".join(h1.get_text().split())

    for tag in soup.find_all([*_HTML_DROP, "head"]):
        tag.decompose()
    for tag in soup.find_all(hidden=True):
        tag.decompose()
    main = soup.find("main") or soup.find("article") or soup.find("body") or soup
    for pre in main.find_all("pre"):
        for s in pre.find_all(string=True):
            s.replace_with(str(s).replace("\n", _LINE_MARK))
    for tag in main.find_all(list(_HTML_BLOCKS)):
        tag.insert_before(_PARA_MARK)
        tag.append(_PARA_MARK)
    for tag in main.find_all(list(_HTML_LINES)):
        tag.insert_before(_LINE_MARK)
        tag.append(_LINE_MARK)
    for cell in main.find_all(["td", "th"]):
        cell.insert_before(" ")
    text = " ".join("".join(main.strings).split())
    text = _MARK_RUN.sub(lambda m: "\n\n" if _PARA_MARK in m[0] else "\n", text)
    return text.strip(), meta


def _load_pdf(data: bytes) -> tuple[str, dict[str, Any]]:
    """(.pdf) text of all pages separated by blank lines, and the /Title."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Corrupt("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = info.title if info else None
        author = info.author if info else None
    except _Corrupt:
        raise
    except Exception as exc:  # pypdf raises many kinds on broken input
        raise _Corrupt(f"cannot parse PDF: {type(exc).__name__}: {exc}"[:200]) from exc
    meta: dict[str, Any] = {}
    if title and str(title).strip():
        meta["title"] = str(title)
    if author and str(author).strip():
        meta["author"] = str(author)
    return "\n\n".join(p.strip() for p in pages if p.strip()), meta


def _load_docx(data: bytes) -> tuple[str, dict[str, Any]]:
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
        raise _Corrupt(f"cannot parse DOCX: {type(exc).__name__}: {exc}"[:200]) from exc
    meta: dict[str, Any] = {}
    if title and title.strip():
        meta["title"] = title
    if created is not None:  # when the file was made, not when the statement was published
        meta["created"] = created.date().isoformat()
    if author and author.strip():
        meta["author"] = author
    return "\n\n".join(blocks), meta


def _load_jsonl(path: Path, data: bytes, base_id: str, source: Path) -> LoadResult:
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
        doc = SourceDocument(doc_id=f"{base_id}#{number}", text=body, source_path=source)
        _apply_metadata(doc, record)
        result.documents.append(doc)
    if not result.documents and not result.failures:
        result.failures.append(LoadFailure(path, "empty", "no JSON lines"))
    return result


def _read_sidecar(path: Path) -> tuple[dict[str, Any] | None, LoadFailure | None]:
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


# --- entry point -------------------------------------------------------------------------------------------


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
        return _load_jsonl(path, data, base_id, source)

    try:
        if ext in (".txt", ".md"):
            text, meta = _load_plain(decode_bytes(data), markdown=ext == ".md")
        elif ext in (".html", ".htm"):
            text, meta = _load_html(data)
        elif ext == ".pdf":
            text, meta = _load_pdf(data)
        else:
            text, meta = _load_docx(data)
    except _Corrupt as exc:
        return LoadResult(failures=[LoadFailure(path, "corrupt", str(exc))])
    if not text.strip():
        detail = "no extractable text (a scanned PDF?)" if ext == ".pdf" else "no text in the file"
        return LoadResult(failures=[LoadFailure(path, "empty", detail)])

    result = LoadResult()
    doc = SourceDocument(doc_id=base_id, text=text, source_path=source)
    _apply_metadata(doc, meta)
    sidecar, failure = _read_sidecar(path)
    if failure:
        result.failures.append(failure)
    if sidecar:
        _apply_metadata(doc, sidecar)
    if not doc.title:
        doc.title = title_from_stem(path.stem)
    result.documents.append(doc)
    return result
