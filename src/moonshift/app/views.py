"""What every face shows: typed, redacted, JSON-ready read models, built here and only here.

A face renders a view as it likes (a table, a page) or prints ``view.model_dump(mode="json")``;
the REST API returns them as they are. Secrets are redacted before a view exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

from moonshift.domain import lifecycle
from moonshift.domain.control import ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.domain.progress import Progress
from moonshift.domain.secrets import redact_url
from moonshift.store.records import ConnectionRecord, MigrationRecord, ScheduleStatus, Trigger
from moonshift.timing import OutsideWindow, StartAction

# Instants as ISO 8601 with their offset, as moonshift has always printed them.
Instant = Annotated[datetime, PlainSerializer(lambda v: v.isoformat(), when_used="json")]


class View(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


T = TypeVar("T")


class Page(View, Generic[T]):
    """A list: its items and, when there are more, the cursor that gives the next page."""

    items: list[T]
    next: str | None = None


def redact_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec safe to show: endpoint URLs with any literal password masked."""
    shown = dict(spec)
    for side in ("source", "target"):
        if isinstance(shown.get(side), dict) and "url" in shown[side]:
            shown[side] = {**shown[side], "url": redact_url(shown[side]["url"])}
    return shown


# -- migrations -----------------------------------------------------------------------------


class Migration(View):
    id: str
    name: str
    description: str
    kind: str
    enabled: bool
    tags: tuple[str, ...]
    spec: dict[str, Any]  # redacted
    spec_hash: str
    version: int
    source_file: str | None
    created_at: Instant
    updated_at: Instant
    deleted_at: Instant | None
    etag: str = ""  # changes whenever the migration does (HTTP If-Match compares it)

    @classmethod
    def of(cls, record: MigrationRecord) -> Migration:
        found = cls.model_validate(record)
        return found.model_copy(update={"spec": redact_spec(record.spec), "etag": etag(record)})


class SpecExport(View):
    id: str
    version: int
    spec: dict[str, Any]  # redacted, in moonshift's layout
    yaml: str  # the same, as YAML that `moonshift apply` takes back


def etag(record: MigrationRecord) -> str:
    """A migration's entity tag: its version and the instant of its last change."""
    return f'"{record.version}-{int(record.updated_at.timestamp() * 1_000_000)}"'


class MigrationSummary(View):
    id: str
    name: str
    kind: str
    enabled: bool
    version: int
    tags: tuple[str, ...]
    status: str  # the latest run's state, or idle
    last_run: int | None
    last_run_at: Instant | None


class OverviewRow(View):
    """A migration as the dashboard's overview shows it."""

    id: str
    name: str
    kind: str
    enabled: bool
    tags: tuple[str, ...]
    status: str  # the latest run's state, or idle
    run: int | None
    rows: int  # copied so far by the latest run, all tables
    total: int  # rows to copy, all tables (0: not known)
    next_fire_at: Instant | None
    schedule: str | None  # the schedule's status; None without a schedule
    window: str | None  # open, closed; None without windows
    timezone: str
    open_errors: int
    open_alerts: int = 0

    @property
    def share(self) -> float | None:
        """How much of the copy is done, 0 to 1; None when not known."""
        return min(self.rows / self.total, 1.0) if self.total else None


class Validation(View):
    valid: bool = True
    migrations: list[str]
    warnings: list[str]


class Applied(View):
    id: str
    action: str  # created, updated, restored, unchanged
    version: int
    changed: list[str]
    # What the change did to runs under way: approvals voided, spec versions kept.
    notes: list[str] = []


class ConnectionApplied(View):
    id: str
    action: str  # created, updated, unchanged


class ApplyReport(View):
    results: list[Applied]
    warnings: list[str]
    connections: list[ConnectionApplied] = []
    channels: list[ConnectionApplied] = []


class Enabled(View):
    id: str
    enabled: bool


class Deleted(View):
    deleted: str
    cancelled_runs: list[int]


class DependencyGraph(View):
    depends_on: dict[str, list[str]]
    dependents: dict[str, list[str]]


# -- runs -----------------------------------------------------------------------------------


class Run(View):
    id: int
    migration_id: str
    spec_version: int
    trigger: Trigger
    nominal_time: Instant
    logical_date: Instant | None
    state: State
    reason: str | None
    exit_code: int | None
    error_tail: str | None
    attempt: int
    created_by: str
    created_at: Instant
    started_at: Instant | None
    ended_at: Instant | None
    updated_at: Instant
    lease_owner: str | None
    lease_expires_at: Instant | None
    heartbeat_at: Instant | None
    control: ControlRequest | None
    checkpoint: dict[str, Any] | None
    progress: Progress | None
    pool: str | None
    not_before: Instant | None
    waiting_for: str | None
    retry_of: int | None
    worker_pid: int | None
    warned_at: Instant | None
    backfill_id: int | None
    overrides: dict[str, Any] | None = None
    ignore_windows: bool = False

    @property
    def succeeded(self) -> bool:
        return self.state in lifecycle.SUCCEEDED

    @property
    def active(self) -> bool:
        return self.state in lifecycle.ACTIVE

    @property
    def says(self) -> str:
        """What a run says for itself: what it waits for while queued, else its last reason."""
        if self.state in (State.CREATED, State.PAUSED) and self.waiting_for:
            return self.waiting_for
        return self.reason or ""


