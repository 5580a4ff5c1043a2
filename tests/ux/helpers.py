"""What the visitor tests share: starting `openbaar serve`, opening pages, watching the console, asking, measuring.

Nothing here imports a product module: the contract is the CLI, the environment variables, the HTTP API and the page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.servers import free_port, http_ok, listens_on, wait_until

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SHOTS = REPO / "var" / "ux-shots"
CACHE = REPO / "var" / "ux-cache"
# `openbaar` exactly as a user runs it: the console script of this virtualenv.
OPENBAAR = [str(Path(sys.executable).parent / "openbaar")]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Visible texts the tests recognise (today's catalog; the issue does not ask to change them).
MODE_LABEL = {"nl": "geen taalmodel", "en": "no language model"}
LLM_DISCLAIMER = {"nl": "LLM's kunnen fouten maken", "en": "LLMs can make mistakes"}
STATUS_LABELS = {
    "not_found": ("Niet gevonden in de bronnen", "Not found in the sources"),
    "refused": ("Deze vraag beantwoord ik niet", "I do not answer this question"),
    "withheld": ("Niet openbaar", "Not public"),
    "error": ("Technisch probleem", "Technical problem"),
}
NOT_FOUND_BODY = ("Ik heb het antwoord niet kunnen vinden", "I could not find the answer")
# The "show in the source" control that the issue asks for (point 5): a button with this accessible name.
SHOW_IN_SOURCE = {"nl": "Toon in de bron", "en": "Show in the source"}


STAFF = {"alice": "alice-password-1", "bob": "bobby-password-2"}


def lang_of(locale: str) -> str:
    return "nl" if locale.lower().startswith("nl") else "en"


def clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment without Openbaar, OpenAI or Chainlit settings (and without CI, which makes
    `chainlit run` invent an OpenAI key), plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENBAAR_", "OPENAI_", "CHAINLIT_")) and k != "CI"
    }
    env.update(LANG="en_US.UTF-8", **extra)
    return env


def cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*OPENBAAR, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )


@dataclass
class Server:
    url: str
    log: Path
    folder: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def start_server(folder: Path, env: dict[str, str], port: int | None = None) -> Iterator[Server]:
    """`openbaar serve --port N` started in `folder` (its working folder), until the block ends."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*OPENBAAR, "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
        )
        try:
            try:
                wait_until(
                    lambda: listens_on(process.pid, port) and http_ok(f"{url}/api/health"),
                    120,
                    "openbaar serve",
                    process,
                )
            except (RuntimeError, TimeoutError) as exc:
                raise RuntimeError(
                    f"{exc}\n--- {log} ---\n{log.read_text(errors='replace')[-3000:]}"
                ) from exc
            yield Server(url, log, folder)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- the browser -------------------------------------------------------------------------------------------------


@dataclass
class Watch:
    """Everything a page reported: console errors, uncaught page errors, responses, failed requests."""

    allow: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", lambda m: self._console(m.type, m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("response", lambda r: self.responses.append((r.status, r.url)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))

    def _console(self, kind: str, text: str) -> None:
        if kind == "error" and not any(re.search(a, text) for a in self.allow):
            self.errors.append(text.split("\n")[0][:400])

    def assert_clean(self, where: str) -> None:
        assert not self.errors, f"console errors {where}: {self.errors}"


def new_page(browser, locale: str, viewport: dict | None = None, allow: Iterable[str] = ()):
    """A fresh browser context (own cookies) and page; returns (page, watch)."""
    viewport = viewport or DESKTOP
    mobile = viewport["width"] < 600
    context = browser.new_context(locale=locale, viewport=viewport, is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = Watch(allow=tuple(allow))
    watch.attach(page)
    return page, watch


def shot(page, module: str, name: str) -> Path:
    folder = SHOTS / module
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def open_chat(page, url: str) -> None:
    page.goto(url + "/")
    page.wait_for_selector("#starters button")
    page.wait_for_timeout(300)


ANSWERS = "[data-step-type=assistant_message]"


def answers(page):
    return page.locator(ANSWERS)


# The chat is in the page, or in the widget's shadow root (document.querySelectorAll does not look inside it).
_ROOTS = "(() => { const w = document.querySelector('#chainlit-copilot'); return w && w.shadowRoot ? [document, w.shadowRoot] : [document]; })()"


def wait_answer(page, count: int, timeout: float = 60_000) -> str:
    """Wait until `count` answers exist and the run is over (the stop button is gone); the last answer's text."""
    page.wait_for_function(
        f"""([sel, n]) => {{ const roots = {_ROOTS};
            const found = roots.reduce((k, r) => k + r.querySelectorAll(sel).length, 0);
            return found >= n && !roots.some(r => r.querySelector('#stop-button')); }}""",
        arg=[ANSWERS, count],
        timeout=timeout,
    )
    page.wait_for_timeout(400)  # the sources are sent right after the answer, in the same run
    return answers(page).nth(count - 1).inner_text()


def ask(page, question: str) -> str:
    """Type a question, send it, and return the text of its answer."""
    before = answers(page).count()
    box = page.locator("#chat-input")
    box.fill(question)
    for _ in range(40):  # the widget ignores Enter until its socket is connected
        box.press("Enter")
        page.wait_for_timeout(250)
        if not box.input_value():
            break
    return wait_answer(page, before + 1)


def normalise(text: str) -> str:
    return " ".join(text.split())


def quotes_in(text: str) -> list[str]:
    """The quoted sentences of an answer, in order, each once (“...”)."""
    seen: list[str] = []
    for q in re.findall(r"“([^”]+)”", text):
        q = normalise(q)
        if q not in seen:
            seen.append(q)
    return seen


def status_of(text: str) -> str:
    """The visible status of an answer: not_found, refused, withheld, error, or answered."""
    for status, labels in STATUS_LABELS.items():
        if any(label in text for label in labels):
            return status
    if any(body in text for body in NOT_FOUND_BODY):
        return "not_found"
    return "answered"


def visible_count(page, needle: str, root_selector: str | None = None) -> int:
    """How often `needle` appears in the rendered (visible) text of the page, or of the widget's shadow root."""
    return page.evaluate(
        """([needle, root]) => {
            const norm = s => s.replace(/\\s+/g, ' ');
            let text;
            if (root) { const e = document.querySelector(root); const r = e && (e.shadowRoot || e);
                        text = r ? [...r.children].map(c => c.innerText || '').join('\\n') : ''; }
            else { text = document.body.innerText; }
            return norm(text).split(norm(needle)).length - 1;
        }""",
        [needle, root_selector],
    )


def largest_font(locator) -> tuple[float, str]:
    """The largest computed font size (px) of any visible text inside `locator`, and that text."""
    return tuple(
        locator.evaluate(
            """root => { let best = [0, ''];
               const walk = n => { for (const c of n.children) {
                 const s = getComputedStyle(c); const r = c.getBoundingClientRect();
                 const own = [...c.childNodes].filter(x => x.nodeType === 3).map(x => x.textContent).join('').trim();
                 if (own && r.width > 0 && r.height > 0 && s.visibility !== 'hidden') {
                   const size = parseFloat(s.fontSize); if (size > best[0]) best = [size, own.slice(0, 60)]; }
                 walk(c); } };
               walk(root); return best; }"""
        )
    )


def contrast_ratio(rgb1: tuple[float, float, float], rgb2: tuple[float, float, float]) -> float:
    def lum(rgb):
        def ch(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (ch(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    a, b = sorted((lum(rgb1), lum(rgb2)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def parse_rgb(css: str) -> tuple[float, float, float]:
    nums = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
    return nums[0], nums[1], nums[2]
