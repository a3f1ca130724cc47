"""Hostile and careless spec files: each is refused by `validate` with exit 2, the file, the
line, the field and the reason, no traceback, and nothing written."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from moonshift.specfile import MAX_CHARACTERS, SpecFileError, load_document, load_files
from tests.helpers import moonshift

COMMAND = "id: job\nkind: command\ncommand: {run: [echo, hi]}\n"
CYCLE = """\
- {id: a, kind: steps, steps: {count: 1}, depends_on: [{migration: c}]}
- {id: b, kind: steps, steps: {count: 1}, depends_on: [{migration: a}]}
- {id: c, kind: steps, steps: {count: 1}, depends_on: [{migration: b}]}
"""


def refused(tmp_path: Path, text: str) -> str:
    """The one problem `validate` finds in ``text`` (written to a file, as a user would)."""
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(SpecFileError) as raised:
        load_files([path], env={})
    [problem] = raised.value.problems
    return str(problem).replace(str(tmp_path) + "/", "")


def test_the_cli_refuses_every_kind_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    files = {
        "huge.yaml": COMMAND + "schedule: {interval: 999999999999w}\n",
        "env.yaml": 'id: job\nkind: command\ncommand: {run: [echo], env: {"A=B": x}}\n',
        "strict.yaml": "id: job\nkind: steps\nsteps: {count: true}\n",
        "cycle.yaml": CYCLE,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = moonshift(tmp_path, "validate", *files)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert [line.split(":")[1].strip() for line in result.stderr.splitlines()] == [
        "huge.yaml",
        "env.yaml",
        "strict.yaml",
        "cycle.yaml",
    ]
    assert not (tmp_path / ".moonshift").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            COMMAND + "schedule: {interval: 999999999999w}\n",
            'm.yaml:4: schedule.interval: must be at most 36500d, got "999999999999w"',
        ),
        (
            "id: job\nkind: command\ncommand: {run: [echo], timeout: 99999999999999999d}\n",
            'm.yaml:3: command.timeout: must be at most 36500d, got "99999999999999999d"',
        ),
        (
            COMMAND + "max_duration: .inf\n",
            "m.yaml:4: max_duration: must be a duration like 30m, got inf",
        ),
    ],
)
def test_a_huge_duration_is_refused_by_field(tmp_path: Path, text: str, message: str) -> None:
    assert refused(tmp_path, text) == message


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(8):
        above = "a" if level == 0 else f"b{level - 1}"
        lines.append(f"b{level}: &b{level} [" + ", ".join([f"*{above}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "moonshift.cli", "validate", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    print(f"alias bomb refused in {took:.2f}s")
    assert result.returncode == 2
    assert "values once its aliases are expanded; a spec holds at most 200,000" in result.stderr
    assert took < 30  # before the cap it ran for minutes and took gigabytes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: &a [*a]\n", "holds an alias inside the node it names, which never ends"),
        ("[" * 5000 + "]" * 5000 + "\n", "nests too deeply (lists and mappings inside each other)"),
        (COMMAND + "schedule: {start_at: 2026-02-30}\n", "not valid YAML: day is out of range"),
        ("x: !!timestamp soon\n", "not valid YAML"),
    ],
)
def test_yaml_that_cannot_be_read_is_refused(text: str, reason: str) -> None:
    with pytest.raises(SpecFileError) as raised:
        load_document(text, "m.yaml", env={})
    assert reason in str(raised.value)


def test_a_document_too_large_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(SpecFileError, match="is longer than 1,000,000 characters"):
        load_document("# " + "x" * MAX_CHARACTERS, "m.yaml", env={})


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ('{run: [echo], env: {"A=B": x}}', 'command.env: "A=B" cannot name a variable'),
        ('{run: [echo], env: {"": x}}', 'command.env: "" cannot name a variable'),
        ('{run: ["echo", "a\\0b"]}', "command.run[1]: holds a NUL byte"),
        ('{run: "echo a\\0b"}', "command.run: holds a NUL byte"),
        ('{run: [echo], env: {A: "x\\0"}}', "command.env.A: holds a NUL byte"),
    ],
)
def test_what_the_system_would_refuse_is_refused_at_validate(
    tmp_path: Path, command: str, message: str
) -> None:
    assert f"m.yaml:3: {message}" in refused(
        tmp_path, f"id: job\nkind: command\ncommand: {command}\n"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("copy: {batch_size: true}", "copy.batch_size: must be a whole number, got true"),
        ("copy: {parallel: 2.5}", "copy.parallel: must be a whole number, got 2.5"),
        ("copy: {snapshot: 1}", "copy.snapshot: must be true or false, got 1"),
        (
            "copy: {error_policy: {max_error_rate: false}}",
            "copy.error_policy.max_error_rate: must be a number, got false",
        ),
        ("max_duration: 0s", "max_duration: must be longer than zero"),
    ],
)
def test_types_are_strict(tmp_path: Path, extra: str, message: str) -> None:
    text = (
        "id: job\nkind: copy\nsource: {url: 'sqlite:///a.db'}\n"
        f"target: {{url: 'sqlite:///b.db'}}\n{extra}\n"
    )
    assert refused(tmp_path, text) == f"m.yaml:5: {message}"


def test_a_dependency_cycle_in_one_file_is_refused_by_validate(tmp_path: Path) -> None:
    assert refused(tmp_path, CYCLE) == "m.yaml:1: depends_on: dependency cycle: a -> c -> b -> a"
