"""What a command prints and what moonshift keeps: no secret value in the store, the views
or the log files, and only their owner may read them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moonshift.app import Moonshift, Settings
from moonshift.domain.secrets import Masker
from moonshift.domain.spec import MigrationSpec
from tests.helpers import FakeClock

ACTOR = "user:test"
TOKEN = "tok-3f9a-1c7e-77b2"
SECRETS = ["secret", "retse", "ret"]  # "ret" is too short to be masked


def service(state_url: str, home: Path) -> Moonshift:
    environ = {"PATH": "/usr/bin:/bin", "API_TOKEN": TOKEN}
    return Moonshift(Settings(state_url=state_url, home=home), clock=FakeClock(), environ=environ)


def add_command(app: Moonshift, run: str) -> None:
    command = {"run": run, "env": {"TOKEN": "${API_TOKEN}", "GREETING": "${MISSING:-hello}"}}
    spec = MigrationSpec.model_validate({"id": "job", "kind": "command", "command": command})
    app.migrations.apply_spec(spec, actor=ACTOR)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_secret_the_command_prints_is_masked_everywhere(state_url: str, tmp_path: Path) -> None:
    app = service(state_url, tmp_path / "home")
    # The second line splits the value across two writes, and so across two reads.
    add_command(
        app,
        'echo "token $TOKEN, $GREETING"; '
        'printf "half %s" "${TOKEN%??????????}"; sleep 0.3; printf "%s end\\n" "${TOKEN#????????}"; '
        'echo "failed with $TOKEN" >&2; exit 4',
    )
    run_id = app.runs.execute(app.runs.run_now("job", actor=ACTOR).id).id
    assert app.runs.log(run_id).content == "token ***, hello\nhalf *** end\n"
    assert app.runs.log(run_id, "stderr").content == "failed with ***\n"
    shown = [
        app.runs.get(run_id).model_dump_json(),
        app.runs.list("job")[0].model_dump_json(),
        app.migrations.show("job").model_dump_json(),
    ]
    assert "failed with ***" in shown[0]
    assert not [text for text in shown if TOKEN in text]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len([p for p in files if p.suffix == ".log"]) == 2
    assert not [p for p in files if TOKEN.encode() in p.read_bytes()]
    app.close()


@given(
    st.lists(
        st.sampled_from([b"ab", b"secret", b"xsecre", b"t\n", b"sec", b"ret", b"se"]), max_size=30
    ),
    st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=20),
)
def test_masking_does_not_depend_on_where_the_stream_is_cut(
    parts: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(parts)
    whole = Masker(SECRETS)
    at_once = whole.feed(stream) + whole.flush()
    masker, written, start = Masker(SECRETS), b"", 0
    for size in cuts * (len(stream) // sum(cuts) + 1):
        written += masker.feed(stream[start : start + size])
        start += size
    written += masker.flush()
    assert written == at_once
    assert b"secret" not in written and b"retse" not in written


def test_the_state_folder_and_every_file_are_private(tmp_path: Path, umask_022: None) -> None:
    home = tmp_path / "home"
    app = service(f"sqlite:///{home / 'state.db'}", home)
    add_command(app, "echo out; echo err >&2")
    app.runs.execute(app.runs.run_now("job", actor=ACTOR).id)
    worker_run = app.runs.run_now("job", actor=ACTOR).id
    app.runs.start_worker(worker_run)
    app.runs.wait(worker_run, poll=0.2)
    app.close()
    found = {
        p.relative_to(home).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in home.rglob("*")
    }
    found["."] = stat.S_IMODE(home.stat().st_mode)
    assert {name for name in found if name.endswith(".log")} >= {
        "logs/job/1-stdout.log",
        "logs/job/1-stderr.log",
        f"logs/workers/{worker_run}.log",
    }
    assert {name: mode for name, mode in found.items() if mode not in (0o700, 0o600)} == {}
    assert {name for name, mode in found.items() if mode == 0o700} == {
        ".",
        "logs",
        "logs/job",
        "logs/workers",
    }
