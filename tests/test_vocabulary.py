"""Labels and codes have one source: the generated widget module and the QA page follow it."""

from __future__ import annotations

from pathlib import Path

from assist.core import vocabulary
from assist.core.models import RISK_TYPES

REPO = Path(__file__).parent.parent


def test_every_risk_type_and_severity_has_a_label() -> None:
    assert set(vocabulary.RISK_TYPE_LABELS) == set(RISK_TYPES)
    assert set(vocabulary.SEVERITY_LABELS) == {"block", "warn", "info"}


def test_a_link_only_warned_about_has_its_own_name() -> None:
    assert vocabulary.risk_label("phishing_link", "warn") == "站外链接"
    assert vocabulary.risk_label("phishing_link", "block") == "钓鱼链接"
    assert vocabulary.risk_label("impersonation", "warn") == "冒充平台"


def test_widget_module_is_generated_from_the_vocabulary() -> None:
    generated = (REPO / "widget" / "src" / "vocabulary.js").read_text(encoding="utf-8")
    assert generated == vocabulary.as_js_module(), (
        "widget/src/vocabulary.js is stale: python -m assist.core.vocabulary > widget/src/vocabulary.js")


def test_no_copies_of_the_labels_in_the_browser_code() -> None:
    sources = [*(REPO / "widget" / "src").glob("*.js"), REPO / "assist/service/static_qa/qa.js"]
    for path in sources:
        if path.name == "vocabulary.js":
            continue
        text = path.read_text(encoding="utf-8")
        for label in [*vocabulary.RISK_TYPE_LABELS.values(), *vocabulary.RISK_TYPE_WARN_LABELS.values(),
                      *vocabulary.QA_LABEL_NAMES.values(),
                      *vocabulary.FEEDBACK_ACTION_LABELS.values()]:
            for quoted in (f"'{label}'", f'"{label}"'):
                assert quoted not in text, f"{path.name} spells out {label!r}; take it from the vocabulary"
        assert "4401" not in text and "4403" not in text, f"{path.name} hard-codes close codes"
