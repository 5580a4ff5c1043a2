"""tiktoken works offline: its cache folder is filled from the packaged files before first use."""

from __future__ import annotations

import importlib

import tiktoken


def test_tiktoken_encodings_work_with_the_network_blocked(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))
    import ingestion.tokens as tokens

    importlib.reload(tokens)  # forget cached encodings from other tests
    tiktoken.registry.ENCODINGS.clear()
    for name in ("cl100k_base", "o200k_base"):
        enc = tokens.get_encoding(name)
        assert (
            enc.decode(enc.encode("Het kabinet wil niet openbaar maken"))
            == "Het kabinet wil niet openbaar maken"
        )
    assert len(list((tmp_path / "tk").iterdir())) == 2
    assert tokens.count_tokens("hello world") == 2


def test_a_plain_tiktoken_call_after_setup_needs_no_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk2"))
    from ingestion.tokens import ensure_offline_encodings

    ensure_offline_encodings()
    tiktoken.registry.ENCODINGS.clear()
    # tiktoken checks the sha256 of the cached file; a wrong file would be deleted and downloaded (and fail here)
    assert tiktoken.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
