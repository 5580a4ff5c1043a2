"""The first step: clean the question and refuse what cannot or may not be answered (checks in safety/input.py)."""

from __future__ import annotations

from assistant.pipeline.context import RequestContext
from assistant.pipeline.language import detect_question_language
from assistant.safety.input import MAX_QUESTION_CHARS, check_question


class GuardQuestion:
    """Clean the question and the earlier turns; refuse empty, unreadable, too long or off-topic input."""

    name = "guard"

    def __call__(self, ctx: RequestContext) -> None:
        clean, refusal = check_question(ctx.question)
        ctx.question = ctx.standalone = clean
        ctx.stats["question_chars"] = len(clean)
        if refusal is not None:
            ctx.language = detect_question_language(clean) if clean else "nl"
            params = {"limit": MAX_QUESTION_CHARS} if refusal == "refusal.too_long" else {}
            ctx.stop("refused", refusal, [refusal], **params)
        turns = (check_question(h)[0] for h in ctx.history if isinstance(h, str))
        ctx.history = [turn for turn in turns if turn]
        ctx.stats["history_turns"] = len(ctx.history)
