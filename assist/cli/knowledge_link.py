"""``assist knowledge link DIR``: propose standard-library links for a hand-written folder.

Writes ``like: [ids]`` with the confidences as a comment into each entry that has no ``like``
yet, so an admin reviews all links in the YAML (delete a wrong id, or write ``like: []``).
Entries with no confident link are left as they are; the indexer links them automatically at
build time too, with the same rule (``assist/core/library/link.py``).
"""

from __future__ import annotations

from pathlib import Path

import click

from assist.cli.common import setting_option, settings_from
from assist.core.embedders import shared_embedder
from assist.core.knowledge import KnowledgeError
from assist.core.library.annotate import LinkProposal, propose_into_yaml


def echo_proposal(proposal: LinkProposal) -> None:
    for entry_id, links in proposal.linked.items():
        click.echo(f"{entry_id} -> " + ", ".join(f"{n} ({c:.2f})" for n, c in links))
    click.echo(f"{len(proposal.linked)} entries linked to the standard question library, "
               f"{proposal.pinned} already have 'like', {proposal.unlinked} without a confident link")
    for path in proposal.files:
        click.echo(f"wrote {path} (review the like: keys; delete a wrong id or write like: [])")


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@setting_option("embedder")
@click.option("--dry-run", is_flag=True, help="Print the proposed links, change no file.")
def link(folder: Path, embedder: str | None, dry_run: bool) -> None:
    """Propose standard-library links for the entries of FOLDER and write them as `like:`."""
    settings = settings_from(knowledge=folder, embedder=embedder)
    try:
        proposal = propose_into_yaml(folder, shared_embedder(settings.embedder).encode,
                                     dry_run=dry_run)
    except (KnowledgeError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    echo_proposal(proposal)
