"""Every item ends in exactly one outcome: a status value with a reason, never a silent None."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Status(StrEnum):
    OK = "ok"
    TOO_SHORT = "too_short"
    NOT_ARTICLE = "not_article"
    PAYWALLED = "paywalled"
    BLOCKED = "blocked"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    REFUSED = "refused"
    PARSE_ERROR = "parse_error"
    NOT_MODIFIED = "not_modified"
    INDEX_ERROR = "index_error"


# Worth another attempt later; everything else is permanent for this URL/content.
RETRYABLE = frozenset({Status.TIMEOUT, Status.HTTP_ERROR, Status.BLOCKED, Status.INDEX_ERROR})


class Outcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status
    reason: str = ""
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in (Status.OK, Status.NOT_MODIFIED)

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE

    @classmethod
    def success(cls, reason: str = "") -> Outcome:
        return cls(status=Status.OK, reason=reason)

    @classmethod
    def failure(cls, status: Status, reason: str, http_status: int | None = None) -> Outcome:
        return cls(status=status, reason=reason, http_status=http_status)
