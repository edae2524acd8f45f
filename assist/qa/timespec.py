"""Time arguments as QA staff type them: ``7d``, ``24h``, ``30m`` ago, or an ISO date/time."""

from __future__ import annotations

import math
import re
import time
from datetime import datetime

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(value: str, now: float | None = None) -> float:
    """Epoch seconds for ``1750000000``, ``7d`` (ago), ``2025-06-01`` or ``2025-06-01T08:00``
    (local time unless the ISO string carries an offset). Raises ValueError saying what is accepted."""
    now = time.time() if now is None else now
    try:
        number = float(value)  # epoch seconds, as the QA page sends them
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
    match = _RELATIVE.match(value)
    if match:
        return now - float(match.group(1)) * _UNIT_S[match.group(2)]
    try:
        return datetime.fromisoformat(value.strip()).timestamp()
    except ValueError:
        raise ValueError(f"expected a duration such as 7d, 24h, 30m or an ISO date/time such as "
                         f"2025-06-01 or 2025-06-01T08:00+08:00, got {value!r}") from None

