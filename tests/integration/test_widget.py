"""The embeddable widget on a third-party page: works on an allow-listed site, not on any other."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO, SEED
from tests.integration.servers import free_port, openbaar_serve
from tests.integration.test_ui import ARTIFACTS, Recorder, _cli, _env

pytestmark = pytest.mark.integration

EMBED = REPO / "examples" / "embed.html"


@contextmanager
def host_page(folder: Path, server_url: str) -> Iterator[str]:
    """Serve examples/embed.html, pointed at `server_url`, from another loopback port (another origin)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(EMBED.read_text().replace("http://127.0.0.1:8000", server_url))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def widget_setup(tmp_path_factory, shared_cache):
    """An app whose allow-list holds one host page's origin; that page and a second, not-allowed one."""
    root = tmp_path_factory.mktemp("widget")
    done = _cli("ingest", str(SEED), env=_env(root, shared_cache), cwd=root)
    assert done.returncode == 0, done.stderr
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    with host_page(root / "allowed", app_url) as allowed, host_page(root / "other", app_url) as other:
        env = _env(
            root, shared_cache, OPENBAAR_ALLOWED_ORIGINS=allowed, OPENBAAR_CHAT_DB=str(root / "chat.sqlite")
        )
        with openbaar_serve(root / "serve.log", env, port=port):
            yield app_url, allowed, other


def widget_visible_text(page) -> str:
    """What a visitor sees inside the widget (it renders in a shadow root)."""
    return page.locator("#chainlit-copilot").evaluate(
        "e => [...(e.shadowRoot || e).children].map(c => c.innerText || '').join('\\n')"
    )


def wait_for_widget_text(page, text: str) -> None:
    page.wait_for_function(
        "t => { const e = document.querySelector('#chainlit-copilot');"
        " return !!e && [...(e.shadowRoot || e).children].some(c => (c.innerText || '').includes(t)); }",
        arg=text,
    )


def send(page, question: str) -> None:
    """Type and send; the widget ignores Enter until its socket is connected, so retry until the box clears."""
    box = page.locator("#chat-input")
    box.fill(question)
    for _ in range(40):
        box.press("Enter")
        page.wait_for_timeout(250)
        if not box.input_value():
            return
    raise AssertionError("the widget did not take the question")


def open_widget(browser, url: str, recorder: Recorder):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    recorder.attach(page)
    page.on("requestfailed", lambda r: recorder.failed.append(r.url))
    page.goto(url + "/")
    page.locator("#chainlit-copilot-button").click()
    return page


def test_widget_on_an_allowed_site_answers_with_sources(widget_setup, browser):
    app_url, allowed, _ = widget_setup
    recorder = Recorder()
    page = open_widget(browser, allowed, recorder)
    wait_for_widget_text(page, "Public migration partnerships")  # starters show once the session is connected
    send(page, "Which partnerships are public?")
    ARTIFACTS.mkdir(exist_ok=True)
    try:  # the answer is complete when its mode label shows; its sources are inline
        wait_for_widget_text(page, "Quoted verbatim")
        wait_for_widget_text(page, "Ze noemde alleen Marokko")
    finally:
        page.screenshot(path=str(ARTIFACTS / "widget-allowed.png"))
    widget_text = widget_visible_text(page)
    assert "Marokko" in widget_text and "Niger" in widget_text
    assert "Sources" in widget_text and "Migratiepartnerschappen" in widget_text  # the list under the answer
    # the page talks only to itself and to the Openbaar server
    assert all(u.startswith((allowed + "/", app_url + "/", "data:", "blob:")) for u in recorder.urls), (
        recorder.urls
    )
    page.context.close()


def test_widget_on_a_site_that_is_not_allowed_does_not_work(widget_setup, browser):
    app_url, _, other = widget_setup
    recorder = Recorder()
    page = open_widget(browser, other, recorder)
    page.wait_for_timeout(3000)
    if page.locator("#chat-input").count():
        page.locator("#chat-input").fill("Which partnerships are public?")
        page.locator("#chat-input").press("Enter")
        page.wait_for_timeout(4000)
    widget_text = widget_visible_text(page)
    page.screenshot(path=str(ARTIFACTS / "widget-refused.png"))
    assert "Marokko" not in widget_text and "Quoted verbatim" not in widget_text
    assert not any("stream_token" in f for f in recorder.frames)
    assert any(u.startswith(app_url) for u in recorder.failed), "the browser was not refused by the app"
    page.context.close()
