"""An imported quick-phrase list is a knowledge folder the indexer builds and retrieval answers."""

from __future__ import annotations

from pathlib import Path

from assist.core.embedders import Embedder
from assist.core.engine import Message, open_engine
from assist.core.index.build import build_index
from assist.importers import import_file

from .conftest import QIANNU_HEADER, QIANNU_ROWS, write_csv


def test_imported_phrases_build_and_are_suggested(src: Path, tmp_path: Path, embedder: Embedder) -> None:
    knowledge = tmp_path / "knowledge"
    path = write_csv(src / "phrases.csv", [QIANNU_HEADER, *QIANNU_ROWS], encoding="gbk")
    import_file(path, knowledge)
    build_index(knowledge, tmp_path / "index", embedder, progress=False)
    engine = open_engine(tmp_path / "index", embedder)
    result = engine.suggest_many([Message("面霜的保质期是多久")])[0]
    assert result.scripts and result.scripts[0].id == "phrases-gq"
