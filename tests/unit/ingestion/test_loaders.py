"""Finding files and reading every supported format, including broken ones."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import docx
import pytest

from ingestion.clean import prepare_document
from ingestion.discover import iter_files
from ingestion.loaders import load_file
from ingestion.loaders.base import FAILURE_CODES, LoadResult
from tests.conftest import DATA, SAMPLES, SEED

MB = 1_000_000


def make_pdf(text: str, title: str | None = None) -> bytes:
    """A one-page PDF with `text` in Helvetica, built by hand with a correct cross-reference table."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objects.append(b"<< /Title (" + title.encode("latin-1") + b") >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info 6 0 R" if title else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref)
    return out


def load(path: Path, max_bytes: int = MB) -> LoadResult:
    return load_file(path, path.parent, max_bytes)


def only_failure(result: LoadResult) -> tuple[str, str]:
    assert result.documents == []
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert failure.code in FAILURE_CODES
    assert failure.detail
    return failure.code, failure.detail


# --- seed article ------------------------------------------------------------------------------------------


def test_seed_article_loads_with_date_and_repaired_text() -> None:
    corpus = SAMPLES
    seed = SEED
    result = load_file(seed, corpus, 10 * MB)
    assert result.failures == []
    (raw,) = result.documents
    assert raw.doc_id == "seed/2023-06-migratiepartnerschappen.txt"
    assert raw.source_path == seed.resolve()
    doc = prepare_document(raw)
    assert doc.date == "2023-06"
    assert doc.text.startswith("Het kabinet")
    assert "date" not in doc.text[:30]
    assert "geïnformeerd" in doc.text
    assert "├" not in doc.text
    assert "“terughoudend”" in doc.text
    assert doc.title == "Migratiepartnerschappen"
    assert doc.language == "nl"


# --- plain text and Markdown -------------------------------------------------------------------------------


def test_txt_header_is_metadata_not_text(tmp_path: Path) -> None:
    f = tmp_path / "brief.txt"
    f.write_text(
        "title: Kamerbrief migratie\nspeaker: Minister X\nparty: VVD\n\nDe brief zelf.\n", encoding="utf-8"
    )
    (doc,) = load(f).documents
    assert (doc.title, doc.speaker, doc.party) == ("Kamerbrief migratie", "Minister X", "VVD")
    assert doc.text.strip() == "De brief zelf."


def test_txt_without_header_gets_title_from_file_name(tmp_path: Path) -> None:
    f = tmp_path / "2024-01-15_stikstof-akkoord.txt"
    f.write_text("Het kabinet heeft een akkoord.", encoding="utf-8")
    (doc,) = load(f).documents
    assert doc.title == "Stikstof akkoord"
    assert doc.text == "Het kabinet heeft een akkoord."
    assert doc.date is None


def test_latin1_txt_is_decoded(tmp_path: Path) -> None:
    f = tmp_path / "latin.txt"
    f.write_bytes("Één café, één ministerie. Geëvalueerd – “zo”.".encode("cp1252"))
    (doc,) = load(f).documents
    assert doc.text == "Één café, één ministerie. Geëvalueerd – “zo”."


def test_double_encoded_utf8_txt_is_repaired_by_preparation(tmp_path: Path) -> None:
    f = tmp_path / "handelingen.txt"
    good = "Één minister heeft één brief gestuurd over de coördinatie."
    f.write_bytes(good.encode("utf-8").decode("latin-1").encode("utf-8"))
    (raw,) = load(f).documents
    assert "Ã" in raw.text  # read as it is; repair belongs to cleaning
    assert prepare_document(raw).text == good


def test_utf8_bom_and_utf16_are_decoded(tmp_path: Path) -> None:
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbftitle: Met BOM\n\nTekst.")
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("Tekst in UTF-16, één keer.".encode("utf-16"))
    (a,) = load(bom).documents
    (b,) = load(utf16).documents
    assert (a.title, a.text) == ("Met BOM", "Tekst.")
    assert b.text == "Tekst in UTF-16, één keer."


