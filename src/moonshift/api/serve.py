"""``moonshift serve``: the API on uvicorn, optionally with the scheduler in the same process
(the single-box setup). SIGTERM or Ctrl-C stop it gracefully: requests in flight finish (up
to GRACE seconds), then the scheduler pauses its checkpointing runs for the next daemon."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from moonshift.api.factory import create_app
from moonshift.app import Moonshift, SchedulerConfig

GRACE_SECONDS = 10
DAEMON_STOP_SECONDS = 120
_TOKEN = re.compile(r"([?&]token=)[^&\s]*")


class RedactTokens(logging.Filter):
    """A key in a URL (``?token=``, the calendar feed) never reaches the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def serve(
    app: Moonshift,
    *,
    host: str,
    port: int,
    daemon: SchedulerConfig | None = None,
    log_handler: logging.Handler | None = None,
    faces: Sequence[Callable[[FastAPI], None]] = (),
) -> None:
    """Serve until SIGTERM; ``log_handler``: where uvicorn logs too (else its own format);
    ``faces``: what else to serve from the same application (the dashboard's ``install``)."""
    api = create_app(app.settings, app=app)
    for install in faces:
        install(api)
    if daemon is not None:
        with_scheduler(api, app, daemon)
    config = uvicorn.Config(
        api,
        host=host,
        port=port,
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_level="info",
        server_header=False,
        log_config=None if log_handler else uvicorn.config.LOGGING_CONFIG,
    )
    if log_handler is not None:
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers[:] = [log_handler]
            logging.getLogger(name).propagate = False
            logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    uvicorn.Server(config).run()


def with_scheduler(api: FastAPI, app: Moonshift, config: SchedulerConfig) -> None:
    """Run the scheduler in a thread for as long as the API runs: it starts with the app and
    stops (pausing its checkpointing runs) in the app's shutdown, before the process ends."""
    served = api.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(
            target=app.daemons.run, args=(config,), kwargs={"stop": stop}, name="scheduler"
        )
        thread.start()
        try:
            async with served(a):
                yield
        finally:
            stop.set()
            await run_in_threadpool(thread.join, DAEMON_STOP_SECONDS)

    api.router.lifespan_context = lifespan
