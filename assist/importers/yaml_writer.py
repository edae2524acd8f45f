"""Readable YAML for imported entries: the layout of the shipped knowledge files.

One entry per block with a blank line between entries, keys in a fixed order, multi-line
replies as literal blocks, nothing folded. Proposed library links are written as
``like: [id, ...]  # 0.91, ...`` (flow list, the confidences as a comment) so an admin
reviews them where the entry is; a ``like`` the entry already has is written as it is.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

KEY_ORDER = ("id", "kind", "category", "title", "code", "questions", "reply", "text", "tags", "like")
_RESOLVER = pyyaml.resolver.Resolver()
Links = Mapping[str, Sequence[tuple[str, float]]]


def _yaml() -> YAML:
    yaml = YAML()
    yaml.width = 100_000  # never fold a reply
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    return yaml


def render_entries(entries: Sequence[Mapping[str, Any]], header: str = "",
                   links: Links | None = None) -> str:
    """The YAML text of ``entries``; ``header`` lines become a leading comment."""
    yaml = _yaml()
    blocks = []
    for entry in entries:
        out = io.StringIO()
        yaml.dump(_commented(entry, links or {}), out)
        lines = out.getvalue().splitlines(keepends=True)
        # An item of the top-level list, with its keys at column 2 like the shipped files.
        blocks.append("".join(("- " if i == 0 else "  " if line.strip() else "") + line
                              for i, line in enumerate(lines)))
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + "\n".join(blocks)


def _scalar(text: str) -> str:
    """Multi-line text as a literal block; quoted where PyYAML (YAML 1.1, which the knowledge
    loader uses) would read a plain scalar as something else (yes, no, on, 1e3, 12:30)."""
    if "\n" in text:
        return LiteralScalarString(text)
    if _RESOLVER.resolve(pyyaml.ScalarNode, text, (True, False)) != "tag:yaml.org,2002:str":
        return SingleQuotedScalarString(text)
    return text


def _commented(entry: Mapping[str, Any], links: Links) -> CommentedMap:
    keys = [k for k in KEY_ORDER if k in entry] + [k for k in entry if k not in KEY_ORDER]
    item = CommentedMap()
    for key in keys:
        value = entry[key]
        if isinstance(value, str):
            value = _scalar(value)
        elif isinstance(value, list):
            value = CommentedSeq([_scalar(v) if isinstance(v, str) else v for v in value])
            if key in ("tags", "like"):
                value.fa.set_flow_style()
        item[key] = value
    proposed = links.get(str(entry.get("id")))
    if proposed and "like" not in entry:
        item["like"] = CommentedSeq([library_id for library_id, _ in proposed])
        item["like"].fa.set_flow_style()
    like = item.get("like")
    if proposed and like is not None and list(like) == [library_id for library_id, _ in proposed]:
        item.yaml_add_eol_comment(", ".join(f"{c:.2f}" for _, c in proposed), "like")
    return item
