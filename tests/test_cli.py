"""The CLI as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import pytest

from moonshift.cli.main import cli
from tests.helpers import moonshift

COMMAND_FILE = """\
migrations:
  - id: greet
    name: Greeting
    tags: [demo, nightly]
    kind: command
    command:
      run: "echo hello; echo 'it broke' >&2; exit 3"
  - id: ok
    kind: command
    command: [echo, fine]
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "m.yaml").write_text(COMMAND_FILE)
    return tmp_path


def test_misspelled_key_exits_2_names_file_line_field_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "id: users\nkind: command\ncommand:\n  run: echo\n  timout: 5m\n"
    )
    for verb in ("validate", "apply"):
        result = moonshift(tmp_path, verb, "bad.yaml")
        assert result.returncode == 2
        assert (
            'bad.yaml:5: command.timout: unknown key "timout"; did you mean "timeout"?'
            in result.stderr
        )
    assert not (tmp_path / ".moonshift").exists()


def test_failing_command_exits_1_and_its_stderr_is_in_the_logs(workdir: Path) -> None:
    assert moonshift(workdir, "apply", "m.yaml").returncode == 0
    result = moonshift(workdir, "run-now", "greet", "--wait")
    assert result.returncode == 1
    assert "run 1 failed: exit status 3" in result.stdout
    assert "it broke" in result.stderr
    logs = moonshift(workdir, "logs", "1", "--stderr")
    assert (logs.returncode, logs.stdout) == (0, "it broke\n")
    assert moonshift(workdir, "logs", "1").stdout == "hello\n"
    assert (workdir / ".moonshift" / "logs" / "greet" / "1-stderr.log").exists()


def test_successful_run_and_json_views(workdir: Path) -> None:
    moonshift(workdir, "apply", "m.yaml")
    assert moonshift(workdir, "run-now", "ok", "--wait").returncode == 0
    listed = json.loads(moonshift(workdir, "list", "--json").stdout)
    assert {m["id"]: m["status"] for m in listed} == {"greet": "idle", "ok": "completed"}
    failed_only = json.loads(moonshift(workdir, "list", "--status", "completed", "--json").stdout)
    assert [m["id"] for m in failed_only] == ["ok"]
    tagged = json.loads(moonshift(workdir, "list", "--tag", "nightly", "--json").stdout)
    assert [m["id"] for m in tagged] == ["greet"]
    runs = json.loads(moonshift(workdir, "runs", "ok", "--json").stdout)
    assert [(r["state"], r["trigger"], r["exit_code"]) for r in runs] == [
        ("completed", "MANUAL", 0)
    ]
    history = json.loads(moonshift(workdir, "history", "ok", "--json").stdout)
    assert history[0]["to_state"] == "completed" and history[-1]["action"] == "created"
    assert history[-1]["actor"].startswith("user:")


def test_apply_reports_changes_and_bumps_the_version(workdir: Path) -> None:
    first = json.loads(moonshift(workdir, "apply", "m.yaml", "--json").stdout)
    assert [(r["id"], r["action"], r["version"]) for r in first["results"]] == [
        ("greet", "created", 1),
        ("ok", "created", 1),
    ]
    (workdir / "m.yaml").write_text(COMMAND_FILE.replace("Greeting", "Greeting v2"))
    second = json.loads(moonshift(workdir, "apply", "m.yaml", "--json").stdout)
    assert [(r["action"], r["version"], r["changed"]) for r in second["results"]] == [
        ("updated", 2, ["name"]),
        ("unchanged", 1, []),
    ]


def test_enable_disable_delete_and_show(workdir: Path) -> None:
    moonshift(workdir, "apply", "m.yaml")
    assert "ok is disabled" in moonshift(workdir, "disable", "ok").stdout
    shown = json.loads(moonshift(workdir, "show", "ok", "--json").stdout)
    assert shown["migration"]["enabled"] is False
    assert moonshift(workdir, "delete", "ok").returncode == 0
    missing = moonshift(workdir, "show", "ok")
    assert missing.returncode == 2 and 'no migration "ok"' in missing.stderr
    assert moonshift(workdir, "enable", "nope").returncode == 2


