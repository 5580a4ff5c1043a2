"""What a request to the API may hold, validated once: the question, earlier turns, filters and the mode."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vectorstore.records import Filters


class FiltersIn(BaseModel):
    """Optional filters; dates are ISO prefixes (YYYY, YYYY-MM, YYYY-MM-DD), inclusive."""

    model_config = ConfigDict(extra="forbid")
    since: str | None = None
    until: str | None = None
    language: str | None = None
    type: str | None = None
    speaker: str | None = None

    def to_filters(self) -> Filters:
        """The retrieval filters; raises FilterError for a date that is not a date."""
        return Filters(**self.model_dump())


class AskIn(BaseModel):
    """A question, with earlier user turns of the same conversation for follow-ups."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., description="The question.")
    history: list[str] = Field(default_factory=list, description="Earlier user questions, oldest first.")
    filters: FiltersIn | None = None
    mode: Literal["llm", "extractive"] | None = Field(None, description="Default: llm when configured.")
