"""Reading migration specs from YAML files, with errors that name file, line and field.

A file holds one migration (a mapping with ``id``), a list of them, or a mapping with a
``migrations:`` list; several YAML documents in one file are read one after another.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from moonshift.domain.spec import MigrationSpec
from moonshift.domain.spec_base import FieldProblem
from moonshift.errors import InvalidInput

Loc = tuple[str | int, ...]


class SpecLoader(yaml.SafeLoader):
    """YAML as people write specs: ``22:00`` stays a string (YAML 1.1 reads it as 1320)."""


_SEXAGESIMAL = r"(?![-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$)"
SpecLoader.yaml_implicit_resolvers = {
    first: [
        (tag, re.compile(_SEXAGESIMAL + regexp.pattern, regexp.flags))
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        else (tag, regexp)
        for tag, regexp in resolvers
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class SpecProblem:
    file: str
    line: int | None
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"


class SpecFileError(InvalidInput):
    """One or more spec files are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__(None, "\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class LoadedSpec:
    spec: MigrationSpec
    file: str
    line: int


@dataclass
class LoadResult:
    specs: list[LoadedSpec] = field(default_factory=list)
    warnings: list[SpecProblem] = field(default_factory=list)


def load_files(paths: Iterable[str | Path], env: Mapping[str, str] | None = None) -> LoadResult:
    """Validate every file; raise SpecFileError listing all problems, or return the specs."""
    env = os.environ if env is None else env
    result, problems = LoadResult(), []
    for path in paths:
        specs, found = _load_file(Path(path))
        problems += found
        result.specs += specs
    problems += _duplicate_ids(result.specs)
    if problems:
        raise SpecFileError(problems)
    result.warnings = [w for s in result.specs for w in _unset_variables(s, env) + _notes(s)]
    return result


def load_text(text: str, name: str = "<string>") -> list[MigrationSpec]:
    """Validate specs given as YAML text (for the Python API and tests)."""
    specs, problems = _load_documents(text, name)
    if problems:
        raise SpecFileError(problems)
    return [s.spec for s in specs]


def _load_file(path: Path) -> tuple[list[LoadedSpec], list[SpecProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [SpecProblem(str(path), None, "", "no such file")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [SpecProblem(str(path), None, "", f"cannot read: {exc}")]
    return _load_documents(text, str(path))


def _load_documents(text: str, name: str) -> tuple[list[LoadedSpec], list[SpecProblem]]:
    loader = SpecLoader(text)
    specs: list[LoadedSpec] = []
    problems: list[SpecProblem] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[Loc, int] = {}
            duplicates = _index_lines(node, (), lines)
            problems += [
                SpecProblem(name, line, _dotted(loc), "duplicate key") for loc, line in duplicates
            ]
            document = loader.construct_document(node)
            found, wrong = _migrations_in(document, node.start_mark.line + 1, lines, name)
            specs += found
            problems += wrong
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problems.append(SpecProblem(name, line, "", f"not valid YAML: {exc.problem or exc}"))
    finally:
        loader.dispose()
    if not specs and not problems:
        problems.append(SpecProblem(name, None, "", "holds no migration"))
    return specs, problems


def _migrations_in(
    document: Any, first_line: int, lines: dict[Loc, int], name: str
) -> tuple[list[LoadedSpec], list[SpecProblem]]:
    prefix: Loc | None
    if isinstance(document, dict) and "migrations" in document:
        extra = sorted(set(document) - {"migrations"})
        if extra:
            loc: Loc = (extra[0],)
            reason = f'unknown key "{extra[0]}" beside "migrations"'
            return [], [SpecProblem(name, lines.get(loc, first_line), extra[0], reason)]
        items, prefix = document["migrations"], ("migrations",)
        if not isinstance(items, list):
            return [], [SpecProblem(name, lines.get(prefix), "migrations", "must be a list")]
    elif isinstance(document, list):
        items, prefix = document, ()
    elif isinstance(document, dict):
        items, prefix = [document], None
    else:
        reason = "must be a migration (a mapping with id), a list of them, or migrations: [...]"
        return [], [SpecProblem(name, first_line, "", reason)]
    specs, problems = [], []
    for index, item in enumerate(items):
        base: Loc = () if prefix is None else (*prefix, index)
        line = lines.get(base, first_line)
        try:
            specs.append(LoadedSpec(MigrationSpec.model_validate(item), name, line))
        except ValidationError as exc:
            problems += [_problem(name, base, error, lines, line) for error in exc.errors()]
    return specs, problems


def _problem(name: str, base: Loc, error: Any, lines: dict[Loc, int], fallback: int) -> SpecProblem:
    loc: Loc = tuple(error["loc"])
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldProblem):
        loc = (*loc, *cause.path.split(".")) if cause.path else loc
        reason = cause.reason
    else:
        reason = _reason(error, loc)
    return SpecProblem(name, _line_of((*base, *loc), lines, fallback), _dotted(loc), reason)


def _reason(error: Any, loc: Loc) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = sorted(_fields_at(MigrationSpec, loc[:-1]))
        close = difflib.get_close_matches(key, known, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else f"; known keys: {', '.join(known)}"
        return f'unknown key "{key}"{hint}'
    if kind == "missing":
        return "is required"
    if kind in ("literal_error", "enum"):
        expected = error["ctx"]["expected"].replace("'", "")
        return f"must be one of {expected}, got {_shown(value)}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    friendly = {
        "string_type": "must be a string",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "tuple_type": "must be a list",
        "list_type": "must be a list",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
    }
    if kind in friendly:
        return f"{friendly[kind]}, got {_shown(value)}"
    return str(error["msg"])


def _fields_at(model: type[BaseModel], loc: Loc) -> set[str]:
    """The keys a mapping at ``loc`` inside ``model`` may have (as written, aliases too)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = _keys_of(current)
        current = _model_in(fields[part].annotation) if part in fields else None
        if current is None:
            return set()
    return set(_keys_of(current))


def _keys_of(model: Any) -> dict[str, Any]:
    """A model's fields by the key a spec writes: the alias where there is one."""
    return {(info.alias or name): info for name, info in getattr(model, "model_fields", {}).items()}


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> list[tuple[Loc, int]]:
    """Record the 1-based line of every key and item; return the duplicate keys found."""
    duplicates: list[tuple[Loc, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            child = (*loc, str(key.value))
            if child in lines and str(key.value) in seen:
                duplicates.append((child, key.start_mark.line + 1))
            seen.add(str(key.value))
            lines[child] = key.start_mark.line + 1
            duplicates += _index_lines(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            duplicates += _index_lines(item, (*loc, index), lines)
    return duplicates


def _line_of(loc: Loc, lines: dict[Loc, int], fallback: int) -> int:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return fallback


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shown(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _duplicate_ids(specs: list[LoadedSpec]) -> list[SpecProblem]:
    first: dict[str, LoadedSpec] = {}
    problems = []
    for loaded in specs:
        earlier = first.setdefault(loaded.spec.id, loaded)
        if earlier is not loaded:
            reason = f'"{loaded.spec.id}" is already defined at {earlier.file}:{earlier.line}'
            problems.append(SpecProblem(loaded.file, loaded.line, "id", reason))
    return problems


def _notes(loaded: LoadedSpec) -> list[SpecProblem]:
    return [SpecProblem(loaded.file, loaded.line, path, text) for path, text in loaded.spec.notes()]


def _unset_variables(loaded: LoadedSpec, env: Mapping[str, str]) -> list[SpecProblem]:
    return [
        SpecProblem(
            loaded.file,
            loaded.line,
            path,
            f"${{{name}}} is not set here; it must be set where the migration runs",
        )
        for path, names in loaded.spec.environment_references().items()
        for name in names
        if name not in env
    ]
