"""Client JSON checked at the edge, before any model or store sees it.

Frames and bodies are parsed by ``loads``, which refuses what JSON allows but nothing downstream
should meet: NaN/Infinity (and floats that overflow to it), integers beyond what JavaScript
clients can represent, nesting deeper than any frame needs, and strings holding lone surrogates
(``"\\ud800"`` is valid JSON but not encodable as UTF-8, so it would fail later in the database,
the log writer or the socket) or control characters. Each refusal says where the problem is and
never echoes the bad character itself.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

MAX_DEPTH = 32  # frames and bodies are at most 4 levels deep; anything deeper is an attack
MAX_INT = 2**53 - 1  # the largest integer a JavaScript client can represent exactly
MAX_INT_DIGITS = 16
# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

BadCode = Literal["bad_json", "bad_frame"]


class BadInput(ValueError):
    """Input refused at the edge; ``code`` is the protocol error code, ``message`` says why."""

    def __init__(self, code: BadCode, message: str) -> None:
        super().__init__(message)
        self.code: BadCode = code
        self.message = message


def _no_constant(name: str) -> Any:
    raise BadInput("bad_json", f"{name} is not allowed (numbers must be finite)")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise BadInput("bad_json", f"number {literal[:20]} is out of range (numbers must be finite)")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS or abs(value := int(literal)) > MAX_INT:
        raise BadInput("bad_json", f"integer {literal[:20]}{'…' if len(literal) > 20 else ''} is out "
                                   f"of range (at most {MAX_INT} in magnitude)")
    return value


def loads(raw: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for untrusted input; raises ``BadInput`` instead of handing on bad values."""
    try:
        data = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float,
                          parse_int=_bounded_int)
    except BadInput:
        raise
    except RecursionError:
        raise BadInput("bad_json", f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError, and bytes that are not UTF-8
        raise BadInput("bad_json", f"not valid JSON: {safe_text(str(exc))}") from None
    check_tree(data, max_depth)
    return data


def check_tree(data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Every string (keys too) valid text, every number finite and bounded, depth bounded.

    Iterative, so a deep value cannot exhaust the stack here either.
    """
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, str):
            check_text(value, where or "value")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INT:
                raise BadInput("bad_frame", f"{where or 'value'}: integer out of range")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise BadInput("bad_frame", f"{where or 'value'}: numbers must be finite")
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                raise BadInput("bad_json", f"JSON nested deeper than {max_depth} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = f"{where}.{key}" if where else str(key)
                if isinstance(key, str):
                    check_text(key, f"{where or 'frame'}: a key")
                stack.append((item, depth + 1, safe_text(name)[:80]))


def check_text(text: str, where: str) -> None:
    """Refuse lone surrogates and control characters (tab, newline and CR are fine)."""
    if (found := _SURROGATE.search(text)) is not None:
        raise BadInput("bad_frame", f"{where}: contains a lone surrogate (U+{ord(found.group()):04X} at "
                                    f"character {found.start()}); text must be valid Unicode")
    if (found := _CONTROL.search(text)) is not None:
        raise BadInput("bad_frame", f"{where}: contains control character U+{ord(found.group()):04X} at "
                                    f"character {found.start()}")


def text_problem(text: str, where: str) -> str | None:
    """``check_text`` as a value: the problem, or None (for query strings and paths)."""
    try:
        check_text(text, where)
    except BadInput as exc:
        return exc.message
    return None


def safe_text(text: str) -> str:
    """Text that can always be encoded (error messages may quote client input)."""
    return _CONTROL.sub("\ufffd", _SURROGATE.sub("\ufffd", text))
