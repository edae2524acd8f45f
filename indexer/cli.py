"""``assist-index build`` is ``assist index build``: one command, two names."""

from assist.cli.index import index as main

__all__ = ["main"]