def test_markdown_front_matter_and_heading(tmp_path: Path) -> None:
    fm = tmp_path / "fm.md"
    fm.write_text(
        "---\ntitle: Uit front matter\ndate: 2023-06-14\nauthor: Redactie\n---\n# Kop\n\nTekst.", "utf-8"
    )
    heading = tmp_path / "heading.md"
    heading.write_text("date: 2022\n\n# De echte kop\n\nTekst met *nadruk*.", encoding="utf-8")
    (a,) = load(fm).documents
    (b,) = load(heading).documents
    assert (a.title, a.date, a.extra) == ("Uit front matter", "2023-06-14", {"author": "Redactie"})
    assert "title:" not in a.text and "---" not in a.text
    assert (b.title, b.date) == ("De echte kop", "2022")
    assert b.text.startswith("# De echte kop")


# --- HTML --------------------------------------------------------------------------------------------------

HTML = """<!doctype html>
<html lang="nl-NL"><head>
<title>Kamerbrief over migratie | Rijksoverheid.nl</title>
<link rel="canonical" href="https://www.rijksoverheid.nl/kamerbrief">
<meta name="DC.date" content="2023-06-14T09:00:00Z">
<style>body { color: red }</style>
<script>var tracking = "secret";</script>
</head><body>
<header>Logo en zoekbalk</header>
<nav><ul><li>Home</li><li>Onderwerpen</li></ul></nav>
<main>
  <h1>Kamerbrief   over migratie</h1>
  <p>Het kabinet <b>informeert</b> de Kamer.<!-- verborgen commentaar --></p>
  <p>Tweede
     alinea.</p>
  <ul><li>eerste punt</li><li>tweede punt</li></ul>
  <div hidden>Niet zichtbaar</div>
  <script>alert("x")</script>
</main>
<aside>Lees ook</aside>
<footer>Contact</footer>
</body></html>"""


def test_html_main_text_without_scripts_or_navigation(tmp_path: Path) -> None:
    f = tmp_path / "brief.html"
    f.write_text(HTML, encoding="utf-8")
    (doc,) = load(f).documents
    assert doc.text == (
        "Kamerbrief over migratie\n\nHet kabinet informeert de Kamer.\n\nTweede alinea.\n\n"
        "eerste punt\ntweede punt"
    )
    assert doc.title == "Kamerbrief over migratie | Rijksoverheid.nl"
    assert doc.url == "https://www.rijksoverheid.nl/kamerbrief"
    prepared = prepare_document(doc)
    assert (prepared.language, prepared.date) == ("nl", "2023-06-14")


def test_html_without_title_uses_h1_and_body(tmp_path: Path) -> None:
    f = tmp_path / "p.htm"
    f.write_bytes(
        b'<html><head><meta charset="windows-1252"><meta property="og:url" content="https://x.nl/p"></head>'
        b"<body><h1>Caf\xe9 beleid</h1><p>Tekst.</p></body></html>"
    )
    (doc,) = load(f).documents
    assert (doc.title, doc.url, doc.text) == ("Café beleid", "https://x.nl/p", "Café beleid\n\nTekst.")


def test_html_with_only_scripts_is_empty(tmp_path: Path) -> None:
    f = tmp_path / "leeg.html"
    f.write_text("<html><body><script>x()</script><nav>menu</nav></body></html>", encoding="utf-8")
    assert only_failure(load(f))[0] == "empty"


# --- PDF and DOCX ------------------------------------------------------------------------------------------


def test_pdf_text_and_title(tmp_path: Path) -> None:
    f = tmp_path / "nota.pdf"
    f.write_bytes(make_pdf("Het kabinet publiceert de nota.", title="Nota migratie"))
    (doc,) = load(f).documents
    assert doc.text == "Het kabinet publiceert de nota."
    assert doc.title == "Nota migratie"


def test_pdf_without_title_uses_file_name(tmp_path: Path) -> None:
    f = tmp_path / "jaar-verslag.pdf"
    f.write_bytes(make_pdf("Jaarverslag."))
    (doc,) = load(f).documents
    assert doc.title == "Jaar verslag"


def test_corrupt_pdf(tmp_path: Path) -> None:
    f = tmp_path / "kapot.pdf"
    f.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\nthis is not a pdf\n")
    assert only_failure(load(f))[0] == "corrupt"
    truncated = tmp_path / "afgebroken.pdf"
    truncated.write_bytes(make_pdf("Tekst")[:150])
    assert only_failure(load(truncated))[0] == "corrupt"


