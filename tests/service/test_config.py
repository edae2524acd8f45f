"""Settings: every field documented, file < environment < flags, token lists from the env."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.core.engine import open_engine
from assist.core.retrieval import RetrievalConfig
from assist.core.risk import RiskConfig
from assist.core.settings import Settings, SettingsError, load_settings

DOC = (Path(__file__).parent.parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"| `{name}` |" in DOC
    assert name in ("retrieval", "risk") or f"`ASSIST_{name.upper()}`" in DOC


@pytest.mark.parametrize("name", sorted(RetrievalConfig.model_fields) + sorted(RiskConfig.model_fields))
def test_every_retrieval_and_risk_setting_is_documented(name: str) -> None:
    assert f"| `{name}` |" in DOC


def test_risk_thresholds_reach_the_detector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            small_index: Path, embedder) -> None:
    """``ASSIST_RISK__*`` flows from the environment into the engine the service runs."""
    monkeypatch.setenv("ASSIST_RISK__SEMANTIC_MIN_SCORE", "0.9")
    settings = load_settings(index=small_index, knowledge=tmp_path / "unused")
    assert settings.risk.semantic_min_score == 0.9
    engine = open_engine(settings.index, embedder, settings.retrieval, settings.risk)
    assert engine.risk_detector.config.semantic_min_score == 0.9


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "assist.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\ntokens = ["abcdefgh:agent"]\n'
                      '[retrieval]\ntop_k = 5\n', encoding="utf-8")
    monkeypatch.setenv("ASSIST_CONFIG", str(config))
    monkeypatch.setenv("ASSIST_PORT", "9002")
    monkeypatch.setenv("ASSIST_ORIGINS", "https://*.taobao.com, https://*.jd.com")
    settings = load_settings(port=None)
    assert (settings.host, settings.port, settings.tokens) == ("0.0.0.0", 9002, ["abcdefgh:agent"])
    assert settings.retrieval.top_k == 5
    assert settings.origins == ["https://*.taobao.com", "https://*.jd.com"]
    assert load_settings(port=9003).port == 9003
    monkeypatch.setenv("ASSIST_TOKENS", "tok1-secret:agent,tok2-secret:admin")
    assert load_settings().tokens == ["tok1-secret:agent", "tok2-secret:admin"]


def test_bad_config_says_what(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "assist.toml"
    config.write_text("prot = 1\n", encoding="utf-8")
    monkeypatch.setenv("ASSIST_CONFIG", str(config))
    with pytest.raises(SettingsError, match="unknown setting .prot."):
        load_settings()
    config.write_text("port = [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read config file"):
        load_settings()
