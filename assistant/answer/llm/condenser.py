"""Follow-up -> standalone question with the chat model (the pipeline's condense step falls back to the offline
rules when this raises)."""

from __future__ import annotations

import re

from assistant.answer.base import ComposeRequest
from assistant.answer.llm.client import LLMClient
from assistant.answer.llm.prompts import PromptSet
from assistant.safety.claims import ClaimChecker
from assistant.safety.input import MAX_QUESTION_CHARS, check_question
from assistant.safety.output import PromptLeakGuard, has_markup

MAX_CONDENSED_CHARS = 400
CONDENSE_MAX_TOKENS = 120


class CondenseUnusable(Exception):
    """The model's rewrite cannot be used (empty, too long, markup, a prompt leak)."""

    kind = "unusable"


class LLMCondenser:
    """Follow-up -> standalone question with the model; raises LLMError or CondenseUnusable when it cannot."""

    def __init__(self, client: LLMClient, prompts: PromptSet, claims: ClaimChecker | None = None) -> None:
        self.client = client
        self.prompts = prompts
        self.claims = claims  # a rewrite that says what the prompts say (in any language) is not used
        self.leak_guard = PromptLeakGuard([prompts.system, prompts.answer, prompts.condense])

    def __call__(self, question: str, history: list[str], request: ComposeRequest) -> str:
        user = self.prompts.render(
            "condense", history="\n".join(f"- {h}" for h in history), question=question
        )
        content, _ = self.client.chat(
            [{"role": "user", "content": user}],
            max_tokens=CONDENSE_MAX_TOKENS,
            temperature=0.0,
            deadline=request.deadline,
            stats=request.stats,
            stream=False,
        )
        line = next((ln.strip() for ln in content.splitlines() if ln.strip()), "")
        line = re.sub(r"^(?:standalone question|vraag|question)\s*:\s*", "", line, flags=re.I).strip(
            "\"'“”` "
        )
        clean, refusal = check_question(line)
        if (
            refusal is not None
            or len(clean) > min(MAX_CONDENSED_CHARS, MAX_QUESTION_CHARS)
            or has_markup(clean)
            or self.leak_guard.leaks(clean)
            or (self.claims is not None and self.claims.resembles_prompt(clean))
        ):
            raise CondenseUnusable()
        request.stats["condense"] = "llm"
        return clean
