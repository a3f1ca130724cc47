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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from moonshift.domain.dag import find_cycle
from moonshift.domain.nested_schedule import Flattened, dotted, flatten, parse_dotted
from moonshift.domain.notices import ChannelSpec, NotifyRule
from moonshift.domain.secrets import references
from moonshift.domain.spec import ConnectionSpec, MigrationSpec, SpecDocument
from moonshift.domain.spec_base import FieldProblem, SpecModel
from moonshift.errors import InvalidInput

Loc = tuple[str | int, ...]
# Caps that keep a hostile document (an alias bomb, a huge file) from costing more than a
# moment: far above any real spec.
MAX_CHARACTERS = 1_000_000
MAX_NODES = 200_000
LONE_SURROGATE = (
    "holds a \\ud800-\\udfff escape alone, which is half a character; write the character"
)


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
    layout: Flattened | None = None  # how the user wrote it, when not in moonshift's layout
    base: Loc = ()  # where the spec sits in its file
    lines: Mapping[Loc, int] = field(default_factory=dict)  # of the file's keys and items

    def written(self, path: str) -> str:
        """A field path of the spec as the user wrote it."""
        return dotted(self.layout.written(parse_dotted(path))) if self.layout else path

    def line_of(self, path: str) -> int:
        """The line where the user wrote a field of the spec (or its nearest parent)."""
        return _line_of((*self.base, *parse_dotted(self.written(path))), self.lines, self.line)


@dataclass(frozen=True)
class LoadedConnection:
    spec: ConnectionSpec
    file: str
    line: int


@dataclass(frozen=True)
class LoadedChannel:
    spec: ChannelSpec
    file: str
    line: int


class _NotifyRules(SpecModel):
    notify: tuple[NotifyRule, ...]


_Named = TypeVar("_Named", ConnectionSpec, ChannelSpec)


@dataclass
class LoadResult:
    specs: list[LoadedSpec] = field(default_factory=list)
    warnings: list[SpecProblem] = field(default_factory=list)
    connections: list[LoadedConnection] = field(default_factory=list)
    channels: list[LoadedChannel] = field(default_factory=list)


def load_files(paths: Iterable[str | Path], env: Mapping[str, str] | None = None) -> LoadResult:
    """Validate every file; raise SpecFileError listing all problems, or return the specs."""
    env = os.environ if env is None else env
    result, problems = LoadResult(), []
    for path in paths:
        found = _load_file(Path(path))
        problems += found.warnings
        result.specs += found.specs
        result.connections += found.connections
        result.channels += found.channels
    return _checked(result, problems, env)


def load_document(
    text: str, name: str = "<request>", env: Mapping[str, str] | None = None
) -> LoadResult:
    """Validate a spec document given as text (YAML, or JSON, which YAML reads too)."""
    found = _load_documents(text, name)
    return _checked(found, found.warnings, os.environ if env is None else env)


def _checked(result: LoadResult, problems: list[SpecProblem], env: Mapping[str, str]) -> LoadResult:
    problems = problems + _duplicate_ids(result.specs)
    problems += _duplicate_named(result.connections, "connection")
    problems += _duplicate_named(result.channels, "channel")
    problems += cycle_problems({}, result.specs)
    if problems:
        raise SpecFileError(problems)
    result.warnings = [w for s in result.specs for w in _unset_variables(s, env) + _notes(s)]
    result.warnings += [
        SpecProblem(
            c.file, c.line, "url", f"${{{n}}} is not set here; it must be set where runs use it"
        )
        for c in result.connections
        for n in references(c.spec.url)
        if n not in env
    ]
    result.warnings += [
        SpecProblem(
            c.file, c.line, "", f"${{{n}}} is not set here; it must be set where the daemon runs"
        )
        for c in result.channels
        for n in c.spec.environment_references()
        if n not in env
    ]
    return result