def test_pdf_without_text_is_empty(tmp_path: Path) -> None:
    f = tmp_path / "scan.pdf"
    f.write_bytes(make_pdf(""))
    code, detail = only_failure(load(f))
    assert code == "empty"
    assert "text" in detail


def test_docx_paragraphs_tables_and_properties(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Eerste alinea van de brief.")
    document.add_paragraph("")
    document.add_paragraph("Tweede alinea.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Land"
    table.cell(0, 1).text = "Marokko"
    document.core_properties.title = "Brief aan de Kamer"
    document.core_properties.author = "Ambtenaar"
    document.core_properties.created = dt.datetime(2023, 6, 14, 10, 0, tzinfo=dt.UTC)
    f = tmp_path / "brief.docx"
    document.save(str(f))
    (doc,) = load(f).documents
    assert doc.text == "Eerste alinea van de brief.\n\nTweede alinea.\n\nLand | Marokko"
    # the creation date of a file is not the date of the statement: kept apart, not used as `date`
    assert (doc.title, doc.date, doc.speaker) == ("Brief aan de Kamer", None, None)
    assert doc.extra == {"author": "Ambtenaar", "created": "2023-06-14"}


def test_corrupt_docx(tmp_path: Path) -> None:
    f = tmp_path / "kapot.docx"
    f.write_bytes(b"PK\x03\x04 not really a zip file")
    assert only_failure(load(f))[0] == "corrupt"


# --- JSONL -------------------------------------------------------------------------------------------------


def test_jsonl_good_lines_kept_bad_lines_reported(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "id": "tk-1",
                "title": "Debat",
                "date": "2018-04-05",
                "speaker": "Minister De Jonge",
                "party": None,
                "source": "repo@abc:file.xml",
                "speaker_role": "government",
                "text": "Dank u wel, voorzitter.",
            }
        ),
        "{not json",
        "",
        json.dumps({"title": "zonder tekst", "text": "  "}),
        json.dumps({"text": "Tweede document.", "language": "nl"}),
        json.dumps(["een", "lijst"]),
    ]
    f = tmp_path / "debat.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load(f)
    assert [d.doc_id for d in result.documents] == ["tk-1", "debat.jsonl#5"]
    first = result.documents[0]
    assert (first.title, first.date, first.speaker, first.party) == (
        "Debat",
        "2018-04-05",
        "Minister De Jonge",
        None,
    )
    assert first.extra == {"source": "repo@abc:file.xml", "speaker_role": "government"}
    assert first.text == "Dank u wel, voorzitter."
    assert first.source_path == f.resolve()
    assert [(x.code, x.line) for x in result.failures] == [
        ("invalid_json", 2),
        ("invalid_json", 4),
        ("invalid_json", 6),
    ]
    assert result.failures[0].where == f"{f}:2"


def test_jsonl_corpus_sample_loads_completely() -> None:
    f = DATA / "tk_debates_sample.jsonl"
    result = load_file(f, f.parent, 100 * MB)
    assert result.failures == []
    assert len(result.documents) == 200
    assert all(d.doc_id and d.text for d in result.documents)
    assert len({d.doc_id for d in result.documents}) == 200


def test_jsonl_with_only_blank_lines_is_empty(tmp_path: Path) -> None:
    f = tmp_path / "leeg.jsonl"
    f.write_text("\n\n  \n", encoding="utf-8")
    assert only_failure(load(f))[0] == "empty"


# --- failures ----------------------------------------------------------------------------------------------


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    f = tmp_path / "leeg.txt"
    f.write_bytes(b"")
    assert only_failure(load(f))[0] == "empty"


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    f = tmp_path / "spaties.md"
    f.write_text("title: Alleen kop\n\n   \n", encoding="utf-8")
    assert only_failure(load(f))[0] == "empty"


def test_binary_content_with_text_extension(tmp_path: Path) -> None:
    nul = tmp_path / "foto.txt"
    nul.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    controls = tmp_path / "data.jsonl"
    controls.write_bytes(bytes([1, 2, 3, 4, 5, 6, 14, 15, 16]) * 50 + b'{"text": "x"}')
    assert only_failure(load(nul))[0] == "binary"
    assert only_failure(load(controls))[0] == "binary"


def test_file_over_the_limit_is_too_large(tmp_path: Path) -> None:
    f = tmp_path / "groot.txt"
    f.write_text("a" * 2000, encoding="utf-8")
    code, detail = only_failure(load(f, max_bytes=1000))
    assert code == "too_large"
    assert "2000" in detail
    assert load(f, max_bytes=2000).documents  # exactly at the limit is fine


