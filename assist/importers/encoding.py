"""Text encodings of spreadsheet exports: UTF-8 (with or without BOM), UTF-16, GB18030/GBK.

Excel on Chinese Windows saves "CSV" in the ANSI code page (GBK, which GB18030 extends),
"CSV UTF-8" with a BOM, and "Unicode text" as UTF-16 with a BOM. A file is decoded strictly
(every byte must be valid); there is no guessing beyond these, because a wrong guess turns
every reply into mojibake that would be imported without complaint.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from assist.importers.errors import ImportRejected, SourceProblem

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # utf-8-sig, utf-8, utf-16, gb18030


def decode_bytes(data: bytes, file: str) -> Decoded:
    """Decode ``data``; raise ImportRejected naming the line of the first undecodable byte."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(_strict(data, encoding, file), encoding)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # Valid multi-byte UTF-8 before the bad byte means a damaged UTF-8 file, not a GBK one:
    # GBK text almost never forms valid UTF-8 sequences, so decoding it as GB18030 would hide
    # the damage.
    if any(b >= 0x80 for b in data[: utf8_error.start]):
        raise _rejected(data, utf8_error, file, "utf-8")
    return Decoded(_strict(data, "gb18030", file), "gb18030")


def _strict(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _rejected(data, exc, file, encoding) from exc


def _rejected(data: bytes, exc: UnicodeDecodeError, file: str, encoding: str) -> ImportRejected:
    line = data[: exc.start].count(b"\n") + 1
    return ImportRejected([SourceProblem(
        file, f"cannot be read as {encoding} (byte {exc.start}: {exc.reason}); save it as "
              "'CSV UTF-8' or as GBK/GB18030 CSV", line=line)])