def dump_spec(spec: Mapping[str, Any]) -> str:
    """A stored (canonical) spec as YAML, keys in the model's order."""
    return yaml.safe_dump(dict(spec), sort_keys=False, allow_unicode=True, width=100)


def load_text(text: str, name: str = "<string>") -> list[MigrationSpec]:
    """Validate specs given as YAML text (for the Python API and tests)."""
    found = _load_documents(text, name)
    if found.warnings:
        raise SpecFileError(found.warnings)
    return [s.spec for s in found.specs]


def _load_file(path: Path) -> LoadResult:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadResult(warnings=[SpecProblem(str(path), None, "", "no such file")])
    except (OSError, UnicodeDecodeError) as exc:
        return LoadResult(warnings=[SpecProblem(str(path), None, "", f"cannot read: {exc}")])
    return _load_documents(text, str(path))


def _load_documents(text: str, name: str) -> LoadResult:
    """The specs and connections of every document; ``warnings`` holds the problems."""
    if len(text) > MAX_CHARACTERS:
        reason = f"is longer than {MAX_CHARACTERS:,} characters; split it into several files"
        return LoadResult(warnings=[SpecProblem(name, None, "", reason)])
    try:
        loader = SpecLoader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
        at = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        reason = f"not valid YAML: character U+{code:04X} is not allowed"
        return LoadResult(warnings=[SpecProblem(name, at, "", reason)])
    specs: list[LoadedSpec] = []
    connections: list[LoadedConnection] = []
    channels: list[LoadedChannel] = []
    problems: list[SpecProblem] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            too_big = _oversized(node)
            if too_big:
                problems.append(SpecProblem(name, node.start_mark.line + 1, "", too_big))
                break
            lines: dict[Loc, int] = {}
            duplicates = _index_lines(node, (), lines)
            problems += [
                SpecProblem(name, line, dotted(loc), "duplicate key") for loc, line in duplicates
            ]
            first_line = node.start_mark.line + 1
            where = (first_line, lines, name, problems)
            try:
                document = loader.construct_document(node)
            except yaml.MarkedYAMLError:
                raise
            except Exception as exc:  # PyYAML's own: a bad timestamp, a huge integer
                problems.append(SpecProblem(name, first_line, "", f"not valid YAML: {exc}"))
                break
            try:
                found, wrong = _migrations_in(document, first_line, lines, name)
                connections += [
                    LoadedConnection(spec, name, line)
                    for spec, line in _named_in(document, "connections", ConnectionSpec, *where)
                ]
                channels += [
                    LoadedChannel(spec, name, line)
                    for spec, line in _named_in(document, "channels", ChannelSpec, *where)
                ]
            except UnicodeEncodeError:  # a "\udXXX" escape: half of a character, not text
                found, wrong = [], [SpecProblem(name, first_line, "", LONE_SURROGATE)]
            specs += found
            problems += wrong
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problems.append(SpecProblem(name, line, "", f"not valid YAML: {exc.problem or exc}"))
    except RecursionError:
        reason = "nests too deeply (lists and mappings inside each other)"
        problems.append(SpecProblem(name, None, "", reason))
    finally:
        loader.dispose()
    if not specs and not connections and not channels and not problems:
        problems.append(SpecProblem(name, None, "", "holds no migration"))
    return LoadResult(specs=specs, warnings=problems, connections=connections, channels=channels)


