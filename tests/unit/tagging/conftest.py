"""One spaCy model and tagger for the whole test session."""

from __future__ import annotations

import pytest

from pipeline.tagging.tagger import Tagger, get_tagger


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    return get_tagger()
