"""Incremental extraction of one top-level string field ("answer") from a JSON object arriving in pieces.

The model replies `{"answer": "...", "status": "...", "citations": [...]}` token by token; `AnswerFieldStream.feed`
returns the newly decoded characters of the `answer` value as soon as they arrive, so they can be streamed to the
user before the object is complete. Escapes (including `\\uXXXX` surrogate pairs split across pieces) are decoded;
strings elsewhere (keys, quotes inside citations) are skipped correctly even when they contain braces or quotes.
"""

from __future__ import annotations

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class AnswerFieldStream:
    """Feed raw JSON text; get back the decoded characters of the top-level string field `field`."""

    def __init__(self, field: str = "answer") -> None:
        self.field = field
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.unicode: str | None = None  # hex digits of a \\u escape being read
        self.high_surrogate: int | None = None
        self.expect_key = False
        self.key_chars: list[str] = []
        self.reading_key = False
        self.current_key: str | None = None
        self.capturing = False
        self.done = False  # the field's value has been read completely

    def feed(self, text: str) -> str:
        """Consume `text`; return the decoded characters of the field found in it (may be empty)."""
        out: list[str] = []
        for ch in text:
            if self.in_string:
                self._string_char(ch, out)
                continue
            if ch == '"':
                self.in_string = True
                self.reading_key = self.depth == 1 and self.expect_key
                self.capturing = (
                    self.depth == 1
                    and not self.expect_key
                    and self.current_key == self.field
                    and not self.done
                )
                self.key_chars = []
            elif ch in "{[":
                self.depth += 1
                self.expect_key = ch == "{" and self.depth == 1
            elif ch in "}]":
                self.depth -= 1
            elif ch == ":" and self.depth == 1:
                self.expect_key = False
            elif ch == "," and self.depth == 1:
                self.expect_key = True
                self.current_key = None
        return "".join(out)

    def _emit(self, decoded: str, out: list[str]) -> None:
        if self.capturing:
            out.append(decoded)
        elif self.reading_key:
            self.key_chars.append(decoded)

    def _string_char(self, ch: str, out: list[str]) -> None:
        if self.unicode is not None:
            self.unicode += ch
            if len(self.unicode) < 4:
                return
            try:
                code = int(self.unicode, 16)
            except ValueError:
                code = 0xFFFD
            self.unicode = None
            if 0xD800 <= code < 0xDC00:
                self.high_surrogate = code
                return
            if 0xDC00 <= code < 0xE000 and self.high_surrogate is not None:
                code = 0x10000 + ((self.high_surrogate - 0xD800) << 10) + (code - 0xDC00)
            elif 0xD800 <= code < 0xE000:
                code = 0xFFFD
            self.high_surrogate = None
            self._emit(chr(code), out)
            return
        if self.escape:
            self.escape = False
            if ch == "u":
                self.unicode = ""
                return
            self._emit(_ESCAPES.get(ch, ch), out)
            return
        if ch == "\\":
            self.escape = True
        elif ch == '"':
            self.in_string = False
            if self.reading_key:
                self.current_key = "".join(self.key_chars)
                self.reading_key = False
            elif self.capturing:
                self.capturing = False
                self.done = True
        else:
            self._emit(ch, out)
