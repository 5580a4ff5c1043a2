"""Links in a corpus folder: followed inside it, never out of it; names printed without terminal escapes."""

from __future__ import annotations

from pathlib import Path

from ingestion.discover import iter_files, printable


def test_links_out_of_the_given_folder_are_not_followed(tmp_path, caplog):
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "geheim.txt").write_text("OPENAI_API_KEY=sk-geheim\n")
    (outside / "private" / "b.txt").write_text("privé\n")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "echt.txt").write_text("De regeling geldt.\n")
    (corpus / "notities.txt").symlink_to(outside / "geheim.txt")
    (corpus / "map").symlink_to(outside / "private", target_is_directory=True)
    (corpus / "sub" / "binnen.txt").symlink_to(corpus / "echt.txt")  # inside the corpus: same file, once
    (corpus / "sub" / "ook.txt").write_text("Nog een document.\n")
    (corpus / "sub" / "naar-ook.txt").symlink_to(Path("ook.txt"))  # a relative link inside: followed (once)
    files = [f.resolve() for f, _ in iter_files([corpus])]
    assert sorted(files) == sorted([(corpus / "echt.txt").resolve(), (corpus / "sub" / "ook.txt").resolve()])
    assert "not following" in caplog.text and "notities.txt" in caplog.text


def test_printable_escapes_control_characters():
    name = "kapot\x1b]0;gehackt\x07\x1b[2J\u202erood.txt"
    shown = printable(name)
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert shown == "kapot\\x1b]0;gehackt\\x07\\x1b[2J\\u202erood.txt"
    assert printable("Gewone naam é.txt") == "Gewone naam é.txt"
