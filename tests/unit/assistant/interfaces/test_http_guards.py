"""HTTP guards: rate-limit buckets per whole key, the API closed without keys when staff login is on, Host checks
against DNS rebinding, control characters in paths (assistant/interfaces/http)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from assistant.interfaces.http.errors import ApiError
from assistant.interfaces.http.keys import ApiKeys
from assistant.interfaces.http.origin import OriginGuard, host_allowed
from assistant.settings import Settings


def request(headers: dict[str, str], client: str = "10.0.0.1") -> Request:
    return Request(
        {
            "type": "http",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": (client, 1234),
        }
    )


def test_keys_have_buckets_of_their_own_whichever_header_carries_them():
    keys = ApiKeys(["sharedpr-one", "sharedpr-two"])
    one = keys.client_id(request({"Authorization": "Bearer sharedpr-one"}))
    two = keys.client_id(request({"Authorization": "Bearer sharedpr-two"}))
    assert one != two and one.startswith("key:") and "sharedpr" not in one
    assert keys.client_id(request({"X-Api-Key": "sharedpr-one"})) == one
    assert ApiKeys([]).client_id(request({"X-Api-Key": "x"})) == "ip:10.0.0.1"


def test_staff_login_closes_the_api_without_keys():
    ApiKeys([]).check(request({}))  # open API: no login, no keys
    with pytest.raises(ApiError) as refused:
        ApiKeys([], required=True).check(request({"Authorization": "Bearer anything"}))
    assert refused.value.status == 401
    ApiKeys(["k1"], required=True).check(request({"X-Api-Key": "k1"}))
    staff = ApiKeys([], required=True, login=lambda r: r.headers.get("cookie") == "access_token=ok")
    staff.check(request({"Cookie": "access_token=ok"}))  # a staff member's login
    with pytest.raises(ApiError):
        staff.check(request({"Cookie": "access_token=forged"}))


def test_hosts():
    hosts = set(Settings(public_hosts="openbaar.test").allowed_host_list("127.0.0.1", 8000) or ())
    assert host_allowed("127.0.0.1:8000", hosts) and host_allowed("openbaar.test:8000", hosts)
    assert host_allowed("LOCALHOST", hosts) and host_allowed("[::1]:8000", hosts)
    assert not host_allowed("rebind.example:8000", hosts) and not host_allowed(None, hosts)
    assert host_allowed("anything", None)
    assert Settings().allowed_host_list("0.0.0.0", 8000) is None  # every interface, no names: unknown


def run_guard(path: str, host: str, kind: str = "http") -> list[dict]:
    sent: list[dict] = []
    reached: list[bool] = []

    async def app(scope, receive, send):
        reached.append(True)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    guard = OriginGuard(app, ["http://127.0.0.1:8000"], ["127.0.0.1", "localhost"])
    scope = {"type": kind, "path": path, "headers": [(b"host", host.encode())]}
    asyncio.run(guard(scope, receive, send))
    return sent if not reached else [{**sent[0], "type": "reached"}]


def test_guard_refuses_foreign_hosts_and_control_characters():
    assert run_guard("/", "127.0.0.1:8000")[0]["type"] == "reached"
    assert run_guard("/", "rebind.example:8000")[0]["status"] == 403
    assert run_guard("/api/health", "10.1.2.3:8000")[0]["type"] == "reached"  # probes may use any address
    assert run_guard("/public/\x00", "127.0.0.1:8000")[0]["status"] == 400
    assert run_guard("/ws/socket.io/", "rebind.example:8000", "websocket")[0]["type"] == "websocket.close"
