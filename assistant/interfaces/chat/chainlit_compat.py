"""Every use of Chainlit's internals, in one place, for the Chainlit version it was written for.

Chainlit is driven through its public decorators elsewhere (app.py); what it does not offer publicly is done here:
- the page template without third-party links and the readme lookup per language (`install_page`);
- the HTTP API mounted ahead of Chainlit's catch-all route, and a middleware in front of its server (`mount`);
- the allowed origins of its CORS (`set_allowed_origins`);
- its SQLAlchemy data layer with `get_element` fixed (`ChatDataLayer`), elements stored inline, and what is stored
  cut to size and (questions, thread names) masked for personal data;
- its write endpoints guarded (`guard_writes`): feedback only on an existing message of the caller's own
  conversation, small bodies, element updates only for a live session;
- the app root it reads its config, translations and public files from (`prepare_app_root`), and the environment
  of `chainlit run` (`run_command`);
- the widget: /copilot/index.js with Openbaar's additions appended (`install_widget`, public/openbaar-widget.js),
  and /public/theme.json with font addresses that work from another site.
The page itself gets public/openbaar.js and openbaar.css through Chainlit's `custom_js`/`custom_css` settings
(assets/.chainlit/config.toml): they name the theme button, turn a failed login into the login form's own message
and keep the welcome screen's logo in view. They are written against this Chainlit version's page as well.
`check_version()` refuses another Chainlit version with a one-line message: these internals change between releases.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

WRITTEN_FOR = "2.12.0"
ASSETS = "assistant.interfaces.chat"  # package holding assets/: .chainlit/config.toml, public/, chainlit*.md
ENTRY_MODULE = "assistant.interfaces.chat.app"
MAX_INLINE_BYTES = 64 * 1024  # a quoted source is far smaller; anything bigger is not kept
MAX_WRITE_BODY = 64 * 1024  # feedback and element requests: larger bodies are refused before they are read
MAX_COMMENT_CHARS = 2_000  # a feedback comment is cut to this
MAX_STEP_CHARS = 10_000  # any stored message text (an answer with its labels fits easily)
MAX_THREAD_NAME_CHARS = 200


class ChainlitVersionError(RuntimeError):
    """The installed Chainlit is not the version these internals were written for."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(f"written for Chainlit {expected}, found {found}: reinstall the locked dependencies")
        self.expected = expected
        self.found = found


def installed_version() -> str:
    return importlib.metadata.version("chainlit")


def check_version() -> None:
    """Raise ChainlitVersionError unless the installed Chainlit is WRITTEN_FOR (checked without importing it)."""
    found = installed_version()
    if found != WRITTEN_FOR:
        raise ChainlitVersionError(WRITTEN_FOR, found)


# --- the app root ------------------------------------------------------------------------------------------
def assets() -> Path:
    """The packaged assets folder (works from a checkout and from an installed package)."""
    return Path(str(resources.files(ASSETS) / "assets"))