def test_unsupported_extension(tmp_path: Path) -> None:
    f = tmp_path / "tabel.xlsx"
    f.write_bytes(b"PK\x03\x04 spreadsheet")
    assert only_failure(load(f))[0] == "unsupported"


def test_missing_file_and_folder_are_unreadable(tmp_path: Path) -> None:
    assert only_failure(load(tmp_path / "bestaat-niet.txt"))[0] == "unreadable"
    folder = tmp_path / "map.txt"
    folder.mkdir()
    assert only_failure(load(folder))[0] == "unreadable"


def test_read_error_is_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "geheim.txt"
    f.write_text("geheim", encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    code, detail = only_failure(load(f))
    assert (code, detail) == ("unreadable", "Permission denied")


# --- sidecar metadata --------------------------------------------------------------------------------------


def test_sidecar_overrides_and_adds_metadata(tmp_path: Path) -> None:
    f = tmp_path / "artikel.txt"
    f.write_text("title: Uit de kop\n\nTekst van het artikel.", encoding="utf-8")
    sidecar = tmp_path / "artikel.txt.meta.json"
    sidecar.write_text(
        json.dumps(
            {"id": "nos-123", "title": "Uit de sidecar", "date": "2023-06", "licence": "CC0", "text": "X"}
        ),
        encoding="utf-8",
    )
    result = load(f)
    (doc,) = result.documents
    assert result.failures == []
    assert (doc.doc_id, doc.title, doc.date) == ("nos-123", "Uit de sidecar", "2023-06")
    assert doc.extra == {"licence": "CC0"}
    assert doc.text == "Tekst van het artikel."


def test_invalid_sidecar_is_reported_and_document_still_loaded(tmp_path: Path) -> None:
    f = tmp_path / "artikel.txt"
    f.write_text("Tekst.", encoding="utf-8")
    sidecar = tmp_path / "artikel.txt.meta.json"
    sidecar.write_text("{title: kapot", encoding="utf-8")
    result = load(f)
    assert [d.text for d in result.documents] == ["Tekst."]
    assert [(x.code, x.path) for x in result.failures] == [("invalid_json", sidecar)]
    sidecar.write_text("[1, 2]", encoding="utf-8")
    assert [x.code for x in load(f).failures] == ["invalid_json"]


# --- finding files -----------------------------------------------------------------------------------------


def write(path: Path, text: str = "tekst") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_iter_files_walks_sorted_and_skips_hidden_sidecars_unsupported_and_ignored(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write(root / "b.txt")
    write(root / "a.md")
    write(root / "a.md.meta.json", "{}")
    write(root / ".verborgen.txt")
    write(root / ".git" / "config.txt")
    write(root / "foto.png")
    write(root / "sub" / "c.html")
    write(root / "sub" / "concept-brief.txt")
    write(root / "sub" / "drafts" / "d.txt")
    write(root / "sub" / ".openbaarignore", "# concepten niet\nconcept-*\ndrafts/\n")
    write(root / "oud" / "e.pdf")
    write(root / "z.jsonl")
    write(root / ".openbaarignore", "oud/*.pdf\n")
    found = [(f.relative_to(root).as_posix(), r) for f, r in iter_files([root])]
    assert found == [("a.md", root), ("b.txt", root), ("sub/c.html", root), ("z.jsonl", root)]


def test_iter_files_explicit_paths_are_always_yielded_once(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    a = write(root / "a.txt")
    png = write(tmp_path / "foto.png")
    missing = tmp_path / "weg.txt"
    found = list(iter_files([root, a, png, missing]))
    assert found == [(a, root), (png, tmp_path), (missing, tmp_path)]
    assert only_failure(load_file(png, tmp_path, MB))[0] == "unsupported"


def test_doc_ids_are_relative_paths_with_extension(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write(root / "kamer" / "2023" / "brief.txt")
    single = write(tmp_path / "los.md")
    ids = {f.name: load_file(f, r, MB).documents[0].doc_id for f, r in iter_files([root, single])}
    assert ids == {"brief.txt": "kamer/2023/brief.txt", "los.md": "los.md"}
    assert load_file(single, single, MB).documents[0].doc_id == "los.md"
