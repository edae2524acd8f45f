"""``assist knowledge import|export|link``: a shop's spreadsheet in, the knowledge back out.

A shop starts from what its CS team already has (a 千牛 quick-phrase export, an FAQ sheet,
a MaxKB sheet): ``import`` writes it as reviewed-ready YAML into the knowledge folder;
``export`` writes the scripts out again for editing in a spreadsheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from assist.cli.common import index_build_command, knowledge_option, settings_from
from assist.cli.knowledge_link import echo_proposal, link
from assist.core.embedders import shared_embedder
from assist.core.knowledge import KnowledgeError
from assist.core.library.annotate import propose_into_yaml
from assist.importers import EXPORT_FORMATS, FORMATS, ImportRejected, export_knowledge, import_file
from assist.importers.importer import Format


@click.group()
def knowledge() -> None:
    """Import quick phrases and FAQ sheets into the knowledge folder, or export it."""


knowledge.add_command(link)


@knowledge.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Source format; auto tells them apart by the header row.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for <file stem>.yaml [default: <knowledge>/imported].")
@knowledge_option
@click.option("--id-prefix", default=None,
              help="Prefix of the entry ids [default: the file stem as a slug].")
@click.option("--keep-removed", is_flag=True,
              help="Keep entries whose row is no longer in the file (default: remove them).")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@click.option("--no-links", is_flag=True,
              help="Do not write the proposed standard-library links (like:) into the file.")
def import_command(file: Path, fmt: str, out: Path | None, knowledge: Path | None,
                   id_prefix: str | None, keep_removed: bool, dry_run: bool, no_links: bool) -> None:
    """Import FILE (千牛 CSV, FAQ CSV/XLSX, MaxKB sheet) as YAML entries.

    The entries are then linked to the standard question library: the proposed links are
    written as ``like:`` keys with their confidence, for review (``--no-links`` skips it).
    """
    settings = settings_from(knowledge=knowledge)
    folder = settings.knowledge
    try:
        report = import_file(file, folder, out=out, fmt=cast(Format, fmt), id_prefix=id_prefix,
                             keep_removed=keep_removed, dry_run=dry_run)
    except (ImportRejected, ValueError) as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    click.echo(str(report))
    if report.written and not no_links and settings.library:
        # Proposed for the entries without `like` only, and written by the importer itself, so
        # importing the same file again finds nothing to change.
        try:
            proposal = propose_into_yaml(folder, shared_embedder(settings.embedder).encode,
                                         only=report.target, dry_run=True)
            if proposal.linked:
                import_file(file, folder, out=out, fmt=cast(Format, fmt), id_prefix=id_prefix,
                            keep_removed=keep_removed, links=proposal.linked)
                proposal.files.append(report.target)
        except (ImportRejected, KnowledgeError, OSError, ValueError) as exc:
            raise click.ClickException(f"imported, but the links were not written: {exc}") from exc
        echo_proposal(proposal)
    if report.written:
        click.echo(f"Review the file, then re-index: {index_build_command(knowledge)}")


@knowledge.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True,
              help="qianniu: 快捷短语编码,快捷短语,快捷短语分组; faq: 问题,相似问题,答案,分类.")
@knowledge_option
@click.option("--only", type=click.Path(path_type=Path), default=None,
              help="Only the entries of this file or folder of the knowledge folder.")
def export_command(file: Path, fmt: str, knowledge: Path | None, only: Path | None) -> None:
    """Write the script entries to FILE (CSV, UTF-8 with BOM; .xlsx for a workbook)."""
    folder = settings_from(knowledge=knowledge).knowledge
    if fmt == "qianniu" and file.suffix.lower() == ".xlsx":
        raise click.ClickException("千牛 imports CSV: give a .csv file name")
    try:
        click.echo(str(export_knowledge(folder, file, fmt, only=only)))
    except (KnowledgeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