def test_delete_refuses_an_active_run_and_force_stops_it(workdir: Path) -> None:
    (workdir / "slow.yaml").write_text("id: slow\nkind: command\ncommand: sleep 30\n")
    moonshift(workdir, "apply", "slow.yaml")
    started = json.loads(moonshift(workdir, "run-now", "slow", "--json").stdout)
    run_id = started["run"]
    deadline = time.monotonic() + 20
    while json.loads(moonshift(workdir, "runs", "slow", "--json").stdout)[0]["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    refused = moonshift(workdir, "delete", "slow")
    assert refused.returncode == 1 and f"has active runs ({run_id})" in refused.stderr
    assert moonshift(workdir, "delete", "slow", "--force").returncode == 0
    deadline = time.monotonic() + 20
    while True:
        run = json.loads(moonshift(workdir, "runs", "slow", "--json").stdout)[0]
        if run["exit_code"] is not None:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert run["state"] == "cancelled" and run["exit_code"] == -15


def test_secrets_never_reach_the_store_or_output(tmp_path: Path) -> None:
    (tmp_path / "copy.yaml").write_text(
        "id: c\nkind: copy\nsource: {url: 'postgresql://app:${PGPW}@db/x'}\ntarget: {url: 'sqlite:///t.db'}\n"
    )
    result = moonshift(tmp_path, "apply", "copy.yaml", env={"PGPW": "hunter2"})
    assert result.returncode == 0
    shown = moonshift(tmp_path, "show", "c", env={"PGPW": "hunter2"})
    assert "${PGPW}" in shown.stdout and "hunter2" not in shown.stdout
    assert b"hunter2" not in (tmp_path / ".moonshift" / "state.db").read_bytes()


def test_bad_option_values_exit_2(workdir: Path) -> None:
    result = moonshift(workdir, "list", "--status", "bogus")
    assert result.returncode == 2 and "bogus" in result.stderr
    assert moonshift(workdir, "logs", "not-a-number").returncode == 2


def test_state_option_selects_another_store(workdir: Path, pg_state: str) -> None:
    assert moonshift(workdir, "--state", pg_state, "apply", "m.yaml").returncode == 0
    listed = json.loads(
        moonshift(workdir, "list", "--json", env={"MOONSHIFT_STATE": pg_state}).stdout
    )
    assert [m["id"] for m in listed] == ["greet", "ok"]
    assert not (workdir / ".moonshift" / "state.db").exists()


def _commands() -> list[tuple[str, click.Command]]:
    assert isinstance(cli, click.Group)
    return sorted(cli.commands.items())


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_command_has_help_an_example_and_json(name: str, command: click.Command) -> None:
    assert command.help and len(command.help.split("\n")[0]) > 10
    assert f"moonshift {name}" in command.help.split("Example:")[1]
    assert "--json" in [opt for p in command.params for opt in getattr(p, "opts", [])]


def test_readme_documents_every_command() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name, _ in _commands():
        assert f"moonshift {name}" in readme, name


def test_next_and_windows_show_runs_moved_to_the_window(tmp_path: Path) -> None:
    (tmp_path / "n.yaml").write_text(
        "id: nightly\nkind: command\ncommand: echo hi\n"
        "schedule: {cron: '0 * * * *', timezone: Europe/Berlin}\n"
        "windows: [{name: nightly, days: [daily], start: 22:00, end: 23:00}]\n"
    )
    assert moonshift(tmp_path, "apply", "n.yaml").returncode == 0
    shown = moonshift(tmp_path, "next", "nightly", "--count", "30")
    assert shown.returncode == 0
    assert "outside" in shown.stdout
    assert "(nightly)" in shown.stdout
    data = json.loads(moonshift(tmp_path, "next", "nightly", "--count", "30", "--json").stdout)
    delayed = [d for d in data["decisions"] if d["start_at"] != d["due"]]
    assert delayed
    assert {d["start_at"][11:16] for d in delayed} <= {"21:00", "20:00"}  # 22:00 Berlin in UTC
    windows = moonshift(tmp_path, "windows", "nightly", "--json")
    spans = json.loads(windows.stdout)["windows"]
    assert all(s["opens_at"][11:16] in ("21:00", "20:00") for s in spans)
