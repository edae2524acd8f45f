"""The ``assist`` command: suggest (admin check), and the commands other modules register."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from assist.config import Settings, load_settings
from assist.embedders import shared_embedder
from assist.engine import Engine, Message, open_engine
from assist.index import IndexError_, IndexNotFound
from assist.knowledge import KnowledgeError
from assist.models import SuggestResult
from assist.risk.detector import SEVERITY_LABELS, TYPE_LABELS

log = logging.getLogger(__name__)


def knowledge_option(f):
    return click.option("--knowledge", type=click.Path(path_type=Path), default=None,
                        help="Knowledge folder [env ASSIST_KNOWLEDGE; default ./knowledge].")(f)


def index_option(f):
    return click.option("--index", type=click.Path(path_type=Path), default=None,
                        help="Index root [env ASSIST_INDEX; default ./index].")(f)


def engine_for(settings: Settings) -> Engine:
    """Open the index, building it from the knowledge folder first if there is none yet."""
    embedder = shared_embedder(settings.embedder)
    try:
        return open_engine(settings.index, embedder, settings.retrieval, settings.risk)
    except IndexNotFound:
        from indexer.build import build_index

        log.warning("no index at %s: building it from %s", settings.index, settings.knowledge)
        summary = build_index(settings.knowledge, settings.index, embedder, progress=False)
        click.echo(str(summary), err=True)
        return open_engine(settings.index, embedder, settings.retrieval, settings.risk)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """Reply suggestions and scam warnings for e-commerce customer service."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("text")
@knowledge_option
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the /api/suggest JSON object.")
def suggest(text: str, knowledge: Path | None, index: Path | None, as_json: bool) -> None:
    """Print suggestions for TEXT ('-' reads one message per line from stdin)."""
    try:
        engine = engine_for(load_settings(knowledge=knowledge, index=index))
    except (KnowledgeError, IndexError_, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    messages = [line.rstrip("\n") for line in sys.stdin] if text == "-" else [text]
    messages = [m for m in messages if m.strip()]
    for message, result in zip(messages, engine.suggest_many([Message(m) for m in messages]),
                               strict=True):
        if as_json:
            click.echo(result.model_dump_json())
        else:
            click.echo(format_result(message, result))


def format_result(message: str, result: SuggestResult) -> str:
    """Human-readable suggestions for a terminal."""
    lines = [f"> {message}"]
    for risk in result.risks:
        lines.append(f"  !! 风险[{SEVERITY_LABELS[risk.severity]}] {TYPE_LABELS[risk.type]} "
                     f"({risk.type}, {risk.source}): {risk.reason}")
        lines.append(f"      证据: {risk.evidence}")
        lines.append(f"      建议回复: {risk.reply}")
    if not result.scripts:
        lines.append("  (无推荐话术)")
    for i, script in enumerate(result.scripts, 1):
        lines.append(f"  {i}. [{script.score:.2f}] {script.category} · {script.title} "
                     f"({script.id})")
        lines.append(f"     {script.reply}")
    for policy in result.policies:
        lines.append(f"  规则 [{policy.score:.2f}] {policy.title}: {policy.text}")
    return "\n".join(lines)


from assist.cli_serve import register as _register_service  # noqa: E402 - needs main and the options above

_register_service(main)

from assist.cli_qa import qa as _qa  # noqa: E402 - needs the options above

main.add_command(_qa)
