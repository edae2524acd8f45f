"""The ``assist`` command line: the top layer, over the service, QA and the core."""

from assist.cli.main import main

__all__ = ["main"]