class MigrationDetail(View):
    migration: Migration
    runs: list[Run]


class WorkerStarted(View):
    run: int
    worker_pid: int


class Queued(View):
    run: int


class Log(View):
    run: int
    stream: str
    path: str
    content: str


class AuditEntry(View):
    id: int
    at: Instant
    actor: str
    migration_id: str | None
    run_id: int | None
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    details: dict[str, Any] | None


class TriggerEvent(View):
    id: int
    at: Instant
    migration_id: str | None
    event_type: str
    payload: dict[str, Any] | None
    outcome: str
    run_id: int | None
    reason: str | None


# -- schedules and windows ------------------------------------------------------------------


class Schedule(View):
    migration_id: str
    status: ScheduleStatus
    next_fire_at: Instant | None
    last_fire_at: Instant | None
    spec_version: int
    updated_at: Instant


class WindowSpan(View):
    opens_at: Instant
    closes_at: Instant | None  # None: no close within the search limit
    names: tuple[str, ...]

    @property
    def name(self) -> str:
        return " + ".join(self.names)


class StartDecision(View):
    due: Instant
    action: StartAction
    start_at: Instant | None
    warn_at: Instant | None
    stop_at: Instant | None
    at_close: OutsideWindow | None
    window: WindowSpan | None
    reason: str

    @property
    def delayed(self) -> bool:
        return self.start_at is not None and self.start_at > self.due


class Upcoming(View):
    """A migration's timing at a glance: its zone, schedule kind and next decisions."""

    timezone: str
    schedule: str | None  # the schedule's kind, None when it has none
    decisions: list[StartDecision]
    windows: list[WindowSpan]
    open_now: WindowSpan | None


class Windows(View):
    timezone: str
    open_now: WindowSpan | None
    windows: list[WindowSpan]
    defined: bool  # False: the migration has no windows and may start at any time


# -- daemons and backfills ------------------------------------------------------------------


class PidFile(View):
    pid: int | None
    alive: bool
    path: str

    @property
    def stale(self) -> bool:
        return self.pid is not None and not self.alive


class Daemon(View):
    id: str
    host: str
    pid: int
    started_at: Instant
    heartbeat_at: Instant
    stopping: bool


class DaemonStatus(View):
    pid_file: PidFile  # this home's daemon, by its pid file
    live: list[Daemon]  # every daemon heartbeating into this state store


class DaemonStarted(View):
    pid: int
    log: str


class DaemonStopped(View):
    pid: int | None
    was_stale: bool


class BackfillPlan(View):
    start: Instant
    end: Instant
    reprocess: str
    fires: list[Instant]
    runs: list[Instant]  # the fires it would run (new runs, and new attempts)
    reprocessed: int  # of those, fires that ran before and get a new attempt
    already_done: int


class Backfill(View):
    id: int
    migration_id: str
    start: Instant
    end: Instant
    reprocess: str
    parallel: int
    runs: int
    created_by: str
    created_at: Instant

    @property
    def backfill_id(self) -> int:
        """The id, by the name the Python scheduler API gives it."""
        return self.id


class BackfillQueued(View):
    backfill: int
    runs: int


class BackfillProgress(View):
    counts: dict[str, int]  # state -> runs in it

    @property
    def ended(self) -> int:
        return sum(n for state, n in self.counts.items() if State(state) in lifecycle.ENDED)

    @property
    def active(self) -> bool:
        return any(State(state) in lifecycle.ACTIVE for state in self.counts)


class BackfillResult(View):
    backfill: int
    succeeded: int
    failed: int


# -- copies ---------------------------------------------------------------------------------


class PlannedColumn(View):
    source: str | None  # None: a new column an expression fills
    source_type: str
    target: str
    target_type: str
    conversion: str  # how values change, in words
    lossy: str | None  # why some values may not survive (allowed, or the plan refuses)
    written: bool  # False: the target generates it
    generated: str | None


class PlannedObject(View):
    kind: str  # table, partition, primary key, unique, index, check, foreign key, ...
    name: str
    when: str  # "before the rows" or "after the rows"


class PlannedTable(View):
    source: str
    target: str
    rows: int
    key: tuple[str, ...]
    create: bool
    binary: bool
    how: str
    columns: list[PlannedColumn]
    objects: list[PlannedObject]
    notes: list[str]  # what is not recreated, and why


