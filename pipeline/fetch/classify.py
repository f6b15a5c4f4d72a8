"""HTTP status and block-page classification shared by the fetcher and the extractor."""

from __future__ import annotations

import re

from pipeline.outcomes import Outcome, Status

_CHALLENGE = re.compile(
    r"<title>\s*(just a moment\.\.\.|attention required!?|access denied|are you a robot\??|"
    r"security check|please verify you are a human|one more step)\s*[|<-]"
    r"|cf-challenge|cf_chl_opt|challenge-platform|g-recaptcha|hcaptcha\.com/1/api|px-captcha"
    r"|checking your browser before accessing|enable javascript and cookies to continue"
    r"|distil_r_captcha|_incapsula_resource|datadome",
    re.IGNORECASE,
)


def challenge_marker(html: str) -> str | None:
    """The bot-challenge marker found in a page, or None. Only the head of the page is examined."""
    m = _CHALLENGE.search(html[:20000])
    return m.group(0).strip()[:60] if m else None


def classify_http_status(status: int, body: str = "", retry_after: float | None = None) -> Outcome | None:
    """The failure outcome for an article response status, or None for success statuses."""
    if status < 400:
        return None
    wait = f" (retry after {retry_after:g}s)" if retry_after is not None else ""
    if status == 429:
        return Outcome.failure(Status.BLOCKED, f"rate limited: HTTP 429{wait}", status)
    if status in (401, 403, 451):
        marker = challenge_marker(body)
        what = f"bot challenge page ({marker!r})" if marker else "access forbidden"
        return Outcome.failure(Status.BLOCKED, f"{what}: HTTP {status}", status)
    if status == 402:
        return Outcome.failure(Status.PAYWALLED, "payment required: HTTP 402", status)
    marker = challenge_marker(body)
    if marker:
        return Outcome.failure(Status.BLOCKED, f"bot challenge page ({marker!r}): HTTP {status}{wait}", status)
    return Outcome.failure(Status.HTTP_ERROR, f"HTTP {status}{wait}", status)
