"""One worker process of ``assist serve --workers N``: the app factory uvicorn calls in each child.

uvicorn's multiprocess manager binds the port once, starts N children (spawned, so each has its
own interpreter, GIL and embedder), restarts a child that dies (SIGKILL included) and stops them
all on SIGTERM/SIGINT, each finishing its lifespan (messages in flight, log queue). The parent
passes its resolved settings in the environment, so every worker serves exactly what the parent
validated (and the index the parent built once).
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from assist.core.settings import Settings

SETTINGS_ENV = "ASSIST_SERVE_SETTINGS"  # the parent's settings, as JSON
LOG_FORMAT = "%(asctime)s %(levelname)s [pid %(process)d] %(name)s: %(message)s"

log = logging.getLogger(__name__)


def settings_from_env() -> Settings:
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: workers are started by 'assist serve'")
    # model_validate_json, not Settings(): the parent already merged file, environment and flags.
    return Settings.model_validate_json(raw)


def configure_logging() -> None:
    """Service logs at INFO, each line naming the process (several write to one terminal)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, force=True)


def uvicorn_log_config() -> dict:
    """uvicorn's own log configuration with the process id in every line."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["fmt"] = "%(levelprefix)s [pid %(process)d] %(message)s"
    config["formatters"]["access"]["fmt"] = ('%(levelprefix)s [pid %(process)d] %(client_addr)s - '
                                             '"%(request_line)s" %(status_code)s')
    return config


def app_from_env() -> FastAPI:
    """The app of one worker: engine opened, warmed and frozen here, before serving."""
    from assist.core.blas import limit_blas_threads
    from assist.core.engine import open_or_build
    from assist.service.app import create_app
    from assist.service.auth import build_tokens
    from assist.service.server import HeaderDeadlineProtocol
    from assist.service.warmup import warm_and_freeze

    configure_logging()
    settings = settings_from_env()
    # The protocol class uvicorn's manager passes by reference: set this process's deadline.
    HeaderDeadlineProtocol.header_timeout = settings.header_timeout_s
    tokens, _ = build_tokens(settings.tokens, settings.dev, settings.data)
    limit_blas_threads(1)
    engine = open_or_build(settings)
    warm_and_freeze(engine)
    log.info("worker ready: index %s", engine.version)
    return create_app(settings, engine=engine, tokens=tokens)
