"""The core: what a suggestion is made of, with no web service, log store or CLI.

Bottom to top: ``models`` and ``vocabulary`` (shared types and labels), ``textnorm``,
``knowledge`` (the folder contract), ``embedders/`` (text to vectors), ``index/`` (the index
format, build and load), ``retrieval``, ``risk/``, ``engine`` (one message in, one result out)
and ``settings`` (the one settings object every command and the service read).
"""
