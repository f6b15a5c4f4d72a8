"""Index names. Each kind has an alias `<prefix>-<kind>` pointing at a versioned index `<prefix>-<kind>-vN`.

Events roll over (append-only, ILM-managed where the cluster has ILM), so their indices are named
`<prefix>-events-vN-000001` and the alias is their write alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("articles", "claims", "feeds", "events", "watches", "deliveries", "fingerprints")
ROLLOVER_KINDS = frozenset({"events"})


@dataclass(frozen=True)
class IndexNames:
    prefix: str = "newswatch"

    def alias(self, kind: str) -> str:
        _check(kind)
        return f"{self.prefix}-{kind}"

    def concrete(self, kind: str, version: int) -> str:
        base = f"{self.alias(kind)}-v{version}"
        return f"{base}-000001" if kind in ROLLOVER_KINDS else base

    def pattern(self, kind: str) -> str:
        """Index pattern of every version, used by the index template."""
        return f"{self.alias(kind)}-v*"

    def version_of(self, kind: str, index: str) -> int | None:
        m = re.fullmatch(re.escape(self.alias(kind)) + r"-v(\d+)(?:-\d{6})?", index)
        return int(m.group(1)) if m else None

    def template(self, kind: str) -> str:
        return f"{self.alias(kind)}-template"

    def component(self, kind: str, part: str) -> str:
        return f"{self.alias(kind)}-{part}"

    def ilm_policy(self, kind: str) -> str:
        return f"{self.alias(kind)}-policy"

    @property
    def shared_settings(self) -> str:
        return f"{self.prefix}-settings"

    @property
    def articles(self) -> str:
        return self.alias("articles")

    @property
    def claims(self) -> str:
        return self.alias("claims")

    @property
    def feeds(self) -> str:
        return self.alias("feeds")

    @property
    def events(self) -> str:
        return self.alias("events")

    @property
    def fingerprints(self) -> str:
        return self.alias("fingerprints")


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; expected one of {', '.join(KINDS)}")
