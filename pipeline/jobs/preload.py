"""Imported once by the process pool's fork server: the extractor and the tagger's spaCy model load
here, before any worker is forked, so every worker starts with them in memory.

The fork server would die on an exception raised here, so a failure is only logged: each worker
then loads what it needs on first use and reports its own error per batch.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _load() -> None:
    try:
        import pipeline.extract.extractor  # noqa: F401
        import pipeline.jobs.steps  # noqa: F401
        from pipeline.tagging.tagger import get_tagger

        get_tagger().tag("Officials said the warm-up was complete.")
    except Exception:  # noqa: BLE001 - see the module docstring
        log.exception("preloading the extractor and the tagger failed")


_load()
