"""What the ``assist`` subcommands share: path options and opening (or first building) the index.

Its own module so that cli.py, cli_serve.py and cli_qa.py each import it without importing
one another.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from assist.config import Settings
from assist.embedders import shared_embedder
from assist.engine import Engine, open_engine
from assist.index import IndexNotFound

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


def data_option(f):
    return click.option("--data", type=click.Path(path_type=Path), default=None,
                        help="Data directory: SQLite log, dev token [env ASSIST_DATA; default ./data].")(f)

