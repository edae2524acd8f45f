"""``assist serve``, ``assist reindex`` and ``assist token``: the service's commands."""

from __future__ import annotations

import json
import logging
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path

import click

from assist.cli.common import data_option, index_option, knowledge_option, setting_option, settings_from
from assist.core.engine import build_for, open_or_build
from assist.core.index.load import IndexLoadError
from assist.core.knowledge import KnowledgeError

log = logging.getLogger(__name__)


@click.command()
@knowledge_option
@index_option
@data_option
@setting_option("host")
@setting_option("port")
@setting_option("log_store")
@setting_option("workers")
@setting_option("redis")
def serve(knowledge: Path | None, index: Path | None, data: Path | None, host: str | None,
          port: int | None, log_store: str | None, workers: int | None, redis: str | None) -> None:
    """Run the suggestion service (websocket /ws, HTTP API, widget) under uvicorn."""
    import uvicorn

    from assist.core.blas import limit_blas_threads
    from assist.logstore import open_log_store
    from assist.service.app import create_app
    from assist.service.auth import AuthConfigError, build_tokens
    from assist.service.server import HeaderDeadlineProtocol, build_server, server_options
    from assist.service.warmup import warm_and_freeze
    from assist.service.worker import SETTINGS_ENV, configure_logging, uvicorn_log_config

    try:
        settings = settings_from(knowledge=knowledge, index=index, data=data, host=host, port=port,
                                 log_store=log_store, workers=workers, redis=redis)
        if settings.workers > 1 and not settings.redis:
            raise ValueError(f"--workers {settings.workers} needs --redis URL (ASSIST_REDIS): the "
                             "workers share fan-out and index versions through Redis")
        tokens, dev = build_tokens(settings.tokens, settings.dev, settings.data)
        limit_blas_threads(1)  # before the engine exists; see assist/core/blas.py
        engine = open_or_build(settings)  # with workers: built once here, opened by each of them
        # Open the log store once here, so that a missing, read-only or unreachable store stops
        # start-up with one line naming it (LogStoreError), not a traceback from the lifespan.
        open_log_store(settings.log_store, settings.data).close()
        if settings.workers == 1:
            warm_and_freeze(engine)
    except OSError as exc:  # a data or index path that cannot be created or written
        where = f" {exc.filename}" if exc.filename else ""
        raise click.ClickException(f"cannot use{where}: {exc.strerror or exc}") from exc
    except (KnowledgeError, IndexLoadError, AuthConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    base = f"http://{settings.host}:{settings.port}"
    if dev:
        click.echo(f"dev mode: no tokens configured; admin token (kept in {settings.data / 'dev-token'}):\n"
                   f"  {dev}\n  agent console: {base}/agent?token={dev}", err=True)
    click.echo(f"serving index {engine.version} on {base} (API docs at {base}/docs)"
               + (f" with {settings.workers} workers" if settings.workers > 1 else "")
               + (f", Redis {settings.redis_prefix!r} prefix" if settings.redis else ""), err=True)
    if settings.workers == 1:
        overrides = {}
        if settings.redis:  # several processes write to the same terminal: name them
            configure_logging()
            overrides["log_config"] = uvicorn_log_config()
        # uvicorn with the service's limits (header deadline, keep-alive, concurrency, frame
        # size) and a shutdown that closes websockets with 1001; see assist/service/server.py.
        build_server(create_app(settings, engine=engine, tokens=tokens), settings, **overrides).run()
        return
    del engine  # each worker opens its own
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    configure_logging()
    # uvicorn's manager spawns the workers and restarts a killed one; each child builds its app
    # with app_from_env (which also sets the header deadline of the protocol class there).
    options = server_options(settings)
    options.pop("http")
    uvicorn.run("assist.service.worker:app_from_env", factory=True, workers=settings.workers,
                log_config=uvicorn_log_config(), http=HeaderDeadlineProtocol, **options)


@click.command()
@knowledge_option
@index_option
@data_option
@click.option("--url", envvar="ASSIST_URL", default=None,
              help="A running service to hot-swap (it rebuilds itself) [env ASSIST_URL].")
@click.option("--token", envvar="ASSIST_TOKEN", default=None,
              help="Admin token for --url [env ASSIST_TOKEN; default: the dev token in the data dir].")
def reindex(knowledge: Path | None, index: Path | None, data: Path | None, url: str | None,
            token: str | None) -> None:
    """Rebuild the index from the knowledge folder (with --url: in the running service, hot)."""
    settings = settings_from(knowledge=knowledge, index=index, data=data)
    if url is None:
        try:
            summary = build_for(settings)
        except KnowledgeError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(str(summary))
        return
    if token is None and (settings.data / "dev-token").is_file():
        token = (settings.data / "dev-token").read_text(encoding="utf-8").strip()
    request = urllib.request.Request(url.rstrip("/") + "/api/admin/reindex", method="POST",
                                     headers={"Authorization": f"Bearer {token or ''}"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            result = json.load(response)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        if exc.code == 422:
            errors = json.loads(body).get("errors", [])
            raise click.ClickException("knowledge folder has errors; the old index keeps serving:\n  "
                                       + "\n  ".join(errors)) from exc
        raise click.ClickException(f"{url} answered {exc.code}: {body}") from exc
    except urllib.error.URLError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc.reason}") from exc
    click.echo(f"index {result['index_version']} live ({result['entries']} entries, "
               f"{'unchanged' if result['unchanged'] else 'rebuilt'} in {result['seconds']:.1f}s)")


@click.command()
@click.argument("role", type=click.Choice(["agent", "admin", "qa"]))
def token(role: str) -> None:
    """Generate a token for ROLE; prints the secret and the hashed line for the config file."""
    from assist.service.auth import hash_token

    secret = secrets.token_urlsafe(24)
    click.echo(f"token:        {secret}\nconfig entry: sha256:{hash_token(secret)}:{role}")


def register(group: click.Group) -> None:
    for command in (serve, reindex, token):
        group.add_command(command)