def _oversized(root: yaml.Node) -> str | None:
    """Why a document is too big to read once its aliases are expanded, or None.

    Counts each distinct node once (a memo by identity), so an alias bomb costs no more
    than its text; an alias inside the node it names is refused too."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _SelfAlias
        open_nodes.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        sizes[key] = 1 + sum(size(child) for child in children)
        open_nodes.discard(key)
        return sizes[key]

    try:
        total = size(root)
    except _SelfAlias:
        return "holds an alias inside the node it names, which never ends"
    if total > MAX_NODES:
        return (
            f"holds {total:,} values once its aliases are expanded; a spec holds at most "
            f"{MAX_NODES:,}"
        )
    return None


class _SelfAlias(Exception):
    pass


def _named_in(
    document: Any,
    key: str,
    model: type[_Named],
    first_line: int,
    lines: dict[Loc, int],
    name: str,
    problems: list[SpecProblem],
) -> list[tuple[_Named, int]]:
    """The items of a top-level list of named things (``connections:``, ``channels:``)."""
    if not isinstance(document, dict) or key not in document:
        return []
    items = document[key]
    if not isinstance(items, list):
        problems.append(SpecProblem(name, lines.get((key,)), key, "must be a list"))
        return []
    found = []
    for index, item in enumerate(items):
        base: Loc = (key, index)
        line = lines.get(base, first_line)
        try:
            found.append((model.model_validate(item), line))
        except ValidationError as exc:
            problems += [
                _problem(name, base, error, lines, line, model, data=item) for error in exc.errors()
            ]
    return found


def _file_notify(
    document: Any, first_line: int, lines: dict[Loc, int], name: str
) -> tuple[Any, list[SpecProblem]]:
    """A document's top-level ``notify:`` rules (as written), checked on their own."""
    if not isinstance(document, dict) or "notify" not in document:
        return None, []
    try:
        _NotifyRules.model_validate({"notify": document["notify"]})
    except ValidationError as exc:
        line = lines.get(("notify",), first_line)
        return None, [_problem(name, (), e, lines, line, _NotifyRules) for e in exc.errors()]
    return document["notify"], []


def _migrations_in(
    document: Any, first_line: int, lines: dict[Loc, int], name: str
) -> tuple[list[LoadedSpec], list[SpecProblem]]:
    prefix: Loc | None
    if isinstance(document, dict) and set(document) & set(SpecDocument.model_fields):
        extra = sorted(set(document) - set(SpecDocument.model_fields))
        if extra:
            loc: Loc = (extra[0],)
            known = '", "'.join(SpecDocument.model_fields)
            reason = f'unknown key "{extra[0]}" beside "{known}"'
            return [], [SpecProblem(name, lines.get(loc, first_line), extra[0], reason)]
        items, prefix = document.get("migrations", []), ("migrations",)
        if not isinstance(items, list):
            return [], [SpecProblem(name, lines.get(prefix), "migrations", "must be a list")]
        defaults, wrong = _file_notify(document, first_line, lines, name)
        if wrong:
            return [], wrong
        if defaults is not None:
            items = [
                {**item, "notify": defaults}
                if isinstance(item, dict) and "notify" not in item
                else item
                for item in items
            ]
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
        flat = flatten(item)
        problems += [
            SpecProblem(name, _line_of((*base, *p.loc), lines, line), dotted(p.loc), p.reason)
            for p in flat.problems
        ]
        if flat.problems:
            continue
        try:
            spec = MigrationSpec.model_validate(flat.data)
            layout = flat if flat.renames else None
            specs.append(LoadedSpec(spec, name, line, layout, base, lines))
        except ValidationError as exc:
            problems += [
                _problem(name, base, error, lines, line, written=flat.written, data=flat.data)
                for error in exc.errors()
            ]
            problems = list(dict.fromkeys(problems))
    return specs, problems


def _problem(
    name: str,
    base: Loc,
    error: Any,
    lines: dict[Loc, int],
    fallback: int,
    model: type[BaseModel] = MigrationSpec,
    written: Callable[[Loc], Loc] = lambda loc: loc,
    data: Any = None,
) -> SpecProblem:
    """The problem at the key the user wrote (``written`` maps the model's location to it;
    ``data``, what was validated, tells the keys from the names of a union's types)."""
    loc: Loc = (
        tuple(error["loc"])
        if data is None
        else _without_union_tags(error["loc"], data, error["type"])
    )
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldProblem):
        loc = (*loc, *parse_dotted(cause.path))
        reason = cause.reason
    else:
        reason = _reason(error, loc, model, lambda key: str(written((*loc[:-1], key))[-1]))
    loc = written(loc)
    return SpecProblem(name, _line_of((*base, *loc), lines, fallback), dotted(loc), reason)