def prepare_app_root(root: Path, translations: dict[str, dict[str, Any]] | None = None) -> Path:
    """Fill `root` with what `chainlit run` reads: .chainlit/config.toml, translations, public/, the readmes, and
    the entry file. Chainlit also writes its upload folder (.files) there. Returns the entry file.

    `translations` holds overrides per language we speak (`nl`, `en`): Chainlit's Dutch files get Dutch with the
    `nl` overrides; every other language file gets English with the `en` overrides (Openbaar's own texts exist in
    these two languages only, so a German browser gets one language, not German buttons around English answers)."""
    source = assets()
    (root / ".chainlit").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / ".chainlit" / "config.toml", root / ".chainlit" / "config.toml")
    shutil.copytree(source / "public", root / "public", dirs_exist_ok=True)
    for name in ("chainlit.md", "chainlit_nl.md"):
        shutil.copyfile(source / name, root / name)
    bundled = _chainlit_folder() / "translations"
    target = root / ".chainlit" / "translations"
    target.mkdir(exist_ok=True)
    base = {
        "nl": json.loads((bundled / "nl.json").read_text(encoding="utf-8")),
        "en": json.loads((bundled / "en-US.json").read_text(encoding="utf-8")),
    }
    # Browsers ask for nl-NL/nl-BE/en-GB; without an exact file Chainlit warns on every page load.
    names = {file.stem for file in bundled.glob("*.json")} | {"nl-NL", "nl-BE", "en", "en-GB"}
    for name in sorted(names):
        lang = "nl" if name.lower().startswith("nl") else "en"
        data = _merge(base[lang], (translations or {}).get(lang, {}))
        (target / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    entry = root / "openbaar_chat.py"
    entry.write_text(f"import {ENTRY_MODULE}  # noqa: F401 - registers Openbaar's chat handlers\n")
    return entry


def _chainlit_folder() -> Path:
    """Chainlit's package folder, found without importing it (importing chainlit writes into its app root)."""
    spec = importlib.util.find_spec("chainlit")
    if spec is None or not spec.submodule_search_locations:
        raise ChainlitVersionError(WRITTEN_FOR, "none")
    return Path(next(iter(spec.submodule_search_locations)))


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def run_command(python: str, entry: Path, host: str, port: int) -> list[str]:
    """The `chainlit run` command line for the entry file."""
    return [python, "-m", "chainlit", "run", str(entry), "--headless", "--host", host, "--port", str(port)]


def run_environment(env: dict[str, str], root: Path) -> dict[str, str]:
    """The environment of `chainlit run`: its app root set, and CI removed (with CI=true `chainlit run` turns on
    its CI mode and invents an OPENAI_API_KEY, which would switch Openbaar to a model that does not exist)."""
    out = {**env, "CHAINLIT_APP_ROOT": str(root)}
    out.pop("CI", None)
    return out


# --- the page ----------------------------------------------------------------------------------------------
_THIRD_PARTY_LINK = re.compile(
    r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>\s*", re.IGNORECASE | re.DOTALL
)
_META_URL = re.compile(r"(<meta property=\"og:(image|url)\" content=\")https?://[^\"]*(\">)")


def self_contained(html: str) -> str:
    """The index page without links to other origins (preconnects, fonts, KaTeX) or third-party meta URLs."""
    html = _THIRD_PARTY_LINK.sub("", html)
    return _META_URL.sub(
        lambda m: m.group(1) + ("/public/logo.svg" if m.group(2) == "image" else "/") + m.group(3), html
    )


def markdown_language(language: str) -> str:
    """`nl-NL`, `nl-BE`, `nl` -> `nl` (chainlit_nl.md); anything else is passed on (English is chainlit.md)."""
    return "nl" if language.lower().startswith("nl") else language


def install_page() -> None:
    """Wrap chainlit.server's page template (no third-party links) and readme lookup (nl or the default)."""
    import chainlit.server as server

    template: Callable[[str], str] = server.get_html_template
    markdown: Callable[[str, str], str | None] = server.get_markdown_str
    if getattr(template, "openbaar", False):
        return

    def html_template(root_path: str) -> str:
        return self_contained(template(root_path))

    def markdown_for(root: str, language: str) -> str | None:
        if markdown_language(language) == "nl":
            return markdown(root, "nl")
        default = Path(root) / "chainlit.md"  # English: no per-language file to look for (and warn about)
        return default.read_text(encoding="utf-8") if default.is_file() else None

    html_template.openbaar = True  # type: ignore[attr-defined]
    server.get_html_template = html_template
    server.get_markdown_str = markdown_for


# --- the server ----------------------------------------------------------------------------------------------
def set_allowed_origins(origins: Iterable[str]) -> list[str]:
    """Make Chainlit's CORS allow exactly `origins`; returns the list now in force."""
    from chainlit.config import config

    config.project.allow_origins[:] = list(origins)
    return list(config.project.allow_origins)


def staff_login(request) -> str | None:
    """The staff member a request's Chainlit login cookie names (signature checked), or None."""
    from chainlit.auth.cookie import get_token_from_cookies
    from chainlit.auth.jwt import decode_jwt

    token = get_token_from_cookies(dict(request.cookies))
    if not token:
        return None
    try:
        return decode_jwt(token).identifier
    except Exception:
        return None


def client_address() -> str:
    """The network address of the current chat session's browser (from its websocket's ASGI scope)."""
    import chainlit as cl

    environ = getattr(cl.context.session, "environ", None) or {}
    client = (environ.get("asgi.scope") or {}).get("client")
    return str(client[0]) if client else "?"


def run_address() -> tuple[str, int]:
    """The host and port `chainlit run` was started with."""
    from chainlit.config import config

    return config.run.host, config.run.port


def mount(api, middleware: type, **options: Any) -> None:
    """Mount `api` at /api ahead of Chainlit's catch-all page route, and put `middleware` in front of its server."""
    from chainlit.server import app as server
    from starlette.routing import Mount

    if not any(isinstance(r, Mount) and r.path == "/api" for r in server.router.routes):
        server.router.routes.insert(0, Mount("/api", app=api))
    server.add_middleware(middleware, **options)


def install_widget(texts: dict[str, dict[str, str]]) -> None:
    """Serve /copilot/index.js as Chainlit's Copilot bundle followed by public/openbaar-widget.js (its `texts`, per
    language, filled in), and /public/theme.json with its font addresses made absolute for the requesting host:
    the widget resolves them against the host page, which has no /public/fonts."""
    from chainlit.config import public_dir
    from chainlit.server import app as server
    from chainlit.server import copilot_build_dir
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    additions = (assets() / "public" / "openbaar-widget.js").read_text(encoding="utf-8")
    filled = additions.replace(
        "__OPENBAAR_TEXTS__", json.dumps(texts, ensure_ascii=True).replace("</", "<\\/")
    )
    script = (Path(copilot_build_dir) / "index.js").read_bytes() + b"\n;\n" + filled.encode("utf-8")
    etag = '"' + hashlib.sha256(script).hexdigest()[:32] + '"'

    async def widget_script(request: Request) -> Response:
        headers = {"etag": etag, "cache-control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(script, media_type="text/javascript; charset=utf-8", headers=headers)

    async def theme(request: Request) -> Response:
        data = json.loads((Path(public_dir) / "theme.json").read_text(encoding="utf-8"))
        host = request.headers.get("host", "")
        prefix = (
            f"//{host}{request.scope.get('root_path', '')}" if re.fullmatch(r"[\w.:\[\]-]+", host) else ""
        )
        data["custom_fonts"] = [prefix + f if f.startswith("/") else f for f in data.get("custom_fonts", [])]
        return JSONResponse(data, headers={"cache-control": "no-store", "vary": "host"})

    routes = server.router.routes
    if not any(getattr(r, "name", "") == "openbaar_widget" for r in routes):
        routes.insert(0, Route("/copilot/index.js", widget_script, methods=["GET"], name="openbaar_widget"))
        routes.insert(0, Route("/public/theme.json", theme, methods=["GET"], name="openbaar_theme"))


# --- the history database ------------------------------------------------------------------------------------
def data_layer(url: str, mask: Callable[[str], str] = lambda text: text, question_chars: int = 1000):
    """Chainlit's SQLAlchemy data layer on `url`, elements stored inline, `get_element` fixed; questions and
    thread names pass `mask` (personal data) and every stored text is cut to size (a question to
    `question_chars`, any message to MAX_STEP_CHARS, a thread name to MAX_THREAD_NAME_CHARS)."""
    from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
    from chainlit.data.storage_clients.base import BaseStorageClient
    from chainlit.element import ElementDict

    class InlineStorageClient(BaseStorageClient):
        """Keeps an element's (small, text) content in the database row itself, as a `data:` URL."""

        async def upload_file(
            self,
            object_key: str,
            data: bytes | str,
            mime: str = "text/plain",
            overwrite: bool = True,
            content_disposition: str | None = None,
        ) -> dict[str, Any]:
            if mime == "application/json":  # a custom element: its props are kept in the row itself
                return {"object_key": None, "url": None}
            return inline_upload(data, mime)

        async def delete_file(self, object_key: str) -> bool:
            return True  # the content goes with its row

        async def get_read_url(self, object_key: str) -> str:
            return object_key  # never called: no object keys are stored

        async def close(self) -> None:
            return None

    def stored(text: Any, limit: int, masked: bool) -> Any:
        if not isinstance(text, str):
            return text
        text = text[: 20 * limit]  # do not even mask megabytes
        return (mask(text) if masked else text)[:limit]

    class ChatDataLayer(SQLAlchemyDataLayer):
        """Chainlit 2.12 calls `json.loads` on the stored `props` in `get_element`, which fails for an element without
        props (ours: the column is NULL, on any database) and on PostgreSQL, where JSONB is read back as a dict; and
        `get_all_user_threads` (which resumes a thread) hands the props on as the stored JSON string, so a resumed
        custom element got a string instead of its props. Chainlit stores whatever a message holds (a refused
        900 KB question in full, personal data as typed): `create_step` (also used by `update_step`) and
        `update_thread` store it masked and cut to size."""

        async def get_all_user_threads(self, user_id: str | None = None, thread_id: str | None = None):
            threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
            for thread in threads or []:
                for element in thread.get("elements") or []:
                    element["props"] = _props(element.get("props"))
            return threads

        async def create_step(self, step_dict):
            step = dict(step_dict)
            kind = step.get("type")
            masked = kind != "assistant_message"  # the user's question, also as the input of the `run` step
            limit = question_chars if kind in ("user_message", "run") else MAX_STEP_CHARS
            for key in ("output", "input"):
                if key in step:
                    step[key] = stored(step[key], limit, masked)
            if "name" in step:
                step["name"] = stored(step["name"], MAX_THREAD_NAME_CHARS, masked)
            return await super().create_step(step)

        async def update_thread(self, thread_id, name=None, user_id=None, metadata=None, tags=None):
            name = stored(name, MAX_THREAD_NAME_CHARS, masked=True)
            if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
                metadata = {**metadata, "name": stored(metadata["name"], MAX_THREAD_NAME_CHARS, masked=True)}
            return await super().update_thread(thread_id, name, user_id, metadata, tags)

        async def upsert_feedback(self, feedback):
            if feedback.comment:
                feedback.comment = feedback.comment[:MAX_COMMENT_CHARS]
            return await super().upsert_feedback(feedback)

        async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
            rows = await self.execute_sql(
                query='SELECT * FROM elements WHERE "threadId" = :thread_id AND "id" = :element_id',
                parameters={"thread_id": thread_id, "element_id": element_id},
            )
            if not isinstance(rows, list) or not rows:
                return None
            row = rows[0]
            props = _props(row.get("props"))
            return ElementDict(
                id=row["id"],
                threadId=row.get("threadId"),
                type=row["type"],
                chainlitKey=row.get("chainlitKey"),
                url=row.get("url"),
                objectKey=row.get("objectKey"),
                name=row["name"],
                props=props,
                display=row["display"],
                size=row.get("size"),
                language=row.get("language"),
                page=row.get("page"),
                autoPlay=row.get("autoPlay"),
                playerConfig=row.get("playerConfig"),
                forId=row.get("forId"),
                mime=row.get("mime"),
            )

    return ChatDataLayer(conninfo=url, storage_provider=InlineStorageClient())


def _props(value: Any) -> dict[str, Any]:
    """An element's stored props as a dict: JSON text (SQLite), a dict (PostgreSQL JSONB) or nothing."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def inline_upload(data: bytes | str, mime: str = "text/plain") -> dict[str, Any]:
    """What the inline storage client returns for an element's content: a `data:` URL (empty when too big)."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_INLINE_BYTES:
        return {}  # the data layer then logs that the element was not persisted
    kind = mime if mime.startswith("text/") else "text/plain"
    return {"object_key": None, "url": f"data:{kind};charset=utf-8;base64,{base64.b64encode(raw).decode()}"}


# --- writes nobody may make ------------------------------------------------------------------------------------
class WriteRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


async def _one(layer, query: str, **params: Any) -> dict[str, Any] | None:
    rows = await layer.execute_sql(query=query, parameters=params)
    return rows[0] if isinstance(rows, list) and rows else None


async def _may_write(layer, thread_id: str, user, session_id: str | None) -> None:
    """The caller owns the conversation: with staff login its author; without, the live session it belongs to."""
    thread = await _one(layer, 'SELECT "userIdentifier" FROM threads WHERE "id" = :id', id=thread_id)
    if thread is None:
        raise WriteRefused(404, "conversation not found")
    if user is not None:
        if thread.get("userIdentifier") != getattr(user, "identifier", None):
            raise WriteRefused(403, "not your conversation")
        return
    if thread.get("userIdentifier") is not None:
        raise WriteRefused(403, "not your conversation")
    if session_id is not None:
        from chainlit.session import WebsocketSession

        session = WebsocketSession.get_by_id(session_id)
        if session is None or session.thread_id != thread_id:
            raise WriteRefused(403, "not your conversation")


async def check_feedback(layer, feedback, session_id: str, user) -> None:
    """Feedback may be given only on an existing message of the caller's own conversation; an existing feedback id
    must be of that message."""
    if not feedback.threadId or not feedback.forId:
        raise WriteRefused(422, "threadId and forId are required")
    step = await _one(layer, 'SELECT "threadId" FROM steps WHERE "id" = :id', id=feedback.forId)
    if step is None or str(step.get("threadId")) != str(feedback.threadId):
        raise WriteRefused(404, "message not found")
    await _may_write(layer, feedback.threadId, user, session_id)
    if feedback.id:
        old = await _one(layer, 'SELECT "forId" FROM feedbacks WHERE "id" = :id', id=feedback.id)
        if old is not None and str(old.get("forId")) != str(feedback.forId):
            raise WriteRefused(403, "not this message's feedback")
    if feedback.comment:
        feedback.comment = feedback.comment[:MAX_COMMENT_CHARS]


async def _body(request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_WRITE_BODY:
        raise WriteRefused(413, "request too large")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_WRITE_BODY:
            raise WriteRefused(413, "request too large")
    return bytes(body)


def guard_writes() -> None:
    """Put checked versions of Chainlit's write endpoints ahead of its own: `PUT`/`DELETE /feedback` (an existing
    message of the caller's conversation, at most MAX_WRITE_BODY bytes, the comment cut to MAX_COMMENT_CHARS) and
    `PUT`/`DELETE /project/element` (a live session; else 404, never a 500). Chainlit 2.12 stored feedback for
    any thread from anyone, of any size."""
    import chainlit.server as server
    from chainlit.auth import get_current_user
    from chainlit.data import get_data_layer
    from chainlit.session import WebsocketSession
    from chainlit.types import DeleteFeedbackRequest, ElementRequest, UpdateFeedbackRequest
    from fastapi import Depends, Request
    from fastapi.responses import JSONResponse
    from pydantic import ValidationError

    app = server.app
    if any(
        getattr(r, "endpoint", None) and getattr(r.endpoint, "openbaar", False) for r in app.router.routes
    ):
        return

    def refused(exc: WriteRefused) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    async def put_feedback(request: Request, current_user=Depends(get_current_user)):  # noqa: B008
        layer = get_data_layer()
        try:
            if layer is None:
                raise WriteRefused(404, "no history")
            try:
                update = UpdateFeedbackRequest.model_validate_json(await _body(request))
            except ValidationError as exc:
                raise WriteRefused(422, "invalid feedback") from exc
            await check_feedback(layer, update.feedback, update.sessionId, current_user)
        except WriteRefused as exc:
            return refused(exc)
        return await server.update_feedback(request, update, current_user)

    async def delete_feedback(request: Request, current_user=Depends(get_current_user)):  # noqa: B008
        layer = get_data_layer()
        try:
            if layer is None:
                raise WriteRefused(404, "no history")
            try:
                payload = DeleteFeedbackRequest.model_validate_json(await _body(request))
            except ValidationError as exc:
                raise WriteRefused(422, "invalid request") from exc
            row = await _one(
                layer, 'SELECT "threadId" FROM feedbacks WHERE "id" = :id', id=payload.feedbackId
            )
            if row is None:
                raise WriteRefused(404, "feedback not found")
            # Without login the feedback's id (a random UUID only its author was sent) is the proof of authorship.
            await _may_write(layer, str(row["threadId"]), current_user, None)
        except WriteRefused as exc:
            return refused(exc)
        return await server.delete_feedback(request, payload, current_user)

    async def element(request: Request, current_user=Depends(get_current_user)):  # noqa: B008
        try:
            try:
                payload = ElementRequest.model_validate_json(await _body(request))
            except ValidationError as exc:
                raise WriteRefused(422, "invalid element") from exc
            if WebsocketSession.get_by_id(payload.sessionId) is None:
                raise WriteRefused(404, "session not found")
        except WriteRefused as exc:
            return refused(exc)
        if request.method == "DELETE":
            return await server.delete_thread_element(payload, current_user)
        return await server.update_thread_element(payload, current_user)

    for endpoint in (
        put_feedback,
        delete_feedback,
        element,
    ):  # real classes, not this module's string annotations
        endpoint.__annotations__["request"] = Request
    prefix = server.config.run.root_path or ""
    for path, endpoint, methods in (
        ("/feedback", put_feedback, ["PUT"]),
        ("/feedback", delete_feedback, ["DELETE"]),
        ("/project/element", element, ["PUT", "DELETE"]),
    ):
        endpoint.openbaar = True  # type: ignore[attr-defined]
        app.add_api_route(prefix + path, endpoint, methods=methods, include_in_schema=False)
        app.router.routes.insert(0, app.router.routes.pop())
