"""The counts the QA metrics are assembled from, filled from either source:

- ``from_summaries``: the daily counters the log writer keeps (a few thousand rows a month);
- ``from_raw``: GROUP BY scans of the raw rows over covering indexes (cost grows with the range).

Both count the same things with the same buckets, so they agree exactly (tests compare them);
the summaries can only answer whole days at their own day offset and thresholds on the 0.01 grid.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from assist.logstore import review, summaries
from assist.logstore.base import LogStore


@dataclass
class Tally:
    # day -> messages / suggested / confident / one count per feedback action
    days: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latency: dict[int, Counter[float]] = field(default_factory=lambda: defaultdict(Counter))
    risks: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    shown: Counter[str] = field(default_factory=Counter)  # entry -> times top suggestion
    # entry -> action -> n
    picked: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # entry -> edits measured / sum of edit distances / sum of drift in millionths
    edits: Counter[str] = field(default_factory=Counter)
    edit_distance: Counter[str] = field(default_factory=Counter)
    edit_drift: Counter[str] = field(default_factory=Counter)


def from_summaries(store: LogStore, first_day: int, end_day: int, threshold_k: int) -> Tally:
    """Days [first_day, end_day) from the counters; ``threshold_k``: confident is score >= k/100."""
    tally = Tally()
    for day, metric, key, n in (*summaries.read_days(store, first_day, end_day),
                                *summaries.read_totals(store, first_day, end_day)):
        if metric in ("messages", "suggested"):
            tally.days[day][metric] += n
        elif metric == "score":
            tally.days[day]["confident"] += n if int(key) >= threshold_k else 0
        elif metric == "latency":
            tally.latency[day][float(key)] += n
        elif metric == "risk":
            tally.risks[day][key] += n
        elif metric == "action":
            tally.days[day][key] += n
        elif metric == "shown":
            tally.shown[key] += n
        elif metric.startswith("fb:"):
            tally.picked[key][metric[3:]] += n
        elif metric in ("edits", "edit_distance", "edit_drift"):
            getattr(tally, metric)[key] += n
    return tally


def from_raw(store: LogStore, since: float, until: float, threshold: float, tz_offset_s: int) -> Tally:
    """[since, until) from the raw rows."""
    tally = Tally()
    for day, bucket, total, suggested, confident in review.daily_messages(store, since, until, threshold,
                                                                     tz_offset_s):
        counts = tally.days[int(day)]
        counts["messages"] += total
        counts["suggested"] += suggested
        counts["confident"] += int(confident or 0)
        tally.latency[int(day)][float(bucket)] += total
    for day, action, count in review.daily_feedback(store, since, until, tz_offset_s):
        tally.days[int(day)][action] += count
    for day, kind, count in review.daily_risks(store, since, until, tz_offset_s):
        tally.risks[int(day)][kind] += count
    for entry_id, count in review.top_counts(store, since, until):
        tally.shown[entry_id] += count
    for entry_id, action, count in review.feedback_counts(store, since, until):
        tally.picked[entry_id][action] += count
    for entry_id, edits, distance, drift in review.entry_edits(store, since, until):
        tally.edits[entry_id] += edits
        tally.edit_distance[entry_id] += int(distance)
        tally.edit_drift[entry_id] += int(drift)
    return tally
