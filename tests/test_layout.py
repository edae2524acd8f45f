"""The architecture as a test: layers import only downwards, and every module imports alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
# Bottom to top. A module may import its own layer and those below, never one above.
LAYERS = ["assist.core", "assist.importers", "assist.logstore", "assist.qa", "assist.service", "assist.cli",
          "indexer"]


def _modules() -> list[tuple[str, Path]]:
    found = []
    for root in ("assist", "indexer"):
        for path in sorted((REPO / root).rglob("*.py")):
            if "widget_files" in path.parts:
                continue
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts == ["assist"]:
                continue  # the root package is empty: it belongs to no layer
            found.append((".".join(parts), path))
    return found


def _layer(module: str) -> int:
    for rank in range(len(LAYERS) - 1, -1, -1):
        if module == LAYERS[rank] or module.startswith(LAYERS[rank] + "."):
            return rank
    raise AssertionError(f"{module} belongs to no layer; add its package to LAYERS")


def _imports(path: Path, module: str) -> list[str]:
    """Every project module ``path`` imports, at the top or lazily inside functions."""
    names = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return [n for n in names if n.split(".")[0] in ("assist", "indexer") and n != "assist"]


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_imports_point_downwards(module: str, path: Path) -> None:
    own = _layer(module)
    upward = [name for name in _imports(path, module) if _layer(name) > own]
    assert not upward, f"{module} (layer {LAYERS[own]}) imports from above: {upward}"


def test_the_service_has_no_cli_dependencies() -> None:
    for module, path in _modules():
        if module.startswith("assist.service"):
            source = path.read_text(encoding="utf-8")
            assert "import click" not in source and "print(" not in source, module


def test_every_module_imports_alone() -> None:
    """Each module imported first in a clean module table: an import circle shows up as an error."""
    modules = [m for m, _ in _modules() if not m.endswith("__main__")]
    script = (
        "import importlib, sys, traceback\n"
        f"mods = {modules!r}\nfailed = []\n"
        "for m in mods:\n"
        "    for name in [n for n in sys.modules if n.split('.')[0] in ('assist', 'indexer')]:\n"
        "        del sys.modules[name]\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except Exception:\n"
        "        failed.append(m + ': ' + traceback.format_exc(limit=3))\n"
        "print('\\n'.join(failed))\nsys.exit(1 if failed else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docs_name_files_that_exist() -> None:
    """Paths of our own modules named in the docs (`assist/...`, `indexer/...`) exist."""
    import re

    docs = [REPO / "README.md", *(REPO / "docs").glob("*.md"), REPO / "knowledge" / "README.md",
            REPO / "widget" / "README.md", REPO / "benchmarks" / "data" / "README.md"]
    missing = []
    for doc in docs:
        for path in re.findall(r"`((?:assist|indexer)/[\w/.-]+)`", doc.read_text(encoding="utf-8")):
            if not (REPO / path.rstrip("/")).exists():
                missing.append(f"{doc.name}: {path}")
    assert not missing, missing