class PlanProblem(View):
    table: str
    column: str | None
    message: str  # with what resolves it
    refused: bool  # False: a warning


class CopyPlan(View):
    tables: list[PlannedTable]
    types: list[str]  # created before the tables
    errors: list[str]
    warnings: list[str]
    problems: list[PlanProblem]


# -- planning and approval ------------------------------------------------------------------


class Approval(View):
    run_id: int
    actor: str
    decision: str  # approved, rejected
    digest: str  # the plan digest decided on
    note: str | None
    at: Instant
    void_at: Instant | None  # a change of spec, source schema or mapping voided it
    void_reason: str | None


class RiskFinding(View):
    rule: str  # a stable rule id: keyless-table, non-empty-target, ... (docs/risks.md)
    severity: str  # low, medium, high
    subject: str  # the table, column or migration it is about
    message: str
    remediation: str


class Suggestion(View):
    """A likely mapping the target's existing tables suggest: a source table (column
    None) or column to a target table or column, scored from names, types and values."""

    sid: str  # stable: the same mapping has the same id in every plan
    source_table: str
    source_column: str | None  # None: the table itself
    target_table: str
    target_column: str | None
    score: float  # in [0, 1]
    review: bool  # scored below 0.8: look before accepting
    reasons: list[str]
    candidates: list[tuple[str, float]]  # the best targets for it (up to 3), best first

    @property
    def source(self) -> str:
        """``table`` or ``table.column``."""
        return self.source_table + (f".{self.source_column}" if self.source_column else "")

    @property
    def target(self) -> str:
        return self.target_table + (f".{self.target_column}" if self.target_column else "")


class StoredPlan(CopyPlan):
    """A stored plan: its version and digest, both schemas as analysed, the mappings (the
    copy plan's fields, empty for other kinds), the DAG, and the approvals of its run."""

    migration_id: str
    version: int
    digest: str  # SHA-256 of the canonical form of spec, schema, mappings and dag
    spec_version: int
    run_id: int | None  # None: made on demand
    author: str | None  # who wrote that spec version
    created_by: str
    created_at: Instant
    schemas: dict[str, Any]  # {"source": {table: shape}, "target": {table: shape}}
    dag: dict[str, Any]  # {"tables": load order, "edges": [child, parent], "after": [...]}
    unavailable: str | None = None  # a side could not be reached: nothing was analysed
    risks: list[RiskFinding] = []  # most severe first
    suggestions: list[Suggestion] = []  # tables first; accept one to write it in the spec
    # per table, per column, from a sample: null_fraction, distinct_estimate, min, max,
    # length {min, median, p95, max}, top [[value, count]]
    profile: dict[str, Any] = {}
    # measured: seconds, target_bytes, and per table rows, sample_rows,
    # read_rows_per_second, write_rows_per_second, seconds, target_bytes
    estimate: dict[str, Any] | None = None
    # with the windows: {windows, starts_at, finishes_at, text: "needs 3 windows; ..."}
    forecast: dict[str, Any] | None = None
    approvals_needed: int = 0
    approvals: list[Approval] = []
    notes: list[str] = []  # what storing it did to runs awaiting approval


class Accepted(View):
    """A suggestion written into the migration's mapping: its new spec version."""

    suggestion: Suggestion
    applied: Applied


class Decision(View):
    """An approval or a rejection, and where the run stands after it."""

    run: Run
    decision: str
    digest: str
    approved_by: list[str]
    required: int


class Noted(View):
    migration_id: str
    actor: str
    text: str
    at: Instant


class TableCheck(View):
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str
    matches: bool
    unfinished: list[str] = []  # key ranges or phases the latest copy did not finish


class RecentEvent(View):
    """Something an operator watches for: a pause or resume, a window ending, a skip,
    the notice before a scheduled start (``domain.notices.NOTABLE``)."""

    at: Instant
    kind: str
    run_id: int | None
    summary: str


class CopyStatus(View):
    run: int
    state: State
    reason: str | None
    progress: Progress | None
    events: list[RecentEvent] = []  # the migration's latest notable events, newest first


class Bottleneck(View):
    run: int
    stage: str | None  # read, transform, write; None before any batch
    shares: dict[str, float]  # share of the time per stage
    rate: float  # rows per second, all tables
    advice: str


class CopyError(View):
    """A row the target refused, set aside in the error queue (its values redacted)."""

    id: int
    migration_id: str
    run_id: int
    table_name: str
    row_key: str | None
    row_values: dict[str, Any]
    message: str
    status: str  # open, skipped, resolved
    resolution: str | None
    resolved_by: str | None
    resolved_at: Instant | None
    attempts: int
    created_at: Instant


