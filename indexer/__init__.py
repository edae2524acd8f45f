"""``assist-index``: the admin's re-index command, kept as an alias of ``assist index``.

The index itself (format, build, load) lives in ``assist.core.index``; this package only gives
the command its historical name and ``python -m indexer``.
"""
