"""``moonshift serve``: the API on uvicorn, optionally with the scheduler in the same process
(the single-box setup). SIGTERM or Ctrl-C stop it gracefully: requests in flight finish (up
to GRACE seconds), then the scheduler pauses its checkpointing runs for the next daemon."""

from __future__ import annotations

import logging
import re
import threading

import uvicorn

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


def serve(app: Moonshift, *, host: str, port: int, daemon: SchedulerConfig | None = None) -> None:
    api = create_app(app.settings, app=app)
    config = uvicorn.Config(
        api,
        host=host,
        port=port,
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_level="info",
        server_header=False,
    )
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    stop = threading.Event()
    scheduler = None
    if daemon is not None:
        scheduler = threading.Thread(
            target=app.daemons.run, args=(daemon,), kwargs={"stop": stop}, name="scheduler"
        )
        scheduler.start()
    try:
        server.run()
    finally:
        stop.set()
        if scheduler is not None:
            scheduler.join(DAEMON_STOP_SECONDS)
