"""Files buyers send: judged by name, declared MIME type and, when given, the first bytes.

Photos and videos are normal (buyers show defects); plain PDFs and Office Open XML files are
fine. What is flagged: programs and scripts, archives (they hide what is inside), macro
documents, legacy Office files (they can carry macros), a harmless-looking extension before
a dangerous one (``清单.xls.exe``), bidi/padding tricks in the name, HTML or script in the name
(``<img src=x onerror=…>.jpg`` probes whatever displays it), and a name that disagrees with its
MIME type or its magic bytes (an ``.jpg`` that starts with ``MZ``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from assist.core.models import Attachment, Severity
from assist.core.risk.markup import has_markup

EXECUTABLE = frozenset({
    "exe", "scr", "bat", "cmd", "com", "pif", "cpl", "msi", "msp", "msc", "dll", "sys", "drv",
    "js", "jse", "vbs", "vbe", "wsf", "wsh", "ws", "ps1", "psm1", "psd1", "hta", "lnk", "url",
    "reg", "inf", "scf", "gadget", "jar", "apk", "xapk", "apks", "ipa", "app", "dmg", "pkg",
    "sh", "run", "bin", "elf", "deb", "rpm", "appimage", "chm", "iqy", "slk", "settingcontent-ms",
})
ARCHIVE = frozenset({
    "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "tbz", "xz", "txz", "cab", "arj", "ace",
    "lzh", "z", "zst", "iso", "img", "vhd", "vhdx", "udf", "uue", "001",
})
MACRO_DOC = frozenset({"docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppsm",
                       "ppam", "sldm"})
LEGACY_OFFICE = frozenset({"doc", "dot", "xls", "xlt", "ppt", "pps", "rtf"})
IMAGE = frozenset({"jpg", "jpeg", "jpe", "png", "gif", "bmp", "webp", "heic", "heif", "tif",
                   "tiff", "avif"})
VIDEO = frozenset({"mp4", "mov", "m4v", "avi", "mkv", "3gp", "webm", "wmv", "flv"})
SAFE_DOC = frozenset({"pdf", "docx", "xlsx", "pptx", "txt", "csv", "ofd", "wps", "et"})
_DECOY = IMAGE | VIDEO | SAFE_DOC | LEGACY_OFFICE  # extensions a double-extension hides behind
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")

# magic prefix -> what the bytes really are
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "executable"), (b"\x7fELF", "executable"), (b"\xca\xfe\xba\xbe", "executable"),
    (b"\xcf\xfa\xed\xfe", "executable"), (b"dex\n", "executable"),
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"Rar!\x1a\x07", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"), (b"\x1f\x8b", "archive"), (b"BZh", "archive"),
    (b"\xfd7zXZ\x00", "archive"), (b"MSCF", "archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"), (b"%PDF", "pdf"), (b"{\\rtf", "ole"),
    (b"\xff\xd8\xff", "image"), (b"\x89PNG", "image"), (b"GIF8", "image"), (b"BM", "image"),
    (b"II*\x00", "image"), (b"MM\x00*", "image"),
)
# which magic kinds an extension may legitimately have
_EXPECTED = {**{e: {"image"} for e in IMAGE}, **{e: {"video", "image"} for e in VIDEO},
             "pdf": {"pdf"}, "docx": {"zip"}, "xlsx": {"zip"}, "pptx": {"zip"}, "ofd": {"zip"},
             **{e: {"ole"} for e in LEGACY_OFFICE}}
_MIME_EXECUTABLE = ("x-msdownload", "x-dosexec", "x-msdos-program", "x-executable",
                    "vnd.microsoft.portable-executable", "x-sh", "javascript", "vbscript",
                    "x-bat", "hta", "java-archive", "android.package-archive", "x-msi")


@dataclass(frozen=True)
class FileFinding:
    name: str
    severity: Severity
    code: str
    reason: str


def _magic_kind(head_b64: str | None) -> str | None:
    if not head_b64:
        return None
    try:
        head = base64.b64decode(head_b64, validate=False)[:16]
    except (binascii.Error, ValueError):
        return None
    if head[4:8] == b"ftyp":  # ISO media: HEIC/AVIF photos or MP4/MOV video
        return "image" if head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif") else "video"
    if head[:4] == b"RIFF":
        return "image" if head[8:12] == b"WEBP" else "video"
    return next((kind for prefix, kind in _MAGIC if head.startswith(prefix)), None)


def _extensions(name: str) -> list[str]:
    """Extensions from last to first, ignoring the padding that hides the real one."""
    parts = [p.strip().lower() for p in name.split(".")[1:]]
    return [p for p in reversed(parts) if p][:3]


def check_attachment(attachment: Attachment) -> FileFinding | None:
    """The most serious problem with one attachment, or None for a normal file."""
    name = attachment.name.strip().rstrip(".")
    label = "".join(c for c in name if c not in _BIDI)
    if label != name:
        return FileFinding(label, "block", "bidi_name",
                           "文件名里藏了反向显示字符,看起来的扩展名是假的")
    if has_markup(name):
        return FileFinding(name, "block", "markup_name",
                           "文件名里含网页代码/脚本,是在试探系统漏洞,不要打开或下载")
    exts = _extensions(name)
    ext = exts[0] if exts else ""
    magic = _magic_kind(attachment.head_b64)
    mime = attachment.mime.lower()
    if ext in EXECUTABLE and len(exts) > 1 and exts[1] in _DECOY:
        return FileFinding(name, "block", "double_extension",
                           f"双扩展名:看似 .{exts[1]},实际是可执行的 .{ext} 文件")
    if ("  " in name or "\u3000" in name) and ext in EXECUTABLE:
        return FileFinding(name, "block", "padded_name", "文件名用空格把真实的扩展名挤到后面")
    if magic == "executable" and ext not in EXECUTABLE:
        return FileFinding(name, "block", "magic_mismatch",
                           f"文件名是 .{ext or '?'},内容却是可执行程序")
    if ext in EXECUTABLE:
        return FileFinding(name, "block", "executable", f".{ext} 是程序/脚本,打开会在电脑上运行")
    if ext in _EXPECTED and any(m in mime for m in _MIME_EXECUTABLE):
        return FileFinding(name, "block", "mime_mismatch",
                           f"文件名是 .{ext},声明的类型却是程序({attachment.mime})")
    if ext in MACRO_DOC:
        return FileFinding(name, "block", "macro_doc", f".{ext} 是带宏的文档,宏可以运行木马")
    if ext in ARCHIVE:
        return FileFinding(name, "warn", "archive", f".{ext} 压缩包看不到里面是什么,常用来夹带木马")
    if magic and ext in _EXPECTED and magic not in _EXPECTED[ext]:
        return FileFinding(name, "warn", "magic_mismatch",
                           f"文件名是 .{ext},内容却不是这种格式")
    if ext in LEGACY_OFFICE:
        return FileFinding(name, "warn", "legacy_office",
                           f"旧版 .{ext} 文档可以带宏,不要点“启用内容/启用宏”")
    return None


def check_attachments(attachments: list[Attachment]) -> list[FileFinding]:
    return [f for f in map(check_attachment, attachments) if f is not None]