class TableLag(View):
    table: str
    watermark: Any
    newest: Any
    rows_behind: int
    distance: str | None


class Rollback(View):
    id: int
    migration_id: str
    strategy: str
    state: str  # running, completed, failed
    tables: list[dict[str, Any]]
    reason: str | None
    created_by: str
    started_at: Instant
    ended_at: Instant | None


# -- connections, keys, schedules over HTTP -------------------------------------------------


class Connection(View):
    id: str
    type: str
    url: str  # as written: ${ENV} references, any literal password masked
    name: str
    source_file: str | None
    created_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, record: ConnectionRecord) -> Connection:
        return cls.model_validate(record).model_copy(update={"url": redact_url(record.url)})


class ConnectionTest(View):
    ok: bool
    reason: str | None  # why it could not connect; never a secret
    seconds: float
    connection: str | None  # the named connection tested, if any


class ApiKey(View):
    name: str
    scope: str
    prefix: str
    created_by: str
    created_at: Instant
    revoked_at: Instant | None


class KeyCreated(View):
    """A new key: ``key`` is shown this once and never kept."""

    name: str
    scope: str
    key: str


class Principal(View):
    """Who is calling, by key."""

    name: str
    scope: str

    @property
    def actor(self) -> str:
        return f"api:{self.name}"


class Session(View):
    """A dashboard login: ``token`` is the session cookie's value, shown this once."""

    token: str
    principal: Principal
    expires_at: Instant


class ScheduleDetail(View):
    migration_id: str
    kind: str  # immediate, start_at, cron, interval, event
    schedule: dict[str, Any]  # as the spec gives it
    timezone: str
    status: ScheduleStatus | None  # None: nothing left to fire
    next_fire_at: Instant | None
    last_fire_at: Instant | None


class Replay(View):
    """The stored answer to a request made before with the same key."""

    status_code: int
    content_type: str | None
    body: str


class Health(View):
    status: str  # ok, or what is wrong
    store: str  # the state store's kind (sqlite, postgresql)


# -- calendar and metrics -------------------------------------------------------------------


class AgendaEntry(View):
    uid: str  # the same on every refresh for the same fire or window
    migration_id: str
    kind: str  # run, window
    summary: str
    description: str
    starts_at: Instant
    ends_at: Instant
    timezone: str


class Agenda(View):
    items: list[AgendaEntry]


class CopyNumbers(View):
    """The latest run of a copy, as the metrics show it."""

    migration_id: str
    run: int
    state: State
    progress: Progress


class Metrics(View):
    runs_by_state: dict[str, int]
    copies: list[CopyNumbers]
    open_errors: dict[str, int]  # migration -> rows in its error queue
    windows_open: dict[str, bool]  # migration (with windows) -> open now
    incremental_lag_seconds: dict[str, float]  # since the latest good pass started
    scheduler_lateness_seconds: float  # how far past due the most overdue fire is
    daemons: int


# -- validation -----------------------------------------------------------------------------


class Perspective(View):
    """One perspective's result: whether it passed, what it counted, how many divergences
    it found and how many are kept (``validation.max_divergences``)."""

    perspective: str
    passed: bool
    summary: str
    found: int
    kept: int
    counts: dict[str, int]
    tables: dict[str, dict[str, str | int]]


class ValidationReport(View):
    """One validation of a copied migration: its perspectives' results."""

    id: int
    migration_id: str
    run_id: int | None  # the latest run when it ran (moved to certified or failed if completed)
    run_state: State | None  # that run's state after it
    state: str  # running, passed, failed, error
    passed: bool
    summary: str | None
    results: list[Perspective]
    created_by: str
    started_at: Instant
    ended_at: Instant | None


class Divergence(View):
    """A divergence as kept: the key and both sides' values, redacted columns masked."""

    id: int
    perspective: str
    table: str
    kind: str  # missing, extra, changed, orphan
    what: str
    key: dict[str, str | None] | None = None
    source: dict[str, Any] | None = None
    target: dict[str, Any] | None = None


class SigningKey(View):
    """A signing key pair: where each half is, and the key's id (SHA-256 of its raw bytes)."""

    private_key: str
    public_key: str
    key_id: str


class Certificate(View):
    """A signed certificate: the DSSE envelope (what to hand over), the statement inside it
    and the ids of the keys that signed it."""

    envelope: dict[str, Any]
    statement: dict[str, Any]
    key_ids: list[str]


class CertificateCheck(View):
    """An offline verification: valid, or why not."""

    valid: bool
    reason: str | None = None
    key_ids: list[str] = []
    migration_id: str | None = None
    run_id: int | None = None
    subjects: list[dict[str, Any]] = []


class ValidationDetail(View):
    """A validation with a page of its divergences (``moonshift validation show``)."""

    validation: ValidationReport
    divergences: Page[Divergence]
