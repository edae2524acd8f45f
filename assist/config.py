"""Settings as data: defaults < config file (ASSIST_CONFIG, TOML) < environment (ASSIST_*).

Every setting is documented in docs/configuration.md (a test checks that).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assist.retrieval import RetrievalConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSIST_", env_nested_delimiter="__",
                                      extra="forbid")

    knowledge: Path = Field(Path("knowledge"), description="Knowledge folder (YAML entries).")
    index: Path = Field(Path("index"), description="Index root directory.")
    data: Path = Field(Path("data"), description="Data directory (SQLite log, dev tokens).")
    embedder: str = Field("use", description="'use' or 'sentence-transformers:/model/dir'.")
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig,
                                       description="Retrieval tuning (see RetrievalConfig).")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by ASSIST_CONFIG, if any."""

    def __call__(self) -> dict[str, Any]:
        import os

        path = os.environ.get("ASSIST_CONFIG")
        if not path:
            return {}
        try:
            return tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read config file {path}: {exc}") from exc

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


def load_settings(**overrides: Any) -> Settings:
    """Settings from file and environment, with CLI overrides (None means 'not given')."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
