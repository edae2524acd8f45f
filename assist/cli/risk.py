"""``assist risk lists update FILE…``: threat-feed blocklists into the knowledge folder.

The admin downloads a feed (URLhaus ``csv_online``, PhishTank ``online-valid.csv``, OpenPhish
``feed.txt``, any hosts file or plain host list) and imports it; the hosts go to
``<knowledge>/lists/block_feeds.txt`` and take effect at the next ``assist index build``.
"""

from __future__ import annotations

from pathlib import Path

import click

from assist.cli.common import index_build_command, knowledge_option, settings_from
from assist.core.index.format import LISTS_DIR
from assist.core.risk.feeds import update_feed_list


@click.group()
def risk() -> None:
    """Risk detection: the host lists of the link checker."""


@risk.group()
def lists() -> None:
    """Allow and block lists in the knowledge folder's lists/."""


@lists.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@knowledge_option
@click.option("--replace", is_flag=True,
              help="Replace the imported hosts instead of adding to them (a full refresh).")
def update(files: tuple[Path, ...], knowledge: Path | None, replace: bool) -> None:
    """Import blocklists (host lists, hosts files, URL lists, URLhaus/PhishTank CSV)."""
    settings = settings_from(knowledge=knowledge)
    if not settings.knowledge.is_dir():
        raise click.ClickException(f"knowledge folder {settings.knowledge} does not exist")
    try:
        summary = update_feed_list(settings.knowledge / LISTS_DIR, files, replace=replace)
    except OSError as exc:
        raise click.ClickException(f"cannot read or write a list: {exc}") from exc
    click.echo(str(summary))
    if summary.skipped_examples:
        click.echo("skipped shared-service hosts (judged per link instead), e.g. "
                   + ", ".join(summary.skipped_examples))
    click.echo(f"run '{index_build_command(knowledge)}' to apply the lists")
