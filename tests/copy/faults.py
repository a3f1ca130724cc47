"""What the fault tests share: a daemon they can kill, waiting on a run, the seed.

Random points come from one seed per session, printed in pytest's header
(``MOONSHIFT_FAULT_SEED=N`` replays a session); each test draws from its own stream of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moonshift.app import Moonshift, Settings
from moonshift.app.views import Run
from tests.helpers import moonshift

SEED = int(os.environ.get("MOONSHIFT_FAULT_SEED") or random.randrange(2**32))
# Parallel test workers start with this process's environment: one seed for the session.
os.environ["MOONSHIFT_FAULT_SEED"] = str(SEED)
LEASE_SECONDS = "4"


def rng_for(test_name: str) -> random.Random:
    return random.Random(f"{SEED}:{test_name}")


def wait_run(
    app: Moonshift, run_id: int, done: Callable[[Run], Any], what: str, seconds: float = 300
) -> Run:
    """The run once ``done(run)`` holds; fails naming ``what`` and the seed after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        run = app.runs.get(run_id)
        if done(run):
            return run
        if time.monotonic() > deadline:
            steps = "\n".join(f"  {a}: {r}" for a, r in history(app, run.migration_id))
            raise AssertionError(
                f"{what}: not within {seconds}s (run {run.state}: {run.reason}); "
                f"replay with MOONSHIFT_FAULT_SEED={SEED}; its history:\n{steps}"
            )
        time.sleep(0.05)


def kill(pid: int | None) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class Daemons:
    """Daemons of one state store, started with ``moonshift daemon --detach`` in ``folder``."""

    folder: Path
    env: dict[str, str]
    pids: list[int] = field(default_factory=list)

    def start(self) -> int:
        self.folder.joinpath(".moonshift", "daemon.pid").unlink(missing_ok=True)  # a killed one's
        started = moonshift(
            self.folder, "daemon", "--detach", "--poll", "0.2", "--json", env=self.env
        )
        assert started.returncode == 0, started.stderr
        pid = int(json.loads(started.stdout)["pid"])
        self.pids.append(pid)
        return pid

    def kill(self) -> None:
        kill(self.pids[-1])

    def stop_all(self) -> None:
        moonshift(self.folder, "daemon", "stop", env=self.env)
        for pid in self.pids:
            kill(pid)


@contextlib.contextmanager
def copy_under_daemon(
    folder: Path, state_url: str, spec_yaml: str
) -> Iterator[tuple[Moonshift, Daemons]]:
    """The migration applied, a daemon running; the app reads the same state."""
    env = {"MOONSHIFT_STATE": state_url, "MOONSHIFT_LEASE_SECONDS": LEASE_SECONDS}
    (folder / "m.yaml").write_text(spec_yaml)
    applied = moonshift(folder, "apply", "m.yaml", env=env)
    assert applied.returncode == 0, applied.stderr
    daemons = Daemons(folder, env)
    daemons.start()
    app = Moonshift(Settings.from_env(state=state_url, home=folder / ".moonshift", environ={}))
    try:
        yield app, daemons
    finally:
        daemons.stop_all()
        app.close()


def history(app: Moonshift, migration_id: str) -> list[tuple[str, str]]:
    """(action, reason) of every entry, oldest first."""
    return [
        (e.action, e.reason or "") for e in reversed(app.runs.history(migration_id, limit=1000))
    ]
