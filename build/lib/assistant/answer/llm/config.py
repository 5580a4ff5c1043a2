"""The LLM configuration: a small frozen object built from the application's settings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LLMConfig:
    """The chat model and how long and how often to try it."""

    model: str = "gpt-4o-mini"
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: float = 30.0  # all calls of one request together, retries included
    stall_timeout: float = 10.0  # seconds without new data
    max_retries: int = 2
    temperature: float = 0.1
    max_tokens: int = 800
    context_tokens: int = 16000
    response_format: str = "json_schema"
