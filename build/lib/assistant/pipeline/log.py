"""One structured log line per question: ids, counts and outcome, never the question text or a key."""

from __future__ import annotations

import json
import logging

from assistant.pipeline.context import RequestContext

log = logging.getLogger("openbaar.request")
_FAILED_NOTES = frozenset({"llm_failed", "llm_unsupported"})


class LogRequest:
    """Writes the request's log line (WARNING when it failed or fell back, else INFO)."""

    name = "log"

    def __call__(self, ctx: RequestContext) -> None:
        answer = ctx.answer
        if answer is None:
            return
        record = {
            **ctx.stats,
            "answer_mode": answer.mode,
            "status": answer.status,
            "citations": len(answer.citations),
            "notes": answer.notes,
            "total_ms": round(answer.timings_ms.get("total", 0.0), 1),
        }
        failed = answer.status == "error" or bool(_FAILED_NOTES & set(answer.notes))
        log.log(
            logging.WARNING if failed else logging.INFO, json.dumps(record, ensure_ascii=False, default=str)
        )
