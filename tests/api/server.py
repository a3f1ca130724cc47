"""A real ``moonshift serve`` process on a free port, with a key of every scope."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from moonshift.app import SCOPES, Moonshift, Settings
from moonshift.store import StateStore

_LISTENING = re.compile(rb"running on (http://127\.0\.0\.1:\d+) \(")  # a whole line


@dataclass
class Server:
    url: str
    home: Path
    state_url: str
    log: Path
    process: subprocess.Popen[bytes]
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, scope: str | None = "admin", **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[scope]}"} if scope else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]

    def store(self) -> StateStore:
        return StateStore.open(self.state_url)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


@contextmanager
def running(
    folder: Path,
    *,
    with_daemon: bool = False,
    env: Mapping[str, str] | None = None,
    state_url: str | None = None,
) -> Iterator[Server]:
    home = folder / "home"
    state = state_url or f"sqlite:///{folder / 'state.db'}"
    app = Moonshift(Settings(state_url=state, home=home), environ={})
    keys = {scope: app.keys.create(scope, scope, actor="user:test").key for scope in SCOPES}
    app.close()
    log = folder / "serve.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
    full_env.update(env or {}, MOONSHIFT_STATE=state, MOONSHIFT_HOME=str(home))
    # port 0: the server binds a free port itself and logs it (no other test can take it
    # between a probe for a free port and the server's bind)
    args = [sys.executable, "-m", "moonshift.cli", "serve", "--port", "0"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*args, *(["--with-daemon"] if with_daemon else [])],
            cwd=folder,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server("", home, state, log, process, keys)
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.stop()


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"moonshift serve exited: {server.log.read_text()}")
        if not server.url:
            found = _LISTENING.search(server.log.read_bytes())
            server.url = found.group(1).decode() if found else ""
            time.sleep(0.1)
            continue
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"moonshift serve did not answer in 60 s: {server.log.read_text()}")


def wait_for(check: object, what: str, timeout: float = 60.0) -> object:
    """Call ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()  # type: ignore[operator]
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
