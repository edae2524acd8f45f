"""What the ``assist`` subcommands share: options built from the one settings object.

Every option that mirrors a setting takes its help text, environment variable and default
from ``Settings`` itself, so ``--help`` cannot drift from the settings the service reads.
Options default to ``None`` ("not given"): ``load_settings`` then falls back to the
environment, the ``ASSIST_CONFIG`` file and the defaults, in that order.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from assist.core.settings import Settings, SettingsError, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def setting_help(name: str) -> str:
    """'<description> [env ASSIST_<NAME>; default <value>]' for the setting ``name``."""
    field = Settings.model_fields[name]
    default = field.get_default(call_default_factory=True)
    shown = "''" if default == "" else default
    return f"{field.description} [env ASSIST_{name.upper()}; default {shown}]"


def setting_option(name: str, *flags: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option for the setting ``name`` (``--name`` unless other flags are given)."""
    annotation = Settings.model_fields[name].annotation
    if "type" not in kwargs:
        if annotation in (Path, Path | None):
            kwargs["type"] = click.Path(path_type=Path)
        elif annotation is int:
            kwargs["type"] = int
    flags = flags or (f"--{name.replace('_', '-')}",)
    return click.option(*flags, name, default=None, help=setting_help(name), **kwargs)


knowledge_option = setting_option("knowledge")
index_option = setting_option("index")
data_option = setting_option("data")


def index_build_command(knowledge: Path | None = None, index: Path | None = None) -> str:
    """The ``assist index build`` line that rebuilds what the user just changed: the folders
    they named on the command line are repeated, the configured ones need no flag."""
    parts = ["assist index build"]
    if knowledge is not None:
        parts.append(f"--knowledge {shlex.quote(str(knowledge))}")
    if index is not None:
        parts.append(f"--index {shlex.quote(str(index))}")
    return " ".join(parts)


def settings_from(**overrides: Any) -> Settings:
    """The settings with the flags given; a bad setting is a one-line CLI error, not a trace."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
