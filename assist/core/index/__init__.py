"""The index: its on-disk format (``format``), the build (``build``) and loading it (``load``).

An index root holds versions; each version describes itself (embedder, dimension, what it was
built from) so that loading reads that first and refuses a mismatch.
"""
