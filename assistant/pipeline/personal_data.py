"""Step after the guard: personal data in the question (and earlier turns) is replaced by placeholders before it
is condensed, retrieved with, sent to a model, logged or stored (checks in assistant/safety/pii.py); the answer
then says so."""

from __future__ import annotations

from assistant.i18n import t
from assistant.pipeline.context import RequestContext
from assistant.pipeline.language import detect_question_language
from assistant.safety.pii import mask_personal_data


class MaskPersonalData:
    """Mask BSNs, e-mail addresses, phone numbers, IBANs and NI numbers; tell the user why the question changed."""

    name = "personal_data"

    def __call__(self, ctx: RequestContext) -> None:
        ctx.question, kinds = mask_personal_data(ctx.question)
        ctx.standalone = ctx.question
        history: list[str] = []
        for turn in ctx.history:
            masked, more = mask_personal_data(turn)
            history.append(masked)
            kinds += [k for k in more if k not in kinds]
        ctx.history = history
        if not kinds:
            return
        ctx.stats["personal_data"] = kinds  # the kinds found, never a value
        ctx.notes.append("personal_data_masked")
        lang = "nl" if detect_question_language(ctx.question) == "nl" else "en"
        names = ", ".join(t(f"pii.{kind}", lang) for kind in kinds)
        ctx.remarks.append(t("answer.personal_data_masked", lang, kinds=names))
