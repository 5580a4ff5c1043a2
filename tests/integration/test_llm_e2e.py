"""End to end through the `openbaar` command with OPENAI_BASE_URL pointing at the fake OpenAI-compatible server:
`ask --mode llm --json`, and the OpenAI embeddings provider ingesting and searching through /v1/embeddings."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import run_cli
from tests.fakellm import FakeLLM, Reply, answer_json, passage_with

pytestmark = pytest.mark.integration

MAROKKO = "Ze noemde alleen Marokko als land waar een partnerschap mee is."


@pytest.fixture
def fake():
    with FakeLLM(dimension=96) as server:
        yield server


@pytest.fixture
def docs(tmp_path, seed_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(seed_path, folder)
    return folder


def test_ask_mode_llm_json_through_the_cli(fake, docs):
    result = run_cli("ingest", str(docs))
    assert result.returncode == 0, result.stderr

    def reply(body):
        n = passage_with(body, MAROKKO)
        return answer_json(f"Only Morocco was named [{n}].", citations=[(n, MAROKKO)])

    fake.script(Reply(reply))
    env = {"OPENAI_BASE_URL": fake.url, "OPENBAAR_LLM_MODEL": "fake-model", "OPENBAAR_LLM_TIMEOUT": "5"}
    result = run_cli("ask", "Which partnerships are public?", "--mode", "llm", "--json", env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["mode"] == "llm" and answer["status"] == "answered" and answer["language"] == "en"
    assert answer["answer"].startswith("Only Morocco") and answer["citations"][0]["quote"] == MAROKKO
    assert answer["model"] == "fake-model" and len(answer["prompt_version"]) == 12
    (request,) = fake.chat_requests()
    assert request.body["model"] == "fake-model" and request.body["max_tokens"] == 800

    # the server failing: the CLI still answers (offline), exit code 0, no exception text
    fake.script(Reply(status=500), Reply(status=500), Reply(status=500))
    env["OPENBAAR_LLM_MAX_RETRIES"] = "0"
    result = run_cli("ask", "Welke partnerschappen zijn openbaar?", "--json", env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["mode"] == "extractive" and "llm_failed" in answer["notes"]
    assert "Traceback" not in result.stderr and "InternalServerError" not in result.stderr


def test_ask_mode_llm_without_configuration_is_a_one_line_error(docs):
    assert run_cli("ingest", str(docs)).returncode == 0
    result = run_cli("ask", "Welke partnerschappen zijn openbaar?", "--mode", "llm")
    assert (
        result.returncode == 2
        and "OPENAI_API_KEY" in result.stderr
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_openai_embeddings_provider_ingests_and_searches_through_the_server(fake, docs):
    env = {
        "OPENAI_BASE_URL": fake.url,
        "OPENBAAR_EMBEDDING_PROVIDER": "openai",
        "OPENBAAR_EMBEDDING_MODEL": "fake-embed",
    }
    result = run_cli("ingest", str(docs), "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chunks_total"] >= 2
    embedded = [r for r in fake.requests if r.path.endswith("/embeddings")]
    assert embedded and all(r.body["model"] == "fake-embed" for r in embedded)
    result = run_cli("search", "Marokko partnerschap", "--json", env=env)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["results"]
    assert hits and any("Marokko" in h["text"] for h in hits)
    stats = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert stats["manifest"]["embedding"]["provider"] == "openai"
    assert stats["manifest"]["embedding"]["dimension"] == 96
