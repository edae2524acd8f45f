"""Attachment checks: names, MIME types and magic bytes."""

from __future__ import annotations

import base64

import pytest

from assist.core.models import Attachment
from assist.core.risk.attachments import check_attachment


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


MZ = b64(b"MZ\x90\x00" + b"\x00" * 12)
PK = b64(b"PK\x03\x04\x14\x00\x06\x00")
JPG = b64(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
PNG = b64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
HEIC = b64(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00")
MP4 = b64(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00")
PDF = b64(b"%PDF-1.7\n")
OLE = b64(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


@pytest.mark.parametrize("name, mime, head, code, severity", [
    ("采购清单.xls.exe", "application/x-msdownload", MZ, "double_extension", "block"),
    ("问题照片.png.exe", "", None, "double_extension", "block"),
    ("发票.pdf.js", "application/javascript", None, "double_extension", "block"),
    ("清单.xlsx                    .exe", "", None, "double_extension", "block"),
    ("订单明细                        .exe", "", None, "padded_name", "block"),
    ("订单\u202egpj.exe", "", MZ, "bidi_name", "block"),
    ("截图.scr", "", None, "executable", "block"),
    ("setup.msi", "", OLE, "executable", "block"),
    ("查看器.apk", "", None, "executable", "block"),
    ("run.ps1", "text/plain", None, "executable", "block"),
    ("快捷方式.lnk", "", None, "executable", "block"),
    ("IMG_2231.jpg", "image/jpeg", MZ, "magic_mismatch", "block"),
    ("买家秀.jpeg", "application/x-msdownload", None, "mime_mismatch", "block"),
    ("报价单.xlsm", "", PK, "macro_doc", "block"),
    ("合同.docm", "", PK, "macro_doc", "block"),
    ("款式.zip", "application/zip", PK, "archive", "warn"),
    ("款式.rar", "", None, "archive", "warn"),
    ("款式.7z", "", None, "archive", "warn"),
    ("照片.heic", "image/heic", PK, "magic_mismatch", "warn"),
    ("采购明细.xls", "application/vnd.ms-excel", OLE, "legacy_office", "warn"),
    ("‹img src=x onerror=alert(1)>.jpg", "image/jpeg", JPG, "markup_name", "block"),
    ("<script>alert(1)</script>.png", "image/png", PNG, "markup_name", "block"),
    ("a&lt;svg onload=x&gt;.jpg", "image/jpeg", JPG, "markup_name", "block"),
])
def test_dangerous_files(name: str, mime: str, head: str | None, code: str, severity: str) -> None:
    finding = check_attachment(Attachment(name=name, mime=mime, size=1000, head_b64=head))
    assert finding is not None and (finding.code, finding.severity) == (code, severity)
    assert finding.reason


@pytest.mark.parametrize("name, mime, head", [
    ("IMG_20240512.jpg", "image/jpeg", JPG),
    ("破损.PNG", "image/png", PNG),
    ("IMG_4421.HEIC", "image/heic", HEIC),
    ("异响.mp4", "video/mp4", MP4),
    ("实物图.jpg", "image/jpeg", None),
    ("开票信息.pdf", "application/pdf", PDF),
    ("开票资料.docx", "", PK),
    ("数量.xlsx", "", PK),
    ("说明.txt", "text/plain", None),
    ("no-extension", "image/jpeg", None),  # a photo the bridge sent without a name
    ("photo.webp", "image/webp", b64(b"RIFF\x24\x00\x00\x00WEBPVP8 ")),
    ("坏的.jpg", "image/jpeg", "not base64 at all!!"),
    ("身高<165>.jpg", "image/jpeg", JPG),
])
def test_photos_videos_and_plain_documents_are_normal(name: str, mime: str, head: str | None) -> None:
    assert check_attachment(Attachment(name=name, mime=mime, size=1000, head_b64=head)) is None


def test_detector_reports_the_file_name_as_evidence(detector) -> None:
    risks = detector.rule_risks("这是订单清单", [Attachment(name="清单.xls.exe", head_b64=MZ)])
    (risk,) = risks
    assert (risk.type, risk.severity, risk.evidence) == ("malicious_file", "block", "清单.xls.exe")
    assert "购物车" in risk.reply
