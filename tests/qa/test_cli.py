"""``assist qa export|report|promote`` through click's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from assist.cli import main
from assist.core.knowledge import load_knowledge
from assist.logstore import MessageQuery, open_log_store, review
from assist.logstore.base import MessageRecord, SqlLogStore
from assist.qa.seed import SeedConfig, seed_store
from tests.qa.conftest import BACKENDS, PG_URL, fixture_entries, pg_reachable

SMALL = SeedConfig(messages=300, start=1_750_000_000.0, days=3.0, seed=3)


@pytest.fixture(params=BACKENDS)
def cli_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[list[str], SqlLogStore]]:
    """A seeded store and the CLI options that reach it. PostgreSQL gets a schema of its own
    (the CLI has no table prefix; the URL's search_path isolates the run)."""
    if request.param == "sqlite":
        data = tmp_path / "data"
        store = open_log_store("", data)
        args = ["--data", str(data)]
    else:
        reason = pg_reachable()
        if reason:
            pytest.skip(reason)
        import psycopg

        schema = f"qa_cli_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        store = open_log_store(url, tmp_path)
        args = ["--log-store", url]
    seed_store(store, fixture_entries(), SMALL)
    yield args, store  # type: ignore[misc]
    store.close()
    if request.param != "sqlite":
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_export_csv_and_jsonl_with_labels(cli_store) -> None:
    args, store = cli_store
    [newest] = store.query_messages(MessageQuery(limit=1))
    review.add_label(store, 1.0, newest.id, "missing_entry", None, "电话13812345678要新话术", "qa-x")
    rows = list(csv.DictReader(io.StringIO(run("qa", "export", "--format", "csv", *args))))
    assert len(rows) == SMALL.messages
    assert rows[0]["id"] == str(newest.id) and rows[0]["label"] == "missing_entry"
    assert "13812345678" not in rows[0]["label_note"]
    assert {r["action"] for r in rows} == {"accepted", "edited", "dismissed", "none"}
    lines = run("qa", "export", "--format", "jsonl", "--since", str(SMALL.start + 2 * 86400), *args)
    records = [json.loads(line) for line in lines.splitlines()]
    assert records and all(r["ts"] >= SMALL.start + 2 * 86400 for r in records)
    assert records[0]["labels"][0]["label"] == "missing_entry"
    assert {"text", "suggestions", "feedback", "risks"} <= set(records[0])


def test_export_masks_personal_data(tmp_path: Path) -> None:
    store = open_log_store("", tmp_path / "data")
    store.write_messages([MessageRecord(ts=5.0, conversation_id="c", message_id="m", agent="a",
                                        text="=HYPERLINK(1) 手机13812345678 身份证110101199003074514")])
    store.close()
    out = run("qa", "export", "--data", str(tmp_path / "data"))
    assert "13812345678" not in out and "110101199003074514" not in out and "[手机号]" in out
    assert ",'=HYPERLINK" in out  # a formula in customer text stays text in a spreadsheet


def test_report_prints_the_tables(cli_store) -> None:
    args, _ = cli_store
    out = run("qa", "report", "--since", str(SMALL.start - 1), "--until", str(SMALL.start + 4 * 86400),
              "--knowledge", str(Path(__file__).parent.parent / "fixtures" / "knowledge"), *args)
    assert "total" in out and "300" in out and "Most used entries" in out
    assert "courtesy-bye" in out and "logistics-delay" in out  # used, and never used
    data = json.loads(run("qa", "report", "--json", "--since", "3650d", *args))
    assert data["totals"]["messages"] == SMALL.messages


def test_rebuild_summaries_with_another_day_offset(cli_store) -> None:
    args, store = cli_store
    assert "days in UTC+0" in run("qa", "rebuild-summaries", "--tz-offset", "0", *args)
    data = json.loads(run("qa", "report", "--json", "--since", "3650d", *args))
    assert (data["source"], data["tz_offset_s"]) == ("summaries", 0)
    assert data["totals"]["messages"] == SMALL.messages
    raw = json.loads(run("qa", "report", "--json", "--since", "3650d", "--tz-offset", "8", *args))
    assert (raw["source"], raw["tz_offset_s"], raw["totals"]["messages"]) == ("raw", 28800, SMALL.messages)
    assert "days in UTC+8" in run("qa", "rebuild-summaries", "--tz-offset", "8", *args)
    again = json.loads(run("qa", "report", "--json", "--since", "3650d", "--tz-offset", "8", *args))
    assert again["source"] == "summaries" and {**again, "source": "raw"} == raw


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["qa", "report", "--data", str(tmp_path)])
    assert result.exit_code == 1 and "no suggestion log" in result.output
    result = CliRunner().invoke(main, ["qa", "export", "--since", "last tuesday", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "expected a duration" in result.output


def test_promote_writes_the_phrasing_into_the_yaml(tmp_path: Path, knowledge_dir: Path) -> None:
    data = tmp_path / "data"
    store = open_log_store("", data)
    store.write_messages([MessageRecord(ts=5.0, conversation_id="c", message_id="m-77", agent="a",
                                        text="脚宽的话建议拍大一码吗 电话13812345678")])
    store.close()
    before = (knowledge_dir / "presale" / "basics.yaml").read_text(encoding="utf-8")
    out = run("qa", "promote", "m-77", "size-advice", "--data", str(data), "--knowledge", str(knowledge_dir))
    assert "added" in out
    after = (knowledge_dir / "presale" / "basics.yaml").read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - 脚宽的话建议拍大一码吗 电话[手机号]"]  # one line, masked, same style
    entry = next(e for e in load_knowledge(knowledge_dir).entries if e.id == "size-advice")
    assert entry.questions[-1] == "脚宽的话建议拍大一码吗 电话[手机号]"
    again = run("qa", "promote", "m-77", "size-advice", "--data", str(data),
                "--knowledge", str(knowledge_dir))
    assert "nothing changed" in again
    result = CliRunner().invoke(main, ["qa", "promote", "m-77", "no-such", "--data", str(data),
                                       "--knowledge", str(knowledge_dir)])
    assert result.exit_code == 1 and "no entry 'no-such'" in result.output
    result = CliRunner().invoke(main, ["qa", "promote", "m-0", "bargain", "--data", str(data)])
    assert result.exit_code == 1 and "no logged message" in result.output
