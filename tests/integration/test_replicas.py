"""The multi-machine deployment on one machine, with real parts (issue 13.6): what `deploy/compose.yaml` runs,
without Docker.

`chroma run` + a throwaway PostgreSQL + two `openbaar serve` replicas on their own ports with empty store folders
+ a round-robin proxy on loopback (tests/integration/proxy.py). The replicas share everything through
OPENBAAR_DB_URL and the Chroma server: catalog, store generation, BM25 index, rate limit, chat history, login
secret. Requests carry an `X-Forwarded-For` client address, as behind the real proxy (uvicorn trusts it from
127.0.0.1), so each test has its own rate-limit budget; addresses are from the documentation ranges and are
never contacted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEED, run_cli
from tests.integration.proxy import RoundRobinProxy
from tests.integration.servers import OPENBAAR, chroma_server, create_database, drop_database, openbaar_serve

pytestmark = pytest.mark.integration

RELOAD_SECONDS = 1.0  # OPENBAAR_RELOAD_INTERVAL of the replicas
PICKUP_LIMIT = 10.0  # the documented bound: reload interval + loading the index (docs/deployment.md)
RATE_LIMIT = 5
STAFF_PASSWORD = "alice-password-1"
QUESTION = "Welke partnerschappen zijn openbaar?"
NEW_DOC = {
    "id": "zwartewaterland",
    "title": "Nieuw stadhuis Zwartewaterland",
    "date": "2024-09-01",
    "language": "nl",
    "text": "Zwartewaterland opent het nieuwe stadhuis op 3 maart 2025. Het stadhuis staat in Hasselt.",
}
NEW_QUESTION = "Wanneer opent Zwartewaterland het nieuwe stadhuis?"
_addresses = itertools.count(1)


def client_address() -> str:
    """A client address of its own (IPv6 documentation prefix): a fresh rate-limit budget."""
    return f"2001:db8::{next(_addresses):x}"


_login: dict[str, str] = {}  # staff login is on: the API answers a staff member's login (or a key), set below


def ask(base: str, question: str, address: str | None = None, timeout: float = 60) -> httpx.Response:
    return httpx.post(
        f"{base}/api/ask",
        json={"question": question, "mode": "extractive"},
        headers={"X-Forwarded-For": address or client_address(), "Cookie": _login.get("cookie", "")},
        timeout=timeout,
    )


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]
    replicas: list[str]
    processes: list
    proxy: RoundRobinProxy
    stores: list[Path]
    first: dict


def _serve_pid(base: str) -> int:
    import psutil

    port = int(base.rsplit(":", 1)[1])
    for conn in psutil.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
            return conn.pid
    raise AssertionError(f"nobody listens on {port}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, pg_server, shared_cache):
    root = tmp_path_factory.mktemp("replicas")
    name = f"cluster_{uuid.uuid4().hex[:8]}"
    db_url = create_database(pg_server, name)
    with ExitStack() as stack:
        stack.callback(drop_database, pg_server, name)
        chroma_port = stack.enter_context(chroma_server(root / "chroma-data", root / "chroma.log"))
        shared = {
            "OPENBAAR_DB_URL": db_url,
            "OPENBAAR_CHROMA_HOST": "127.0.0.1",
            "OPENBAAR_CHROMA_PORT": str(chroma_port),
            "OPENBAAR_COLLECTION": "cluster",
            "OPENBAAR_EMBEDDING_CACHE": str(shared_cache / "embeddings.sqlite"),
        }
        # The ingesting machine: no store folder either.
        corpus = root / "corpus"
        corpus.mkdir()
        (corpus / SEED.name).write_bytes(SEED.read_bytes())
        ingest_store = root / "ingest-store"
        first = run_cli("ingest", str(corpus), "--json", env={**shared, "OPENBAAR_STORE": str(ingest_store)})
        assert first.returncode == 0, first.stderr
        hashed = subprocess.run(
            [*OPENBAAR, "hash-password", "alice"], input=STAFF_PASSWORD + "\n", capture_output=True,
            text=True, env=os.environ, check=True,
        ).stdout.strip()  # fmt: skip
        replica_env = {
            **shared,
            "OPENBAAR_RELOAD_INTERVAL": str(RELOAD_SECONDS),
            "OPENBAAR_API_RATE_LIMIT": str(RATE_LIMIT),
            "OPENBAAR_STAFF_USERS": hashed,
            "CHAINLIT_AUTH_SECRET": secrets.token_urlsafe(
                48
            ),  # one secret: a login is valid on every replica
        }
        replicas, stores = [], []
        for n in (1, 2):
            store = root / f"replica{n}-store"
            stores.append(store)
            env = {**replica_env, "OPENBAAR_STORE": str(store), "OPENBAAR_RUN_DIR": str(root / f"run{n}")}
            replicas.append(stack.enter_context(openbaar_serve(root / f"replica{n}.log", env, timeout=120)))
        processes = [_serve_pid(base) for base in replicas]
        backends = [("127.0.0.1", int(base.rsplit(":", 1)[1])) for base in replicas]
        proxy = stack.enter_context(RoundRobinProxy(backends))
        login = httpx.post(
            f"{replicas[0]}/login", data={"username": "alice", "password": STAFF_PASSWORD}, timeout=20
        )
        assert login.status_code == 200, login.text
        _login["cookie"] = "; ".join(f"{k}={v}" for k, v in login.cookies.items())  # valid on both replicas
        yield Cluster(
            root, {**shared}, replicas, processes, proxy, [ingest_store, *stores], json.loads(first.stdout)
        )


def cites(answer: dict, doc_id: str) -> bool:
    return answer.get("status") == "answered" and any(c["doc_id"] == doc_id for c in answer["citations"])


def test_answers_with_verified_citations_through_the_proxy(cluster):
    seed_text = SEED.read_text(encoding="utf-8")
    before = list(cluster.proxy.served)
    for _ in range(4):
        response = ask(cluster.proxy.url, QUESTION)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == "answered" and answer["citations"], answer
        for citation in answer["citations"]:
            assert citation["doc_id"] == SEED.name
            assert " ".join(citation["quote"].split()) in " ".join(seed_text.split())  # verified, verbatim
    assert all(after - b >= 2 for after, b in zip(cluster.proxy.served, before, strict=True))  # both replicas
    for store in cluster.stores:  # no replica (nor the ingesting machine) needed a store folder
        assert not store.exists() or not any(store.iterdir()), list(store.iterdir())
    for base in cluster.replicas:
        health = httpx.get(f"{base}/api/health", timeout=10).json()
        assert health["store"]["generation"] == health["store"]["generation_published"] >= 1
        assert health["store"]["chunks"] == cluster.first["chunks_total"]


def _wait_on_both(cluster: Cluster, check, what: str) -> list[float]:
    """Seconds until `check(answer)` held on each replica (asked directly, not through the proxy)."""
    started = time.monotonic()
    took: list[float | None] = [None, None]
    while None in took and time.monotonic() - started < PICKUP_LIMIT + 20:
        for i, base in enumerate(cluster.replicas):
            if took[i] is None and check(ask(base, NEW_QUESTION).json()):
                took[i] = time.monotonic() - started
        time.sleep(0.2)
    assert None not in took, f"{what}: replicas {took} (None: not within {PICKUP_LIMIT + 20} s)"
    return took  # type: ignore[return-value]


PICKUP: dict[str, list[float]] = {}


def test_a_second_ingestion_is_citable_on_both_replicas_and_prune_removes_it(cluster):
    corpus = cluster.root / "corpus"
    for base in cluster.replicas:
        assert not cites(ask(base, NEW_QUESTION).json(), NEW_DOC["id"])  # guard: not there yet
    (corpus / "new.jsonl").write_text(json.dumps(NEW_DOC) + "\n", encoding="utf-8")
    env = {**cluster.env, "OPENBAAR_STORE": str(cluster.stores[0])}
    added = run_cli("ingest", str(corpus), "--json", env=env)
    assert added.returncode == 0, added.stderr
    summary = json.loads(added.stdout)
    assert summary["added"] == 1 and summary["generation"] == cluster.first["generation"] + 1
    PICKUP["ingest"] = _wait_on_both(cluster, lambda a: cites(a, NEW_DOC["id"]), "new document cited")
    assert max(PICKUP["ingest"]) <= PICKUP_LIMIT, PICKUP
    for base in cluster.replicas:
        answer = ask(base, NEW_QUESTION).json()
        quote = next(c["quote"] for c in answer["citations"] if c["doc_id"] == NEW_DOC["id"])
        assert quote in NEW_DOC["text"]
        health = httpx.get(f"{base}/api/health", timeout=10).json()
        assert health["store"]["generation"] == summary["generation"]

    (corpus / "new.jsonl").unlink()
    pruned = run_cli("ingest", str(corpus), "--prune", "--json", env=env)
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["removed"] == 1
    PICKUP["prune"] = _wait_on_both(cluster, lambda a: not cites(a, NEW_DOC["id"]), "pruned document gone")
    assert max(PICKUP["prune"]) <= PICKUP_LIMIT, PICKUP
    print(f"\npick-up of a new generation (s, per replica): {PICKUP}")


def test_the_rate_limit_is_shared_by_both_replicas(cluster):
    address = client_address()
    before = list(cluster.proxy.served)
    codes = [ask(cluster.proxy.url, QUESTION, address=address).status_code for _ in range(RATE_LIMIT + 1)]
    assert codes == [200] * RATE_LIMIT + [429], codes
    assert all(after - b >= 2 for after, b in zip(cluster.proxy.served, before, strict=True))  # both answered
    assert ask(cluster.proxy.url, QUESTION).status_code == 200  # another client is not limited


class Chat:
    """A Chainlit chat session over socket.io, as the page speaks it (optionally resuming a thread)."""

    def __init__(self, url: str, cookie: str, thread_id: str = "") -> None:
        import socketio

        self.events: list[tuple[str, object]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sio = socketio.AsyncClient(reconnection=False)

        @self.sio.on("*")
        async def _any(event: str, data: object = None) -> None:
            self.events.append((event, data))

        self._run(
            self.sio.connect(
                url,
                socketio_path="/ws/socket.io",
                transports=["websocket"],
                headers={"Origin": url, "Cookie": cookie, "Accept-Language": "nl-NL"},
                auth={
                    "clientType": "webapp",
                    "sessionId": str(uuid.uuid4()),
                    "threadId": thread_id,
                    "userEnv": "{}",
                    "chatProfile": "openbaar",
                },
                wait_timeout=20,
            )
        )
        self._run(self.sio.emit("connection_successful"))

    def _run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def ask(self, text: str) -> None:
        message = {
            "threadId": "",
            "id": str(uuid.uuid4()),
            "name": "alice",
            "type": "user_message",
            "output": text,
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        self._run(self.sio.emit("client_message", {"message": message, "fileReferences": []}))

    def answers(self, count: int, timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            final = {
                d["id"]: d
                for name, d in list(self.events)
                if name in ("new_message", "update_message")
                and isinstance(d, dict)
                and d.get("type") == "assistant_message"
                and (d.get("metadata") or {}).get("mode")
            }
            if len(final) >= count:
                return list(final.values())
            time.sleep(0.1)
        raise TimeoutError([n for n, _ in self.events][-20:])

    def close(self) -> None:
        with suppress(Exception):
            self._run(self.sio.disconnect(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_a_staff_conversation_started_on_one_replica_resumes_on_the_other(cluster):
    one, other = cluster.replicas
    login = httpx.post(f"{one}/login", data={"username": "alice", "password": STAFF_PASSWORD}, timeout=20)
    assert login.status_code == 200, login.text
    cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
    chat = Chat(one, cookie)
    try:
        chat.ask(QUESTION)
        first = chat.answers(1)[0]
        assert first["metadata"]["status"] == "answered"
    finally:
        chat.close()

    # The other replica: the same login is valid (one CHAINLIT_AUTH_SECRET), the history is shared (PostgreSQL).
    headers = {"Cookie": cookie}
    threads = None
    for _ in range(50):  # the first replica writes the steps as the answer completes
        listed = httpx.post(
            f"{other}/project/threads",
            json={"pagination": {"first": 20}, "filter": {}},
            headers=headers,
            timeout=20,
        )
        assert listed.status_code == 200, listed.text
        threads = listed.json()["data"]
        if threads:
            break
        time.sleep(0.2)
    assert threads and len(threads) == 1, threads
    thread_id = threads[0]["id"]
    thread = httpx.get(f"{other}/project/thread/{thread_id}", headers=headers, timeout=20).json()
    outputs = [s["output"] for s in thread["steps"] if s["type"] == "user_message"]
    assert outputs == [QUESTION]

    resumed = Chat(other, cookie, thread_id=thread_id)
    try:
        deadline = time.monotonic() + 20
        while not any(name == "resume_thread" for name, _ in resumed.events) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(name == "resume_thread" for name, _ in resumed.events), [n for n, _ in resumed.events]
        resumed.ask("En welke landen niet?")  # a follow-up, understood from the resumed history
        assert resumed.answers(1)
    finally:
        resumed.close()
    for _ in range(50):
        thread = httpx.get(f"{one}/project/thread/{thread_id}", headers=headers, timeout=20).json()
        outputs = [s["output"] for s in thread["steps"] if s["type"] == "user_message"]
        if len(outputs) == 2:
            break
        time.sleep(0.2)
    assert outputs == [QUESTION, "En welke landen niet?"]  # one conversation, written by both replicas


DYING = 0.25  # seconds from sending SIGKILL until the replica's connections are gone


def test_killing_one_replica_under_load_fails_only_its_in_flight_requests(cluster):
    """Last in this module: it kills the second replica."""
    stop = threading.Event()
    results: list[tuple[float, float, bool]] = []  # (started, ended, ok)
    killed_at: list[float] = []

    def client() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                ok = ask(cluster.proxy.url, QUESTION, timeout=30).status_code == 200
            except httpx.HTTPError:
                ok = False
            results.append((started, time.monotonic(), ok))

    with ThreadPoolExecutor(6) as pool:
        for _ in range(6):
            pool.submit(client)
        time.sleep(4)
        killed_at.append(time.monotonic())
        os.kill(cluster.processes[1], signal.SIGKILL)
        time.sleep(6)
        stop.set()
    kill = killed_at[0]
    # Requests the killed replica held when it died: the signal takes a moment, so those it accepted up to
    # DYING seconds after `kill` count too (the test's clock is read just before the signal is sent).
    in_flight = cluster.proxy.in_flight_at(1, kill, grace=DYING)
    failed = [r for r in results if not r[2]]
    assert len([r for r in results if r[1] < kill]) >= 6, "no load before the kill"
    assert len([r for r in results if r[0] > kill]) >= 6, "no load after the kill"
    assert all(start < kill + DYING for start, _, _ in failed), (
        f"requests started after the kill failed: {failed}"
    )
    assert len(failed) <= in_flight, (len(failed), in_flight)
    assert cluster.proxy.refused[1] >= 1  # the proxy noticed, and sent the rest to the live replica
    print(f"\nkill under load: {len(results)} requests, {len(failed)} failed, {in_flight} in flight on it")


def test_the_compose_file_runs_these_processes():
    """deploy/compose.yaml stays true: the processes and settings it names are the ones started above."""
    import yaml

    from tests.conftest import REPO

    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"chroma", "postgres", "app1", "app2", "proxy"} <= set(services)
    assert "chroma run" in " ".join(map(str, services["chroma"]["command"]))
    for name in ("app1", "app2"):
        app = services[name]
        command = app["command"] if isinstance(app["command"], str) else " ".join(app["command"])
        assert command.startswith("openbaar serve"), command
        env = app["environment"]
        assert env["OPENBAAR_DB_URL"].startswith("postgresql://")
        assert env["OPENBAAR_CHROMA_HOST"] == "chroma"
        assert env["OPENBAAR_COLLECTION"] and env["CHAINLIT_AUTH_SECRET"]
        assert "OPENBAAR_STORE" not in env and not app.get("volumes")  # no store folder on a replica
        assert env["FORWARDED_ALLOW_IPS"] == services["proxy"]["networks"]["backend"]["ipv4_address"]
    # Chroma runs from our own image: `chroma run` of the chromadb version the app's client is locked to.
    assert services["chroma"]["image"] == services["app1"]["image"] == "openbaar:latest"
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert "-r requirements.lock -c constraints.txt" in dockerfile
    assert "chromadb==" in (REPO / "requirements.lock").read_text()
    assert services["postgres"]["image"].startswith("postgres:15")  # the version tests run against
    caddy = (REPO / "deploy" / "Caddyfile").read_text()
    assert (
        "lb_policy cookie" in caddy and "app1:8000 app2:8000" in caddy and "health_uri /api/health" in caddy
    )
    # Every OPENBAAR_ variable the file sets is a real setting.
    from assistant.settings import Settings

    names = {f"OPENBAAR_{n.upper()}" for n in Settings.model_fields}
    for service in services.values():
        for key in service.get("environment") or {}:
            assert not key.startswith("OPENBAAR_") or key in names, key
