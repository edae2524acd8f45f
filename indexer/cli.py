"""``assist-index build``: the admin's re-index command."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from assist.embedders import create_embedder
from assist.knowledge import KnowledgeError
from indexer.build import build_index

DEFAULT_KNOWLEDGE = Path("knowledge")
DEFAULT_INDEX = Path("index")


@click.group()
def main() -> None:
    """Build the FAISS index of a knowledge folder."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--knowledge", "knowledge_dir", type=click.Path(path_type=Path),
              default=DEFAULT_KNOWLEDGE, envvar="ASSIST_KNOWLEDGE", show_default=True,
              help="Knowledge folder of YAML entries.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_INDEX,
              envvar="ASSIST_INDEX", show_default=True, help="Index root directory.")
@click.option("--embedder", default="use", envvar="ASSIST_EMBEDDER", show_default=True,
              help="'use' or 'sentence-transformers:/path/to/model'.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def build(knowledge_dir: Path, out_dir: Path, embedder: str, quiet: bool) -> None:
    """Validate KNOWLEDGE and write a new index version under OUT."""
    try:
        summary = build_index(knowledge_dir, out_dir, create_embedder(embedder),
                              progress=not quiet and sys.stderr.isatty())
    except KnowledgeError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(summary))
