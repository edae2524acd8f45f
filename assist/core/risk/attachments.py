"""Files buyers send: judged by name, declared MIME type and, when given, the first bytes.

No single field is trusted: the name is read as Windows and phones read it (look-alike and
styled letters folded, trailing dots and spaces dropped, invisible characters noticed), the
declared MIME type and the magic bytes are classified on their own, and the most dangerous of
the three wins; a name that disagrees with its type or bytes is a finding in itself.

Photos and videos are normal (buyers show defects); plain PDFs, text files and Office Open XML
files are fine. Programs of every platform, packages and installers (Android/iOS, Java, MSI,
disk images), scripts and macro documents are ``block``; archives (they hide what is inside),
legacy Office files, web pages and names that cannot be read are ``warn``.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from assist.core.models import Attachment, Severity
from assist.core.risk.markup import has_markup
from assist.core.risk.text import CONFUSABLES

EXECUTABLE = frozenset({
    # Windows programs, libraries, installers, shortcuts and shell helpers
    "exe", "scr", "com", "pif", "cpl", "msi", "msp", "mst", "msc", "msix", "msixbundle", "appx",
    "appxbundle", "appref-ms", "application", "dll", "ocx", "sys", "drv", "efi", "lnk", "url",
    "reg", "inf", "scf", "gadget", "chm", "hlp", "iqy", "slk", "xll", "settingcontent-ms",
    "library-ms", "searchconnector-ms", "diagcab", "cab",
    # mobile and cross-platform packages
    "apk", "xapk", "apks", "aab", "ipa", "jar", "jnlp", "mobileconfig",
    # macOS and Linux programs and packages
    "app", "dmg", "pkg", "mpkg", "command", "tool", "workflow", "dylib", "kext", "run", "bin",
    "elf", "so", "ko", "out", "deb", "rpm", "appimage", "snap", "flatpak",
})
SCRIPT = frozenset({
    "bat", "cmd", "js", "jse", "mjs", "vbs", "vbe", "vb", "wsf", "wsh", "ws", "wsc", "sct", "ps1",
    "psm1", "psd1", "ps1xml", "hta", "sh", "bash", "zsh", "csh", "ksh", "fish", "py", "pyw",
    "pl", "rb", "php", "phtml", "lua", "applescript", "scpt", "au3", "ahk",
})
# ELF builds for routers and cameras are named after their CPU (x.arm7, boatnet.mips).
CPU_ARCH = frozenset({
    "arm", "arm4", "arm5", "arm6", "arm7", "arm64", "armv4l", "armv5l", "armv6l", "armv7l",
    "aarch64", "mips", "mipsel", "mpsl", "mips64", "m68k", "ppc", "ppc64", "powerpc", "sh4",
    "spc", "sparc", "x86", "x86_64", "x64", "i386", "i486", "i586", "i686", "amd64", "arc",
    "riscv", "riscv64", "s390x",
})
ARCHIVE = frozenset({
    "zip", "zipx", "rar", "7z", "tar", "gz", "tgz", "bz2", "tbz", "xz", "txz", "arj", "ace",
    "lzh", "lha", "z", "zst", "lz", "lzma", "iso", "img", "vhd", "vhdx", "udf", "uue", "xxe",
    "001", "r00", "r01", "r02", "cpio", "sit", "sitx",
})
MACRO_DOC = frozenset({"docm", "dotm", "xlsm", "xltm", "xlam", "xla", "xlsb", "pptm", "potm",
                       "ppsm", "ppam", "sldm", "one", "onepkg"})
LEGACY_OFFICE = frozenset({"doc", "dot", "xls", "xlt", "ppt", "pps", "pot", "rtf", "wbk"})
WEB_PAGE = frozenset({"html", "htm", "shtml", "xhtml", "mht", "mhtml", "svg", "svgz", "xht"})
IMAGE = frozenset({"jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp", "webp", "heic", "heif",
                   "tif", "tiff", "avif"})
VIDEO = frozenset({"mp4", "mov", "m4v", "avi", "mkv", "3gp", "webm", "wmv", "flv"})
AUDIO = frozenset({"mp3", "m4a", "aac", "wav", "amr", "ogg", "flac", "silk"})
SAFE_DOC = frozenset({"pdf", "docx", "xlsx", "pptx", "txt", "csv", "ofd", "wps", "et", "dps",
                      "md", "json", "log", "xml"})
_DECOY = IMAGE | VIDEO | AUDIO | SAFE_DOC | LEGACY_OFFICE  # what a double extension hides behind
_RUNS = EXECUTABLE | SCRIPT | CPU_ARCH

# Characters that change how a name is displayed without being visible themselves.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_DOTS = str.maketrans({"\u3002": ".", "\uff61": ".", "\u2024": ".", "\ufe52": ".", "\u0701": ".",
                       "\u0702": "."})

# magic prefix -> what the bytes really are
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "executable"), (b"\x7fELF", "executable"), (b"\xca\xfe\xba\xbe", "executable"),
    (b"\xcf\xfa\xed\xfe", "executable"), (b"\xce\xfa\xed\xfe", "executable"),
    (b"\xfe\xed\xfa\xcf", "executable"), (b"\xfe\xed\xfa\xce", "executable"),
    (b"dex\n", "executable"), (b"#!", "script"), (b"L\x00\x00\x00\x01\x14\x02\x00", "executable"),
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"Rar!\x1a\x07", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"), (b"\x1f\x8b", "archive"), (b"BZh", "archive"),
    (b"\xfd7zXZ\x00", "archive"), (b"MSCF", "archive"), (b"\x28\xb5\x2f\xfd", "archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"), (b"%PDF", "pdf"), (b"{\\rtf", "ole"),
    (b"\xff\xd8\xff", "image"), (b"\x89PNG", "image"), (b"GIF8", "image"), (b"BM", "image"),
    (b"II*\x00", "image"), (b"MM\x00*", "image"),
)
# which magic kinds an extension may legitimately have
_EXPECTED = {**{e: {"image"} for e in IMAGE}, **{e: {"video", "image"} for e in VIDEO},
             "pdf": {"pdf"}, "docx": {"zip"}, "xlsx": {"zip"}, "pptx": {"zip"}, "ofd": {"zip"},
             **{e: {"ole"} for e in LEGACY_OFFICE}}

# Declared MIME types by what they mean (substring match on the lower-cased subtype).
_MIME_PROGRAM = ("x-msdownload", "x-dosexec", "x-msdos-program", "x-executable", "x-sharedlib",
                 "x-pie-executable", "x-elf", "x-mach-binary", "x-mach-o", "x-coff",
                 "portable-executable", "x-msi", "x-ms-installer", "android.package-archive",
                 "java-archive", "x-java-jnlp", "x-apple-diskimage", "x-itunes-ipa", "x-ios-app",
                 "x-debian-package", "x-deb", "x-rpm", "redhat-package", "x-ms-shortcut",
                 "x-mswinurl", "x-ms-application", "x-appx", "x-msix", "x-object",
                 "x-ms-installer", "vnd.microsoft.portable-executable", "x-silverlight")
_MIME_SCRIPT = ("javascript", "ecmascript", "vbscript", "x-sh", "shellscript", "x-csh",
                "x-bat", "x-msdos-batch", "x-python", "x-perl", "x-php", "x-ruby",
                "powershell", "hta", "x-applescript")
_MIME_MACRO = ("macroenabled",)
_MIME_ARCHIVE = ("zip", "x-rar", "vnd.rar", "x-7z", "x-tar", "gzip", "x-bzip", "x-xz",
                 "x-iso9660", "x-cd-image", "x-lzh", "x-ace", "ms-cab", "zstd", "x-lzma",
                 "x-arj", "x-compress", "x-archive")
_MIME_LEGACY = ("msword", "vnd.ms-excel", "vnd.ms-powerpoint", "rtf", "x-ole-storage")
_MIME_WEB = ("text/html", "xhtml", "svg", "message/rfc822", "multipart/related")

_RANK: dict[Severity, int] = {"info": 0, "warn": 1, "block": 2}


@dataclass(frozen=True)
class FileFinding:
    name: str
    severity: Severity
    code: str
    reason: str


@dataclass(frozen=True)
class ReadName:
    """A file name as the operating system will treat it."""

    shown: str  # what the agent sees (invisible characters removed)
    effective: str  # folded: look-alikes to ASCII, trailing dots/spaces dropped, lower case
    bidi: bool
    invisible: bool  # zero-width or other format characters
    styled: bool  # full-width or mathematical-alphabet letters
    lookalike: bool  # Cyrillic/Greek letters drawn like Latin ones
    trailing: bool  # dots or spaces after the extension (Windows drops them)


def read_name(raw: str) -> ReadName:
    bidi = any(c in _BIDI for c in raw)
    invisible = any(unicodedata.category(c) == "Cf" and c not in _BIDI for c in raw)
    shown = "".join(c for c in raw if unicodedata.category(c) != "Cf")
    folded = unicodedata.normalize("NFKC", shown.translate(_DOTS))
    styled = any(c != n and n.isascii() and n.isalpha()
                 for c, n in ((c, unicodedata.normalize("NFKC", c)) for c in shown))
    confused = folded.translate(CONFUSABLES)
    lookalike = confused != folded and bool(re.search(r"[a-z]", confused, re.I))
    trimmed = confused.rstrip(". \t\u3000")
    # "setup.exe." or "setup.exe  ": Windows drops what trails the extension.
    trailing = confused.rstrip(" \t\u3000") != trimmed or (
        confused != confused.rstrip() and "." in trimmed)
    return ReadName(shown, trimmed.strip().lower(), bidi, invisible, styled, lookalike, trailing)


def _extensions(name: str) -> list[str]:
    """Extensions from last to first (at most three), ignoring padding around the dots."""
    parts = [p.strip() for p in name.split(".")[1:]]
    return [p for p in reversed(parts) if p and len(p) <= 20 and " " not in p][:3]


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


def mime_kind(mime: str) -> str | None:
    """What a declared MIME type says the file is: program, script, macro, archive, ..."""
    mime = mime.strip().lower()
    if not mime:
        return None
    for kind, needles in (("macro", _MIME_MACRO), ("program", _MIME_PROGRAM),
                          ("script", _MIME_SCRIPT), ("web", _MIME_WEB),
                          ("archive", _MIME_ARCHIVE), ("legacy", _MIME_LEGACY)):
        if any(n in mime for n in needles):
            return kind
    return None


def name_kind(ext: str) -> str | None:
    if ext in EXECUTABLE or ext in CPU_ARCH:
        return "program"
    if ext in SCRIPT:
        return "script"
    if ext in MACRO_DOC:
        return "macro"
    if ext in ARCHIVE:
        return "archive"
    if ext in WEB_PAGE:
        return "web"
    if ext in LEGACY_OFFICE:
        return "legacy"
    return None


_KIND_TEXT = {"program": "可执行程序/安装包", "script": "脚本", "macro": "带宏的文档",
              "archive": "压缩包", "web": "网页文件", "legacy": "旧版 Office 文档"}
_DANGEROUS = {"program", "script", "macro"}
_KNOWN = IMAGE | VIDEO | AUDIO | SAFE_DOC | _RUNS | ARCHIVE | MACRO_DOC | LEGACY_OFFICE | WEB_PAGE


def check_attachment(attachment: Attachment) -> FileFinding | None:
    """The most serious problem with one attachment, or None for a normal file."""
    findings = list(_findings(attachment))
    if not findings:
        return None
    return max(findings, key=lambda f: _RANK[f.severity])  # first of the most severe


def _findings(attachment: Attachment) -> Iterator[FileFinding]:
    raw = attachment.name
    name = read_name(raw)
    shown = name.shown.strip() or raw
    if name.bidi:
        yield FileFinding(shown, "block", "bidi_name",
                          "文件名里藏了反向显示字符,看起来的扩展名是假的")
    if has_markup(raw):
        yield FileFinding(shown, "block", "markup_name",
                          "文件名里含网页代码/脚本,是在试探系统漏洞,不要打开或下载")
    exts = _extensions(name.effective)
    ext = exts[0] if exts else ""
    by_name = name_kind(ext)
    by_mime = mime_kind(attachment.mime)
    magic = _magic_kind(attachment.head_b64)
    runs = by_name in ("program", "script")
    if runs and len(exts) > 1 and exts[1] in _DECOY:
        yield FileFinding(shown, "block", "double_extension",
                          f"双扩展名:看似 .{exts[1]},实际是可执行的 .{ext} 文件")
    if runs and ("  " in shown or "\u3000" in shown):
        yield FileFinding(shown, "block", "padded_name", "文件名用空格把真实的扩展名挤到后面")
    if name.invisible or name.lookalike or name.trailing:
        what = "隐形字符" if name.invisible else "形近字母" if name.lookalike else "结尾的点或空格"
        yield FileFinding(shown, "block" if by_name in _DANGEROUS else "warn", "disguised_name",
                          f"文件名用{what}伪装,系统实际按 .{ext or '?'} 处理")
    if name.styled:
        yield FileFinding(shown, "block" if by_name in _DANGEROUS else "warn", "styled_name",
                          "文件名用全角/花体字母伪装,正常文件不会这样命名")
    if magic in ("executable", "script") and by_name not in ("program", "script"):
        yield FileFinding(shown, "block", "magic_mismatch",
                          f"文件名是 .{ext or '?'},内容却是可执行程序")
    if by_name in ("program", "script"):
        what = "程序/安装包" if by_name == "program" else "脚本"
        yield FileFinding(shown, "block", "executable", f".{ext} 是{what},打开会在设备上运行")
    if by_mime in _DANGEROUS and by_name != by_mime:
        declared = _KIND_TEXT[by_mime]
        code = "mime_mismatch" if ext in _KNOWN else "mime_executable"
        looks = f"文件名是 .{ext}" if ext else "文件名没有扩展名"
        yield FileFinding(shown, "block", code,
                          f"{looks},声明的类型却是{declared}({attachment.mime})")
    if by_name == "macro":
        yield FileFinding(shown, "block", "macro_doc", f".{ext} 是带宏的文档,宏可以运行木马")
    if by_name == "archive" or by_mime == "archive":
        yield FileFinding(shown, "warn", "archive",
                          f".{ext or '?'} 压缩包/镜像看不到里面是什么,常用来夹带木马")
    if magic and ext in _EXPECTED and magic not in _EXPECTED[ext]:
        yield FileFinding(shown, "warn", "magic_mismatch", f"文件名是 .{ext},内容却不是这种格式")
    if by_name == "web" or by_mime == "web":
        yield FileFinding(shown, "warn", "web_page",
                          "网页文件可以伪装成登录/付款页面,不要打开,更不要在里面输入账号密码")
    if by_name == "legacy" or by_mime == "legacy":
        yield FileFinding(shown, "warn", "legacy_office",
                          f"旧版 .{ext or 'doc'} 文档可以带宏,不要点“启用内容/启用宏”")
    if not ext and by_mime is None and not _is_media(attachment.mime, magic):
        yield FileFinding(shown, "warn", "no_extension",
                          "文件没有扩展名,看不出是什么类型,可能是程序,不要打开")


def _is_media(mime: str, magic: str | None) -> bool:
    mime = mime.strip().lower()
    return magic in ("image", "video") or mime.startswith(("image/", "video/", "audio/"))


_NAMED_KINDS = EXECUTABLE | SCRIPT | CPU_ARCH | MACRO_DOC | ARCHIVE
_NAMED = re.compile(
    r"[\w\u4e00-\u9fff()\[\]【】\-.]{0,60}?[\w\u4e00-\u9fff)\]】]\.(?:"
    + "|".join(sorted((re.escape(e) for e in _NAMED_KINDS - {"com", "app", "run", "bin", "out",
                                                               "tool", "command", "url", "z"}),
                      key=len, reverse=True))
    + r")(?![a-z0-9_.])", re.IGNORECASE)


def files_named_in(text: str) -> list[tuple[str, tuple[int, int]]]:
    """File names with a dangerous extension written in the message ("清单.exe 你打开看下").

    Scammers name the file in the text when the chat bridge does not pass attachments, or to
    talk the agent into opening the file they sent. ``text`` is the original message (its
    spaces end a name).
    """
    return [(m.group(0), m.span()) for m in _NAMED.finditer(text)]


def check_attachments(attachments: list[Attachment]) -> list[FileFinding]:
    return [f for f in map(check_attachment, attachments) if f is not None]
