"""Settings as data: defaults < config file (ASSIST_CONFIG, TOML) < environment (ASSIST_*).

Every setting is documented in docs/configuration.md (a test checks that).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from assist.core.retrieval import RetrievalConfig
from assist.core.risk.config import RiskConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSIST_", env_nested_delimiter="__",
                                      extra="forbid")

    knowledge: Path = Field(Path("knowledge"), description="Knowledge folder (YAML entries).")
    index: Path = Field(Path("index"), description="Index root directory.")
    data: Path = Field(Path("data"), description="Data directory (SQLite log, dev tokens).")
    embedder: str = Field("use", description="'use' or 'sentence-transformers:/model/dir'.")
    library: bool = Field(default=True, description="Link the folder's scripts to the standard question "
                                            "library at build time (assist/core/library).")
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig,
                                       description="Retrieval tuning (see RetrievalConfig).")
    risk: RiskConfig = Field(default_factory=RiskConfig,
                             description="Risk detector thresholds (see docs/risk.md).")

    # The service (assist serve); see docs/configuration.md.
    host: str = Field("127.0.0.1", description="Address the service listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port the service listens on.")
    tokens: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Access tokens as 'TOKEN:role' or 'sha256:HEX:role' (role agent|admin|qa); "
                    "comma-separated in the environment.")
    dev: bool = Field(True, description="With no tokens configured, generate an admin dev token "
                                        "(kept in the data directory) and print it at start-up.")
    origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser Origins allowed on /ws besides the service's own (glob patterns).")
    log_store: str = Field("", description="Suggestion log: '' (SQLite in the data directory), "
                                           "'sqlite:///path.db' or 'postgresql://...'.")
    log_spool_dir: Path | None = Field(None, description="Where log records wait while the store cannot "
                                                         "write (default: <data>/spool; falls back to "
                                                         "the system temp directory).")
    log_spool_max_mb: float = Field(256.0, gt=0, description="Largest log spool (MiB); beyond it new "
                                                             "messages are answered but not logged.")
    log_max_held: int = Field(10000, ge=0, description="Log records held in memory when no spool "
                                                       "directory can take them.")
    log_max_queued: int = Field(50000, ge=1, description="Log records waiting for a store that "
                                                         "falls behind; beyond it new messages "
                                                         "are answered but not logged.")
    widget_dir: Path | None = Field(None, description="Folder served at /widget/ "
                                                      "(default: the widget installed with the package).")
    max_text_bytes: int = Field(4096, ge=1, description="Largest customer text accepted (UTF-8 bytes).")
    max_attachments: int = Field(10, ge=0, description="Most attachments per message.")
    rate_per_s: float = Field(50.0, gt=0, description="Frames per second allowed per connection.")
    rate_burst: int = Field(100, ge=1, description="Burst of frames allowed above the rate.")
    heartbeat_s: float = Field(20.0, gt=0, description="Seconds between server pings; a connection "
                                                       "silent for 3 intervals is dropped.")
    send_queue: int = Field(512, ge=1, description="Frames queued to a slow client before it is dropped.")
    batch_wait_ms: float = Field(0.0, ge=0, description="How long the first message of an idle batcher "
                                                         "waits for others (0: batches form from the "
                                                         "backlog while the previous one runs).")
    batch_max: int = Field(64, ge=1, description="Most messages embedded in one call.")
    cache_size: int = Field(20000, ge=0, description="Embeddings of repeated texts kept (LRU).")
    result_cache_size: int = Field(4096, ge=0, description="Whole results of repeated messages kept "
                                                           "(LRU, per index version; 0 disables).")

    # Limits against greedy or hostile clients; see docs/configuration.md "Limits".
    public_origin: str = Field("", description="The service's public origin (scheme://host[:port]) "
                                               "as browsers see it, for the same-origin check on /ws.")
    max_body_bytes: int = Field(262144, ge=1024, description="Largest HTTP request body (413 beyond).")
    header_timeout_s: float = Field(10.0, gt=0, description="Seconds a client may take to send a "
                                                            "request's headers (then closed).")
    body_timeout_s: float = Field(10.0, gt=0, description="Seconds a client may take to send a "
                                                          "request body (408 then).")
    keep_alive_s: float = Field(5.0, gt=0, description="Idle seconds before a keep-alive HTTP "
                                                       "connection is closed.")
    max_connections: int = Field(4096, ge=1, description="Connections and requests in progress "
                                                         "before new requests get 503.")
    max_connections_per_token: int = Field(64, ge=1, description="Websockets open per token.")
    max_connections_per_address: int = Field(512, ge=1, description="Websockets open per client "
                                                                    "address.")
    token_rate_per_s: float = Field(50.0, gt=0, description="Frames per second per token, all its "
                                                             "sockets together.")
    token_rate_burst: int = Field(100, ge=1, description="Burst allowed above token_rate_per_s.")
    token_queue: int = Field(64, ge=1, description="Messages of one token waiting for the embedder "
                                                   "before further ones are refused (busy).")
    batch_max_per_token: int = Field(8, ge=1, description="Most messages of one token in one "
                                                           "embedder batch (the rest wait their turn).")
    auth_fail_burst: int = Field(20, ge=1, description="Failed token attempts per address before "
                                                       "it is throttled.")
    auth_fail_per_s: float = Field(0.5, gt=0, description="Failed attempts per second an address "
                                                          "gets back while throttled.")
    # Scale-out (docs/configuration.md, "Several processes and hosts").
    workers: int = Field(1, ge=1, description="Service processes on one port (more than 1 needs redis).")
    redis: str = Field("", description="Redis URL joining processes and hosts into one service "
                                       "('' = this process alone).")
    redis_prefix: str = Field("assist", min_length=1,
                              description="Prefix of every Redis channel and key (one per service).")
    ack_after_write: bool | None = Field(None, description="Acknowledge a message only once its log "
                                                           "record is committed (survives a killed "
                                                           "process); default: on with redis.")
    index_poll_s: float = Field(5.0, gt=0, description="With redis: seconds between checks that this "
                                                       "process serves the current index version.")

    @property
    def acks_after_write(self) -> bool:
        """``ack_after_write``, defaulting to on when processes are joined through Redis."""
        return bool(self.redis) if self.ack_after_write is None else self.ack_after_write

    @field_validator("tokens", "origins", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

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
        path = os.environ.get("ASSIST_CONFIG")
        if not path:
            return {}
        try:
            return tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read config file {path}: {exc}") from exc

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


class SettingsError(ValueError):
    """Settings that cannot be used, one line per problem naming the setting and its sources."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from file and environment, with CLI overrides (None means 'not given')."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(error: ValidationError) -> str:
    """'setting X: problem (from ...)' lines instead of pydantic's report."""
    config = os.environ.get("ASSIST_CONFIG")
    sources = "the command line, ASSIST_* variables" + (f" or {config}" if config else "")
    lines = []
    for err in error.errors():
        name = ".".join(str(part) for part in err["loc"])
        env = "ASSIST_" + "__".join(str(part) for part in err["loc"]).upper()
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown setting {name!r} (in {sources}); see docs/configuration.md")
        else:
            lines.append(f"setting {name!r} ({env}): {err['msg']}, got {err.get('input')!r}")
    return "invalid settings:\n  " + "\n  ".join(lines)
