"""``assist knowledge link DIR``: propose standard-library links for a hand-written folder.

Writes ``like: [ids]`` with the confidences as a comment into each entry that has no ``like``
yet, so an admin reviews all links in the YAML (delete a wrong id, or write ``like: []``).
Entries with no confident link are left as they are; the indexer links them automatically at
build time too, with the same rule (``assist/core/library/link.py``).
"""

from __future__ import annotations

from pathlib import Path

import click

from assist.cli.common import setting_option
from assist.core.embedders import shared_embedder
from assist.core.knowledge import KnowledgeError, load_knowledge
from assist.core.library import load_library
from assist.core.library.annotate import write_links
from assist.core.library.link import propose_links
from assist.core.settings import load_settings


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@setting_option("embedder")
@click.option("--dry-run", is_flag=True, help="Print the proposed links, change no file.")
def link(folder: Path, embedder: str | None, dry_run: bool) -> None:
    """Propose standard-library links for the entries of FOLDER and write them as `like:`."""
    try:
        settings = load_settings(knowledge=folder, embedder=embedder)
        knowledge = load_knowledge(folder)
        proposed = propose_links(knowledge.entries, load_library(),
                                 shared_embedder(settings.embedder).encode)
        todo = {e.id: proposed[e.id] for e in knowledge.entries
                if e.like is None and e.id in proposed}
        for entry_id, links in todo.items():
            click.echo(f"{entry_id} -> " + ", ".join(f"{n} ({c:.2f})" for n, c in links))
        pinned = sum(e.like is not None for e in knowledge.entries)
        click.echo(f"{len(todo)} entries linked, {pinned} already have 'like', "
                   f"{len(knowledge.entries) - len(todo) - pinned} without a confident link")
        if dry_run or not todo:
            return
        for path in write_links(knowledge, todo):
            click.echo(f"wrote {path}")
    except (KnowledgeError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
