from pathlib import Path

import pytest

from moonshift.domain.spec import MigrationSpec
from moonshift.specfile import SpecFileError, load_files, load_text


def write(tmp_path: Path, text: str, name: str = "users.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(paths: list[Path]) -> list[str]:
    with pytest.raises(SpecFileError) as raised:
        load_files(paths, env={})
    return [str(p) for p in raised.value.problems]


def test_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path, "id: users\nkind: command\ncommand:\n  run: [echo]\n\n\n  timeout: soon\n"
    )
    assert problems([path]) == [
        f'{path}:7: command.timeout: must be a duration like 30m, got "soon"'
    ]


def test_misspelled_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "id: users\nkind: command\ncomand:\n  run: echo hi\n")
    found = problems([path])
    assert f'{path}:3: comand: unknown key "comand"; did you mean "command"?' in found


def test_nested_unknown_key_and_list_positions(tmp_path: Path) -> None:
    text = """migrations:
  - id: a
    kind: command
    command: {run: echo, timout: 5m}
  - id: b
    kind: copy
    source: {url: "sqlite:///a.db"}
    target: {url: "sqlite:///b.db"}
    tags: [ok, "Not A Slug"]
"""
    path = write(tmp_path, text)
    found = problems([path])
    assert f'{path}:4: command.timout: unknown key "timout"; did you mean "timeout"?' in found
    assert any(p.startswith(f"{path}:9: tags[1]: must be a slug") for p in found)


def test_cross_field_rules_point_at_the_field(tmp_path: Path) -> None:
    found = problems([write(tmp_path, "id: a\nkind: copy\nsource: {url: 'sqlite:///x.db'}\n")])
    assert any(p.endswith("target: is required when kind is copy") for p in found)


def test_several_documents_lists_and_duplicate_ids(tmp_path: Path) -> None:
    one = write(
        tmp_path,
        "id: a\nkind: command\ncommand: echo 1\n---\n- id: b\n  kind: command\n  command: echo 2\n",
    )
    assert [s.spec.id for s in load_files([one], env={}).specs] == ["a", "b"]
    two = write(tmp_path, "id: b\nkind: command\ncommand: echo 3\n", "two.yaml")
    found = problems([one, two])
    assert found == [f'{two}:1: id: "b" is already defined at {one}:5']


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "id: a\nkind: command\ncommand: echo\nkind: copy\n")
    assert f"{path}:4: kind: duplicate key" in problems([path])


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "id: a\nkind: [command\n")
    [problem] = problems([path])
    assert problem.startswith(f"{path}:") and "not valid YAML" in problem


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    assert problems([tmp_path / "nope.yaml"]) == [f"{tmp_path / 'nope.yaml'}: no such file"]
    empty = write(tmp_path, "", "empty.yaml")
    assert problems([empty]) == [f"{empty}: holds no migration"]


def test_plain_text_password_is_refused_and_not_echoed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id: a\nkind: copy\nsource: {url: 'postgresql://app:hunter2@db/x'}\ntarget: {url: 'sqlite:///t.db'}\n",
    )
    [problem] = problems([path])
    assert "source.url: the password is written in plain text" in problem
    assert "hunter2" not in problem


def test_unset_variables_are_warnings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id: a\nkind: copy\nsource: {url: 'postgresql://app:${PGPW}@db/x'}\ntarget: {url: 'sqlite:///t.db'}\n",
    )
    result = load_files([path], env={})
    assert [str(w) for w in result.warnings] == [
        f"{path}:3: source.url: ${{PGPW}} is not set here; it must be set where the migration runs"
    ]
    assert load_files([path], env={"PGPW": "x"}).warnings == []


def test_an_unset_variable_is_placed_on_the_line_that_names_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "migrations:\n"
        "  - id: first\n    kind: command\n    command: ['true']\n"
        "  - id: export\n"
        "    kind: command\n"
        "    command:\n"
        "      run: [sh, -c, 'echo $API_TOKEN']\n"
        "      env:\n"
        "        API_TOKEN: ${EXPORT_TOKEN}\n",
    )
    [warning] = load_files([path], env={}).warnings
    assert str(warning).startswith(
        f"{path}:10: command.env.API_TOKEN: ${{EXPORT_TOKEN}} is not set"
    )


def test_models_are_immutable_and_command_shorthands() -> None:
    [spec] = load_text("id: a\nkind: command\ncommand: [python3, -V]\n")
    assert isinstance(spec, MigrationSpec)
    assert spec.command is not None and spec.command.argv == ("python3", "-V")
    with pytest.raises(Exception, match="frozen"):
        spec.id = "b"  # type: ignore[misc]
    [shell] = load_text("id: a\nkind: command\ncommand: echo hi | wc -c\n")
    assert shell.command is not None and shell.command.argv == ("/bin/sh", "-c", "echo hi | wc -c")


def test_canonical_form_ignores_defaults() -> None:
    [a] = load_text("id: a\nkind: command\ncommand: echo\n")
    [b] = load_text("id: a\nkind: command\nenabled: true\ncommand: {run: echo, kill_grace: 10s}\n")
    assert a.canonical() == b.canonical()


def test_a_value_no_type_of_a_union_takes_is_named_by_the_keys_the_user_wrote(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "id: a\nkind: command\ncommand: [true]\n")
    found = problems([path])
    assert found, found
    assert not [p for p in found if "tuple" in p or ".str" in p], found  # a type's name
    assert any(p.endswith(":3: command[0]: must be a string, got true") for p in found), found


def test_a_mapping_no_type_of_a_union_takes_is_named_by_its_key(tmp_path: Path) -> None:
    path = write(tmp_path, "id: a\nkind: command\ncommand: {run: {a: 1}}\n")
    found = problems([path])
    assert found and not [p for p in found if "tuple" in p or ".str" in p], found
    assert all(": command.run: must be" in p for p in found), found
