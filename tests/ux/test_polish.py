"""Issue point 12: the polish a first visitor notices.

- the welcome says "180 documenten (rijksoverheid-vraag-en-antwoord 179)": a raw type name, one document unexplained;
- the Leesmij (readme) breaks lines in the middle of sentences;
- the logo is cut off at the top of the welcome screen (on a 390x844 phone the welcome starts mid-sentence);
- the server log says "Translation file for nl-NL not found" on every Dutch page load;
- `openbaar serve` refusing to start still creates .chainlit/, .files/ and var/chat.sqlite in the current folder;
- the first `make run` embeds all 606 sample passages (minutes on 2 busy cores): the fix ships the samples'
  embeddings, so ingesting samples/ into a fresh store embeds nothing (not a timed test: `chunks_embedded == 0`).
Also found while testing: every `openbaar serve` of one checkout uses <repo>/.files and a stopping server deletes
it, so the other servers stop showing sources (FileNotFoundError in their log).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.integration.servers import free_port
from tests.ux.helpers import (
    DESKTOP,
    OPENBAAR,
    PHONE,
    SAMPLES,
    ask,
    clean_env,
    new_page,
    open_chat,
    quotes_in,
    shot,
    visible_count,
)

pytestmark = pytest.mark.integration

MODULE = "polish"
SOURCES_LINE = {"nl": "Geladen bronnen", "en": "Loaded sources"}


def _sample_types() -> set[str]:
    types = set()
    for path in SAMPLES.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line).get("type"):
                types.add(json.loads(line)["type"])
    return types


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_the_welcome_names_document_types_readably_and_counts_every_document(citizen, browser, locale):
    """The loaded-sources line names the kinds of documents in words (no raw type id such as
    "rijksoverheid-vraag-en-antwoord") and the counts it gives per kind add up to the total."""
    lang = "nl" if locale.startswith("nl") else "en"
    page, watch = new_page(browser, locale, DESKTOP)
    try:
        open_chat(page, citizen.url)
        line = next(
            (ln for ln in page.locator("body").inner_text().splitlines() if SOURCES_LINE[lang] in ln), ""
        )
        assert line, "no loaded-sources line on the welcome screen"
        raw = [t for t in _sample_types() if t in line]
        assert not raw, f"raw type ids in the welcome: {raw} in {line!r}"
        numbers = [int(n) for n in re.findall(r"\b\d+\b", re.sub(r"\d{4}-\d{2}(-\d{2})?", "", line))]
        total, parts = numbers[0], numbers[1:]
        assert parts and sum(parts) == total, f"the kinds ({parts}) do not add up to {total}: {line!r}"
        watch.assert_clean("on the welcome screen")
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_the_readme_has_no_line_breaks_inside_sentences(citizen, browser, locale):
    """The Leesmij/Readme dialog wraps its paragraphs to the dialog's width: no forced line break (a newline shown
    as a break, or a <br>) inside a paragraph or list item."""
    page, watch = new_page(browser, locale, DESKTOP)
    try:
        open_chat(page, citizen.url)
        page.locator("#readme-button").click()
        dialog = page.locator("[role=dialog]")
        dialog.wait_for()
        shot(page, MODULE, f"readme-{locale}")
        breaks = dialog.evaluate(
            """root => { const found = [];
               const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
               let n; while ((n = walker.nextNode())) {
                 const ws = getComputedStyle(n.parentElement).whiteSpace;
                 const inner = n.textContent.replace(/^\\s+|\\s+$/g, '');
                 if (/pre|break-spaces/.test(ws) && inner.includes('\\n')) found.push(inner.split('\\n')[0].slice(-40)); }
               for (const br of root.querySelectorAll('br')) found.push('<br> after: ' + (br.previousSibling?.textContent || '').slice(-40));
               return found; }"""
        )
        assert not breaks, f"lines broken mid-sentence in the readme, after: {breaks}"
        watch.assert_clean("with the readme open")
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_the_welcome_logo_is_not_cut_off_on_a_phone(citizen, browser, locale):
    """On a 390x844 phone the welcome screen opens at its top: the logo is entirely on screen, not under the
    header, and the welcome title is visible."""
    page, watch = new_page(browser, locale, PHONE)
    try:
        open_chat(page, citizen.url)
        page.wait_for_timeout(700)
        shot(page, MODULE, f"welcome-phone-{locale}")
        logo = page.locator("img[src*='logo']").first
        box = logo.bounding_box()
        assert box is not None, "no logo on the welcome screen"
        assert box["y"] >= 0, f"the logo is cut off: its top is at {box['y']:.0f}px"
        on_top = logo.evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " const hit = document.elementFromPoint(r.left + r.width / 2, r.top + 2); return hit === e; }"
        )
        assert on_top, "the top of the logo is covered (by the header)"
        watch.assert_clean("on the phone")
    finally:
        page.context.close()


def test_dutch_page_loads_leave_no_translation_warnings_in_the_server_log(citizen, browser):
    """Loading the Dutch page does not log "Translation file for nl-NL not found" (or any WARNING about
    translations) on the server."""
    page, _ = new_page(browser, "nl-NL", DESKTOP)
    try:
        open_chat(page, citizen.url)
        page.reload()
        page.wait_for_selector("#starters button")
    finally:
        page.context.close()
    warnings = [ln for ln in citizen.log_text().splitlines() if "Translation file" in ln]
    assert not warnings, f"{len(warnings)} translation warnings, e.g. {warnings[0]!r}"


def test_serve_refusing_to_start_leaves_the_folder_as_it_was(tmp_path):
    """`openbaar serve` with no store refuses in one line (exit 2) and creates nothing in the current folder
    (no .chainlit/, .files/ or var/chat.sqlite)."""
    folder = tmp_path / "visitor"
    folder.mkdir()
    env = clean_env(OPENBAAR_STORE=str(tmp_path / "no-store"))
    done = subprocess.run(
        [*OPENBAAR, "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    left = sorted(p.name for p in folder.iterdir())
    assert not left, f"a refused start left files behind: {left}"


def test_ingesting_the_samples_into_a_fresh_store_embeds_nothing(tmp_path):
    """The samples ship with their embeddings: `openbaar ingest` of samples/ (first its seed folder, then all of
    samples/) into a fresh store, with the default embedding cache, reports `chunks_embedded == 0`. This is what
    makes the first `make run` take about a minute, as the README promises."""
    env = clean_env(OPENBAAR_STORE=str(tmp_path / "store"))  # the default cache: <store>/embeddings.sqlite
    for path in (SAMPLES / "seed", SAMPLES):
        done = subprocess.run(
            [*OPENBAAR, "ingest", str(path), "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        summary = json.loads(done.stdout)
        assert summary["chunks_embedded"] == 0, (
            f"ingest of {path.relative_to(SAMPLES.parent)} embedded {summary['chunks_embedded']} of "
            f"{summary['chunks_added']} new passages on a fresh store: no bundled embeddings for the samples"
        )


def test_stopping_one_server_keeps_the_others_working(citizen, samples_store, ux_cache, browser, tmp_path):
    """Two `openbaar serve` of one checkout (say, a test run beside `make run`), both with the same run folder
    (OPENBAAR_RUN_DIR, where Chainlit keeps its uploads): stopping one leaves the other answering with its sources.
    Runs last (tests/ux/conftest.py): before the fix it broke the servers still running."""
    from tests.ux.conftest import serving

    # The citizen server's run folder: the default `var/run`, relative to the folder it was started in.
    shared_run_dir = citizen.folder / "var" / "run"
    assert shared_run_dir.is_dir(), f"the citizen server has no run folder at {shared_run_dir}"
    with serving("second", samples_store, tmp_path, ux_cache, OPENBAAR_RUN_DIR=str(shared_run_dir)):
        pass  # started and stopped
    page, watch = new_page(browser, "nl-NL", DESKTOP)
    try:
        open_chat(page, citizen.url)
        text = ask(page, "Welke partnerschappen zijn openbaar?")
        shot(page, MODULE, "after-another-server-stopped")
        quote = quotes_in(text)[0]
        page.wait_for_timeout(500)
        errors = [ln for ln in citizen.log_text().splitlines() if "FileNotFoundError" in ln]
        assert not errors, f"the running server lost its files folder: {errors[0]}"
        assert quote and visible_count(page, "Migratiepartnerschappen") >= 2, (
            "the answer's sources are missing"
        )
        watch.assert_clean("after another server stopped")
    finally:
        page.context.close()