def _without_union_tags(loc: Sequence[str | int], data: Any, kind: str) -> Loc:
    """``loc`` without the parts pydantic adds to name which of a union's types refused the
    value ("tuple[str, ...]", "str"): a name below anything but a mapping, or one the
    mapping does not hold (but the last, where the error is a key ``missing``)."""
    kept: list[str | int] = []
    node, absent = data, object()  # below a key not written, every part is kept
    for i, part in enumerate(loc):
        if isinstance(part, str) and node is not absent:
            is_key = isinstance(node, dict) and (
                part in node or (kind == "missing" and i == len(loc) - 1)
            )
            if not is_key:
                continue
        kept.append(part)
        if isinstance(node, dict):
            node = node.get(part, absent)
        elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
            node = node[part]
        else:
            node = absent
    return tuple(kept)


def _reason(
    error: Any,
    loc: Loc,
    model: type[BaseModel] = MigrationSpec,
    as_written: Callable[[str], str] = lambda key: key,
) -> str:
    """Why a value is refused; ``as_written`` names a key the way the user's layout does."""
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = sorted({as_written(k) for k in _fields_at(model, loc[:-1])})
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
        "float_type": "must be a number",
        "float_parsing": "must be a number",
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


def _line_of(loc: Loc, lines: Mapping[Loc, int], fallback: int) -> int:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return fallback


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except ValueError:  # an integer too long to print
        return f"a {type(value).__name__}"
    return text if len(text) <= 200 else text[:197] + "..."


def _duplicate_named(
    found: Sequence[LoadedConnection | LoadedChannel], what: str
) -> list[SpecProblem]:
    seen: dict[str, LoadedConnection | LoadedChannel] = {}
    problems = []
    for c in found:
        earlier = seen.setdefault(c.spec.id, c)
        if earlier is not c:
            reason = f'{what} "{c.spec.id}" is already defined at {earlier.file}:{earlier.line}'
            problems.append(SpecProblem(c.file, c.line, "id", reason))
    return problems


def _duplicate_ids(specs: list[LoadedSpec]) -> list[SpecProblem]:
    first: dict[str, LoadedSpec] = {}
    problems = []
    for loaded in specs:
        earlier = first.setdefault(loaded.spec.id, loaded)
        if earlier is not loaded:
            reason = f'"{loaded.spec.id}" is already defined at {earlier.file}:{earlier.line}'
            problems.append(SpecProblem(loaded.file, loaded.line, "id", reason))
    return problems


def cycle_problems(known: Mapping[str, list[str]], specs: list[LoadedSpec]) -> list[SpecProblem]:
    """A dependency cycle among ``specs`` and the ``known`` graph (migration -> the
    migrations it depends on), located at the first of ``specs`` on it."""
    graph = {**known, **{s.spec.id: [d.migration for d in s.spec.depends_on] for s in specs}}
    cycle = find_cycle(graph)
    if not cycle:
        return []
    where = next((s for s in specs if s.spec.id in cycle), None)
    return [
        SpecProblem(
            where.file if where else "-",
            where.line if where else None,
            "depends_on",
            "dependency cycle: " + " -> ".join(cycle),
        )
    ]


def _notes(loaded: LoadedSpec) -> list[SpecProblem]:
    return [
        SpecProblem(loaded.file, loaded.line_of(path), loaded.written(path), text)
        for path, text in loaded.spec.notes()
    ]


def _unset_variables(loaded: LoadedSpec, env: Mapping[str, str]) -> list[SpecProblem]:
    return [
        SpecProblem(
            loaded.file,
            loaded.line_of(path),
            loaded.written(path),
            f"${{{name}}} is not set here; it must be set where the migration runs",
        )
        for path, names in loaded.spec.environment_references().items()
        for name in names
        if name not in env
    ]
