from __future__ import annotations

import pytest

from assist.core.risk import RiskDetector, detector_for_lists


@pytest.fixture(scope="session")
def detector() -> RiskDetector:
    """The detector with the built-in lists only."""
    return detector_for_lists(None)
