"""The ``assist`` command: suggest (admin check), and the groups of the other cli modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from assist.cli.common import index_build_command, index_option, knowledge_option, settings_from
from assist.cli.index import index
from assist.cli.knowledge import knowledge
from assist.cli.qa_commands import qa
from assist.cli.risk import risk as risk_group
from assist.cli.serve import register as register_service
from assist.core.engine import Engine, Message, open_or_build
from assist.core.index.load import IndexLoadError
from assist.core.knowledge import KnowledgeError, load_knowledge
from assist.core.models import SuggestResult
from assist.core.vocabulary import SEVERITY_LABELS, risk_label


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
        settings = settings_from(knowledge=knowledge, index=index)
        engine = open_or_build(settings)
    except (KnowledgeError, IndexLoadError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    # Only when the folder and the index are named together (or both configured): an index
    # named alone may come from any folder.
    if (knowledge is None) == (index is None) and _knowledge_changed(settings.knowledge, engine):
        click.echo(f"note: {settings.knowledge} changed since index {engine.version} was built; "
                   f"these answers are from the old index. Rebuild: "
                   f"{index_build_command(knowledge, index)}", err=True)
    messages = [line.rstrip("\n") for line in sys.stdin] if text == "-" else [text]
    messages = [m for m in messages if m.strip()]
    for message, result in zip(messages, engine.suggest_many([Message(m) for m in messages]),
                               strict=True):
        if as_json:
            click.echo(result.model_dump_json())
        else:
            click.echo(format_result(message, result))


def _knowledge_changed(folder: Path, engine: Engine) -> bool:
    """Whether the knowledge folder no longer is what the loaded index was built from."""
    try:
        current = load_knowledge(folder).content_hash()
    except KnowledgeError:
        return False  # a broken folder is reported by the build, not here
    return current != engine.index.manifest.knowledge_hash


def format_result(message: str, result: SuggestResult) -> str:
    """Human-readable suggestions for a terminal."""
    lines = [f"> {message}"]
    for risk in result.risks:
        lines.append(f"  !! 风险[{SEVERITY_LABELS[risk.severity]}] {risk_label(risk.type, risk.severity)} "
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


register_service(main)
main.add_command(qa)
main.add_command(index)
main.add_command(knowledge)
main.add_command(risk_group)
