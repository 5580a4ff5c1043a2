"""The chat in a real headless Chromium (Debian's, driven by Playwright) against a real `openbaar serve`.

One citizen server (no login) and one staff server (password login) share a store ingested from the seed article.
Every request the pages make is recorded and must go to the app's own origin.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.interfaces.chat.staff import hash_password
from tests.conftest import REPO, SEED
from tests.integration.servers import OPENBAAR, free_port, openbaar_serve

pytestmark = pytest.mark.integration

ARTIFACTS = REPO / "test-artifacts"
QUOTE = "Ze noemde alleen Marokko als land waar een partnerschap mee is."
STAFF = {"alice": "alice-password-1", "bob": "bobby-password-2"}


@dataclass
class Server:
    url: str
    db: Path
    log: Path


@dataclass
class Recorder:
    """Every URL a page requested and every websocket frame it received."""

    urls: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: self.frames.append(str(f))))

    def foreign(self, origin: str) -> list[str]:
        return [
            u for u in self.urls if not u.startswith(origin + "/") and not u.startswith(("data:", "blob:"))
        ]


def _env(tmp: Path, shared_cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBAAR_", "OPENAI_", "CHAINLIT_"))}
    env.update(
        OPENBAAR_STORE=str(tmp / "store"),
        OPENBAAR_EMBEDDING_CACHE=str(shared_cache / "embeddings.sqlite"),
        TIKTOKEN_CACHE_DIR=str(shared_cache / "tiktoken"),
        LANG="en_US.UTF-8",
        **extra,
    )
    return env


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*OPENBAAR, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def ui_root(tmp_path_factory, shared_cache) -> Path:
    """A folder with a store holding the seed article."""
    root = tmp_path_factory.mktemp("ui")
    done = _cli("ingest", str(SEED), env=_env(root, shared_cache), cwd=root)
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="module")
def make_server(ui_root, shared_cache) -> Iterator:
    """Start `openbaar serve` with extra settings; stopped at the end of the module."""
    stack: list = []

    def start(name: str, **extra: str) -> Server:
        db = ui_root / f"{name}.sqlite"
        env = _env(ui_root, shared_cache, OPENBAAR_CHAT_DB=str(db), **extra)
        log = ui_root / f"{name}.log"
        ctx = openbaar_serve(log, env)
        url = ctx.__enter__()
        stack.append(ctx)
        return Server(url, db, log)

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


@pytest.fixture(scope="module")
def citizen_server(make_server) -> Server:
    return make_server("citizen")


def _page(browser, locale: str, recorder: Recorder):
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    recorder.attach(page)
    return page


def _answers(page):
    return page.locator("[data-step-type=assistant_message]")


def _wait_for_answer(page, count: int, label: str) -> str:
    """Wait until `count` answers are complete (their mode label shown); the text of the last one."""
    page.wait_for_function(
        "([n, label]) => [...document.querySelectorAll('[data-step-type=assistant_message]')]"
        ".filter(e => e.innerText.includes(label)).length >= n",
        arg=[count, label],
    )
    return _answers(page).nth(count - 1).inner_text()


def _ask(page, question: str) -> None:
    box = page.locator("#chat-input")
    box.fill(question)
    box.press("Enter")


def test_citizen_asks_follows_up_and_rates_an_answer(citizen_server, browser):
    server = citizen_server
    recorder = Recorder()
    page = _page(browser, "nl-NL", recorder)
    page.goto(server.url + "/")
    page.wait_for_selector("text=Geladen bronnen")  # the welcome, with the store's stats
    page.locator("#starters button", has_text="Openbare migratiepartnerschappen").click()

    first = _wait_for_answer(page, 1, "Letterlijk geciteerd")
    assert any("stream_token" in f for f in recorder.frames), "the answer was not streamed"
    page.wait_for_selector(f"text={QUOTE[:40]}")
    sources = _answers(page).first.locator("section.openbaar-sources")
    sources.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-answer-nl.png"))
    assert "Marokko" in first and "Niger" in first
    assert "Bronnen" in sources.inner_text() and "Migratiepartnerschappen" in sources.inner_text()
    assert page.get_by_text(QUOTE).count() == 1  # the quote once, in the answer; its source listed below

    _ask(page, "En wat zei de minister daarover?")
    page.wait_for_function(  # a follow-up quoting nothing carries no "quoted" label: wait for its rewrite instead
        "() => { const a = document.querySelectorAll('[data-step-type=assistant_message]');"
        " return a.length >= 2 && a[1].innerText.includes('Opgevat als') && !document.querySelector('#stop-button'); }"
    )
    second = _answers(page).nth(1).inner_text()
    assert "Opgevat als" in second  # the standalone rewrite of the follow-up is shown
    page.screenshot(path=str(ARTIFACTS / "ui-followup-nl.png"))

    _answers(page).last.hover()
    page.locator("button:has(svg.lucide-thumbs-up)").last.click()
    page.locator("[role=dialog] textarea").fill("Duidelijk, met bron.")
    page.locator("#submit-feedback").click()
    rows: list = []
    for _ in range(50):  # the data layer writes in the background
        with sqlite3.connect(server.db) as db:
            rows = db.execute('SELECT "value", "comment" FROM feedbacks').fetchall()
        if rows:
            break
        page.wait_for_timeout(100)
    assert (1, "Duidelijk, met bron.") in rows
    with sqlite3.connect(
        server.db
    ) as db:  # one element per answer holds its sources, props in the row itself
        elements = db.execute("SELECT type, name, props FROM elements").fetchall()
    assert elements and all(kind == "custom" and name == "OpenbaarSources" for kind, name, _ in elements)
    assert QUOTE in elements[0][2] or "Migratiepartnerschappen" in elements[0][2]

    assert not recorder.foreign(server.url), recorder.foreign(server.url)
    page.context.close()


def test_staff_logs_in_and_resumes_their_own_thread_only(make_server, browser):
    users = ",".join(f"{name}:{hash_password(pw)}" for name, pw in STAFF.items())
    server = make_server("staff", OPENBAAR_STAFF_USERS=users, CHAINLIT_AUTH_SECRET=secrets.token_urlsafe(48))
    recorder = Recorder()
    page = _page(browser, "en-US", recorder)
    page.goto(server.url + "/")
    page.fill("#email", "alice")
    page.fill("#password", STAFF["alice"])
    page.locator("button[type=submit]").click()
    page.locator("#starters button", has_text="Public migration partnerships").click()
    first = _wait_for_answer(page, 1, "Quoted verbatim")
    assert "Marokko" in first

    page.locator("#new-chat-button").click()
    page.locator("[role=dialog] button", has_text="Confirm").click()
    page.wait_for_selector("#starters")
    link = page.locator("a[href^='/thread/']", has_text="Which partnerships")
    thread_id = link.get_attribute("href").rstrip("/").split("/")[-1]
    link.click()
    page.wait_for_selector(f"text={QUOTE[:40]}")  # the stored answer and its sources are back
    _ask(page, "And what else?")
    _wait_for_answer(page, 2, "Quoted verbatim")
    page.screenshot(path=str(ARTIFACTS / "ui-staff-resumed-en.png"))
    assert page.url.rstrip("/").endswith(thread_id)

    other = _page(browser, "en-US", recorder)
    other.goto(server.url + "/")
    other.fill("#email", "bob")
    other.fill("#password", STAFF["bob"])
    other.locator("button[type=submit]").click()
    other.wait_for_selector("#starters")
    assert other.get_by_text("Which partnerships").count() == 0  # bob's history does not list alice's thread
    response = other.request.get(f"{server.url}/project/thread/{thread_id}")
    assert response.status in (401, 403, 404)

    assert not recorder.foreign(server.url), recorder.foreign(server.url)
    page.context.close()
    other.context.close()


def test_cors_is_an_explicit_list(citizen_server):
    server = citizen_server
    for origin, allowed in (("https://evil.example", False), (server.url, True)):
        request = urllib.request.Request(
            server.url + "/project/settings",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                echoed = response.headers.get("access-control-allow-origin")
        except urllib.error.HTTPError as exc:
            echoed = exc.headers.get("access-control-allow-origin")
        assert (echoed == origin) is allowed, (origin, echoed)


def test_serve_refuses_staff_login_without_a_secret(tmp_path, shared_cache):
    env = _env(tmp_path, shared_cache, OPENBAAR_STAFF_USERS=f"alice:{hash_password('x' * 12)}")
    done = _cli("serve", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "CHAINLIT_AUTH_SECRET" in done.stderr
