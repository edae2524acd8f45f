"""QA metrics over whole local days: acceptance, coverage, entry use, edits, risks, latency.

The counts come from the daily counters the log writer keeps (``assist.logstore.summaries``),
so a month costs about what a day does; a day offset other than the counters' own, or a threshold
off the 0.01 grid, is answered from the raw rows instead (same figures, cost grows with the range).
Feedback counts on its message's day; an edit's distance from the reply shown is measured when
the feedback is written.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from assist.core.knowledge import Entry
from assist.core.vocabulary import CONFIDENT_SCORE, FEEDBACK_ACTIONS
from assist.logstore import review, summaries
from assist.logstore.base import LogStore
from assist.qa.tally import Tally, from_raw, from_summaries

ACTIONS = FEEDBACK_ACTIONS


class DayStats(BaseModel):
    day: str = Field(description="local date, YYYY-MM-DD")
    messages: int
    suggested: int = Field(description="messages with at least one suggestion")
    confident: int = Field(description="messages whose top suggestion scored >= threshold")
    accepted: int = 0
    edited: int = 0
    dismissed: int = 0
    acceptance_rate: float | None = Field(None, description="accepted / suggested")
    adoption_rate: float | None = Field(None, description="(accepted + edited) / suggested")
    coverage: float | None = Field(None, description="confident / messages")
    latency_p50: float | None = None
    latency_p99: float | None = None


class EntryUse(BaseModel):
    id: str
    title: str = ""
    category: str = ""
    shown: int = Field(0, description="times it was the top suggestion")
    accepted: int = 0
    edited: int = 0
    dismissed: int = 0


class EntryEdits(BaseModel):
    id: str
    title: str = ""
    edits: int
    mean_distance: float = Field(description="mean edit distance, suggestion → final text (chars)")
    mean_drift: float = Field(description="mean distance / longer text length (0 same, 1 rewritten)")


class RiskDay(BaseModel):
    day: str
    counts: dict[str, int]


class Metrics(BaseModel):
    since: float = Field(description="start of the first local day (the range is whole days)")
    until: float = Field(description="end of the last local day (exclusive)")
    threshold: float
    tz_offset_s: int
    source: Literal["summaries", "raw"] = Field(description="daily counters, or a scan of the rows")
    totals: DayStats
    days: list[DayStats]
    risks: list[RiskDay]
    risk_totals: dict[str, int]
    most_used: list[EntryUse]
    never_used: list[EntryUse]
    most_edited: list[EntryEdits]
    edit_sample: int = Field(description="edits measured in the range (all of them)")
    labels: dict[str, int]


def percentile(histogram: dict[float, int], fraction: float) -> float | None:
    """Nearest-rank percentile of a {value: count} histogram."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, round(fraction * total + 0.4999)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)


def _date(day: int) -> str:
    return datetime.fromtimestamp(day * review.DAY, UTC).strftime("%Y-%m-%d")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def day_range(since: float, until: float, tz_offset_s: int) -> tuple[int, int]:
    """The local days [first, end) that [since, until) touches."""
    return (math.floor((since + tz_offset_s) / review.DAY), math.ceil((until + tz_offset_s) / review.DAY))


def compute_metrics(store: LogStore, since: float, until: float, entries: Sequence[Entry],
                    threshold: float = CONFIDENT_SCORE, tz_offset_s: int | None = None, top: int = 15,
                    source: Literal["auto", "summaries", "raw"] = "auto") -> Metrics:
    """All QA metrics for the whole local days that [since, until) touches. ``entries`` is the
    live knowledge (titles, the never-used list); ``tz_offset_s`` defaults to the counters' day
    offset. ``source`` forces the counters (ValueError if they cannot answer) or the raw rows."""
    built, summary_offset = summaries.state(store)
    offset = summary_offset if tz_offset_s is None else tz_offset_s
    first, end = day_range(since, until, offset)
    start_ts, end_ts = first * review.DAY - offset, end * review.DAY - offset
    grid = summaries.grid_threshold(threshold)
    usable = built and offset == summary_offset and grid is not None
    if source == "summaries" and not usable:
        raise ValueError(f"the daily counters answer day offset {summary_offset:+d} s and thresholds "
                         f"on the 0.01 grid (built: {built}); asked {offset:+d} s, {threshold}")
    use_summaries = usable and source != "raw"
    tally = (from_summaries(store, first, end, grid) if use_summaries  # type: ignore[arg-type]
             else from_raw(store, start_ts, end_ts, threshold, offset))
    days, totals = _day_series(tally)
    risks, risk_totals = _risks(tally)
    most_used, never_used = _entry_use(tally, entries, top)
    most_edited = _edits(tally, entries, top)
    return Metrics(since=start_ts, until=end_ts, threshold=threshold, tz_offset_s=offset,
                   source="summaries" if use_summaries else "raw", totals=totals, days=days,
                   risks=risks, risk_totals=risk_totals, most_used=most_used, never_used=never_used,
                   most_edited=most_edited, edit_sample=sum(tally.edits.values()),
                   labels=dict(review.label_counts(store, start_ts, end_ts)))


