"""``assist index build`` (alias ``assist-index build``): the admin's re-index command.

It reads the same settings as every other command and the service (defaults < the
``ASSIST_CONFIG`` file < ``ASSIST_*`` environment < flags), so an embedder configured once is
the one the index is built with and the one the service loads it with.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from assist.cli.common import knowledge_option, setting_option, settings_from
from assist.core.engine import build_for
from assist.core.knowledge import KnowledgeError


@click.group()
def index() -> None:
    """Build the FAISS index of a knowledge folder."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@index.command()
@knowledge_option
@setting_option("index", "--out", "--index")
@setting_option("embedder")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def build(knowledge: Path | None, index: Path | None, embedder: str | None, quiet: bool) -> None:
    """Validate the knowledge folder and write a new index version (atomic switch)."""
    try:
        settings = settings_from(knowledge=knowledge, index=index, embedder=embedder)
        summary = build_for(settings, progress=not quiet and sys.stderr.isatty())
    except (KnowledgeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(summary))
    for line in summary.link_lines():
        click.echo(line)
