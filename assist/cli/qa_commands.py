"""``assist qa export|report|promote|rebuild-summaries``: the QA review from the command line
(daily jobs, scripts)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from assist.cli.common import data_option, index_option, knowledge_option, setting_option, settings_from
from assist.core.knowledge import Entry, KnowledgeError, load_knowledge
from assist.core.settings import Settings
from assist.core.vocabulary import CONFIDENT_SCORE
from assist.logstore import MessageQuery, open_log_store, review
from assist.logstore.base import LogStore
from assist.qa.export import Format
from assist.qa.timespec import parse_time

log_store_option = setting_option("log_store")


def _time(value: str | None, name: str) -> float | None:
    try:
        return None if value is None else parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


def _store(settings: Settings) -> LogStore:
    if not settings.log_store and not (settings.data / "suggestions.db").is_file():
        raise click.ClickException(f"no suggestion log in {settings.data} (give --data or --log-store)")
    try:
        return open_log_store(settings.log_store, settings.data)
    except Exception as exc:  # a bad URL or an unreachable server: say which
        raise click.ClickException(f"cannot open the log store: {exc}") from exc


@click.group()
def qa() -> None:
    """QA review of the suggestion log: export, report, promote phrasings."""


@qa.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="CSV (one row per message, latest feedback and label) or JSON lines (everything).")
@click.option("--since", default=None, help="From: 7d, 24h, or an ISO date/time [default: all].")
@click.option("--until", default=None, help="Up to (exclusive): same forms [default: now].")
@data_option
@log_store_option
def export(fmt: Format, since: str | None, until: str | None, data: Path | None,
           log_store: str | None) -> None:
    """Write logged messages, feedback and labels to stdout, newest first (masked text only)."""
    from assist.qa.export import export_records, write_export

    query = MessageQuery(since=_time(since, "--since"), until=_time(until, "--until"))
    store = _store(settings_from(data=data, log_store=log_store))
    try:
        count = write_export(export_records(store, query), fmt, sys.stdout)
    finally:
        store.close()
    click.echo(f"{count} messages exported", err=True)


@qa.command()
@click.option("--since", default="7d", show_default=True, help="From: 7d, 24h, or an ISO date/time.")
@click.option("--until", default=None, help="Up to (exclusive) [default: now].")
@click.option("--threshold", type=click.FloatRange(0, 1), default=CONFIDENT_SCORE, show_default=True,
              help="Top score that counts as a confident suggestion (coverage).")
@click.option("--tz-offset", type=click.FloatRange(-14, 14), default=None,
              help="Days in UTC+HOURS [default: the log's own day offset, UTC+8 unless rebuilt "
                   "otherwise; another offset scans the raw rows].")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON instead of tables.")
@knowledge_option
@data_option
@log_store_option
def report(since: str, until: str | None, threshold: float, tz_offset: float | None, as_json: bool,
           knowledge: Path | None, data: Path | None, log_store: str | None) -> None:
    """Print the QA metrics (acceptance, coverage, entries, edits, risks, latency) per day, over
    the whole days the range touches."""
    from assist.qa.metrics import compute_metrics, format_report

    settings = settings_from(knowledge=knowledge, data=data, log_store=log_store)
    start = _time(since, "--since") or 0.0
    end = _time(until, "--until") or time.time() + 1
    offset = None if tz_offset is None else round(tz_offset * 3600)
    store = _store(settings)
    try:
        metrics = compute_metrics(store, start, end, _entries(settings), threshold, offset)
    finally:
        store.close()
    click.echo(metrics.model_dump_json(indent=2) if as_json else format_report(metrics))


@qa.command("rebuild-summaries")
@click.option("--tz-offset", type=click.FloatRange(-14, 14), default=None,
              help="Count days in UTC+HOURS from now on [default: keep the current offset, "
                   "UTC+8 for a new log].")
@data_option
@log_store_option
def rebuild_summaries(tz_offset: float | None, data: Path | None, log_store: str | None) -> None:
    """Recount the daily counters behind the metrics from the raw log (one transaction; the
    service's writes wait for it). Stores from before the counters are rebuilt when first opened."""
    from assist.logstore import summaries

    store = _store(settings_from(data=data, log_store=log_store))
    try:
        started = time.perf_counter()
        count = summaries.rebuild(store, None if tz_offset is None else round(tz_offset * 3600))
        _, offset = summaries.state(store)
    finally:
        store.close()
    click.echo(f"rebuilt {count} daily counters (days in UTC{offset / 3600:+g}) "
               f"in {time.perf_counter() - started:.1f}s")


def _entries(settings: Settings) -> list[Entry]:
    try:
        return load_knowledge(settings.knowledge).entries
    except KnowledgeError as exc:
        click.echo(f"warning: knowledge folder unreadable, entry titles and never-used list "
                   f"omitted:\n{exc}", err=True)
        return []


@qa.command()
@click.argument("message")
@click.argument("entry_id")
@click.option("--pk", is_flag=True, help="MESSAGE is the log row id (as the QA page shows), "
                                         "not the platform message id.")
@click.option("--reindex", is_flag=True, help="Rebuild the index here afterwards (for a running "
                                              "service use 'assist reindex --url').")
@knowledge_option
@index_option
@data_option
@log_store_option
def promote(message: str, entry_id: str, pk: bool, reindex: bool, knowledge: Path | None,
            index: Path | None, data: Path | None, log_store: str | None) -> None:
    """Add the buyer's (masked) wording of MESSAGE to ENTRY_ID's example questions."""
    from assist.qa.promote import PromoteError, promote_question

    settings = settings_from(knowledge=knowledge, index=index, data=data, log_store=log_store)
    store = _store(settings)
    try:
        if pk:
            if not message.isdigit():
                raise click.BadParameter(f"with --pk give the log row id, got {message!r}")
            found = review.message_by_pk(store, int(message))
            rows = [found] if found else []
        else:
            rows = review.latest_by_message_id(store, message)
    finally:
        store.close()
    if not rows:
        raise click.ClickException(f"no logged message {message!r}")
    if len(rows) > 1:
        click.echo(f"note: {len(rows)} logged messages have id {message!r}; using the newest "
                   f"(conversation {rows[0].conversation_id}, row {rows[0].id})", err=True)
    try:
        done = promote_question(settings.knowledge, entry_id, rows[0].text)
    except (PromoteError, KnowledgeError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not done.added:
        click.echo(f"{entry_id} already has the question {done.question!r}; nothing changed")
        return
    click.echo(f"added {done.question!r} to {entry_id} in {settings.knowledge / done.file}")
    if reindex:
        from assist.core.engine import build_for

        click.echo(str(build_for(settings)))
    else:
        click.echo("re-index to use it: assist reindex (or assist reindex --url URL for a running service)")