def _day_series(tally: Tally) -> tuple[list[DayStats], DayStats]:
    days: list[DayStats] = []
    overall: dict[float, int] = defaultdict(int)
    for day in sorted(tally.days):
        counts = tally.days[day]
        histogram: Counter[float] = tally.latency.get(day, Counter())
        stats = DayStats(day=_date(day), messages=counts["messages"], suggested=counts["suggested"],
                         confident=counts["confident"], **{a: counts[a] for a in ACTIONS})
        stats.latency_p50, stats.latency_p99 = percentile(histogram, 0.5), percentile(histogram, 0.99)
        for value, count in histogram.items():
            overall[value] += count
        _fill_rates(stats)
        days.append(stats)
    totals = DayStats(day="total", **{k: sum(getattr(s, k) for s in days) for k in
                                      ("messages", "suggested", "confident", *ACTIONS)})
    totals.latency_p50, totals.latency_p99 = percentile(overall, 0.5), percentile(overall, 0.99)
    _fill_rates(totals)
    return days, totals


def _fill_rates(stats: DayStats) -> None:
    stats.acceptance_rate = _rate(stats.accepted, stats.suggested)
    stats.adoption_rate = _rate(stats.accepted + stats.edited, stats.suggested)
    stats.coverage = _rate(stats.confident, stats.messages)


def _risks(tally: Tally) -> tuple[list[RiskDay], dict[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for counts in tally.risks.values():
        for kind, count in counts.items():
            totals[kind] += count
    return ([RiskDay(day=_date(d), counts=dict(tally.risks[d])) for d in sorted(tally.risks)],
            dict(sorted(totals.items(), key=lambda kv: -kv[1])))


def _entry_use(tally: Tally, entries: Sequence[Entry], top: int) -> tuple[list[EntryUse], list[EntryUse]]:
    known = {e.id: e for e in entries}
    use: list[EntryUse] = []
    for entry_id in {*tally.shown, *tally.picked}:
        entry = known.get(entry_id)
        picked: Counter[str] = tally.picked.get(entry_id, Counter())
        use.append(EntryUse(id=entry_id, title=entry.display_title if entry else "",
                            category=entry.category if entry else "", shown=tally.shown[entry_id],
                            **{a: picked.get(a, 0) for a in ACTIONS}))
    ranked = sorted(use, key=lambda u: (-u.shown, -(u.accepted + u.edited), u.id))
    used = {u.id for u in use}
    never = [EntryUse(id=e.id, title=e.display_title, category=e.category)
             for e in entries if e.kind == "script" and e.id not in used]
    return ranked[:top], never


def _edits(tally: Tally, entries: Sequence[Entry], top: int) -> list[EntryEdits]:
    titles = {e.id: e.display_title for e in entries}
    ranked = [EntryEdits(id=entry_id, title=titles.get(entry_id, ""), edits=count,
                         mean_distance=round(tally.edit_distance[entry_id] / count, 2),
                         mean_drift=round(tally.edit_drift[entry_id] / count / 1e6, 4))
              for entry_id, count in tally.edits.items() if count]
    ranked.sort(key=lambda e: (-e.edits * e.mean_drift, -e.edits, e.id))
    return ranked[:top]


def format_report(metrics: Metrics) -> str:
    """The metrics as plain-text tables (for ``assist qa report`` and daily jobs)."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.1f}%"

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    lines = [f"QA report {_iso(metrics.since)} .. {_iso(metrics.until)} "
             f"(threshold {metrics.threshold}, UTC{metrics.tz_offset_s / 3600:+g})", ""]
    header = ("day", "messages", "suggested", "coverage", "accepted", "edited", "dismissed",
              "accept%", "adopt%", "p50 ms", "p99 ms")
    rows = [(s.day, str(s.messages), str(s.suggested), pct(s.coverage), str(s.accepted), str(s.edited),
             str(s.dismissed), pct(s.acceptance_rate), pct(s.adoption_rate), ms(s.latency_p50),
             ms(s.latency_p99)) for s in [*metrics.days, metrics.totals]]
    lines += _table(header, rows)
    lines += ["", "Most used entries"]
    lines += _table(("entry", "title", "shown", "accepted", "edited", "dismissed"),
                    [(u.id, u.title, str(u.shown), str(u.accepted), str(u.edited), str(u.dismissed))
                     for u in metrics.most_used])
    lines += ["", f"Most edited entries ({metrics.edit_sample} edits)"]
    lines += _table(("entry", "title", "edits", "mean distance", "drift"),
                    [(e.id, e.title, str(e.edits), f"{e.mean_distance:.1f}", pct(e.mean_drift))
                     for e in metrics.most_edited])
    lines += ["", f"Never used script entries ({len(metrics.never_used)})"]
    lines += [f"  {u.id}  {u.title}" for u in metrics.never_used] or ["  (none)"]
    lines += ["", "Risk flags by type"]
    lines += _table(("type", "messages"), [(k, str(v)) for k, v in metrics.risk_totals.items()])
    lines += ["", "Labels: " + (", ".join(f"{k} {v}" for k, v in sorted(metrics.labels.items()))
                               or "none")]
    return "\n".join(lines)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
