"""A manual run runs alone: of several starts of one migration at the same time, from the CLI
(`run-now --wait`) and the Python API in separate processes, one runs and the others are
refused with a Conflict that names it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from moonshift.app import Moonshift, Settings
from moonshift.domain.lifecycle import State

PYTHON_START = """
import sys
from moonshift.app import Moonshift, Settings
from moonshift.errors import Conflict
app = Moonshift(Settings.from_env(home=sys.argv[1], environ={}))
try:
    run = app.runs.execute(app.runs.run_now("gated", actor="python").id)
except Conflict as exc:
    print(exc, file=sys.stderr)
    sys.exit(3)
print(run.state.value)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
    return {**env, "COLUMNS": "200"}


def test_starts_at_the_same_time_from_the_cli_and_python_run_one(tmp_path: Path) -> None:
    release = tmp_path / "release"
    (tmp_path / "m.yaml").write_text(
        f"id: gated\nkind: command\ncommand: \"while [ ! -f '{release}' ]; do sleep 0.1; done\"\n"
    )
    cli = [sys.executable, "-m", "moonshift.cli"]
    subprocess.run([*cli, "apply", "m.yaml"], cwd=tmp_path, env=_env(), check=True)
    home = str(tmp_path / ".moonshift")
    starts = [
        [*cli, "run-now", "gated", "--wait"],
        [*cli, "run-now", "gated", "--wait"],
        [sys.executable, "-c", PYTHON_START, home],
        [sys.executable, "-c", PYTHON_START, home],
    ]
    procs = [
        subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in starts
    ]
    # the run holds until released: every other start meets it while it runs
    deadline = time.monotonic() + 90
    while sum(p.poll() is not None for p in procs) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    release.write_text("go")
    results = [(p.wait(60), *p.communicate()) for p in procs]
    app = Moonshift(Settings.from_env(home=home, environ={}))
    try:
        (run,) = app.runs.list("gated")
        assert run.state is State.COMPLETED, run.reason
    finally:
        app.close()
    winners = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] != 0]
    assert len(winners) == 1 and len(refused) == 3, results
    for code, _out, err in refused:
        assert code in (1, 3)  # the CLI's exit status for a conflict; the script's
        assert f'"gated" already has run {run.id}, ' in err, err
        assert "Traceback" not in err
