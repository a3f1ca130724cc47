"""Running a copy: prepare the target once, then copy each table's key ranges, parents first,
``parallel`` ranges at a time, obeying stop requests between batches."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import Any, TypeVar

from moonshift.clock import beating
from moonshift.connectors.base import Connector, classified
from moonshift.copy import boundaries, keys
from moonshift.copy.batches import (
    Aborted,
    BadRow,
    Batch,
    Flags,
    RangeCopier,
    RangeJob,
    SideError,
    run_ahead,
    streams,
    tagged,
)
from moonshift.copy.bookkeeping import (
    PREPARED,
    Bookkeeping,
    CheckpointMoved,
    Phase,
    RangeState,
)
from moonshift.copy.claims import RangeQueue
from moonshift.copy.plan import CopyPlan, TablePlan
from moonshift.copy.progress import Progress
from moonshift.copy.rollback import take_snapshot
from moonshift.domain.copy_spec import CopySpec, Mode, OnExceed, TargetPrep
from moonshift.domain.progress import Progress as ProgressSnapshot
from moonshift.errors import TerminalError, TransientError
from moonshift.seams import OWNERSHIP_LOST, Outcome, RangeLeases

log = logging.getLogger("moonshift.copy")
POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 1.0
RATE_SAMPLE_ROWS = 1000  # error rates are judged once this many rows were seen
_T = TypeVar("_T")


class Unavailable(Exception):
    def __init__(self, side: str, cause: SideError) -> None:
        super().__init__(f"{side}_unavailable: {cause}")
        self.side, self.cause = side, cause


class ErrorBudgetExceeded(Exception):
    pass


class Refused(TerminalError):
    """A statement creating something before or after the rows, which the target refused
    (a type it lacks, rows that break a foreign key)."""


@dataclass
class Controls:
    """What the job around the copy provides: when to stop, live settings, where bad rows go."""

    should_stop: Callable[[], str | None]
    immediate: Callable[[], bool]
    settings: Callable[[], dict[str, Any]]
    record_bad_rows: Callable[[list[BadRow]], None]
    report: Callable[[ProgressSnapshot], None]
    heartbeat: Callable[[], None] = lambda: None  # keeps the run's lease while SQL runs long
    retried: Callable[[str], None] = lambda _text: None  # kept in the run's history
    ranges: RangeLeases | None = None  # key ranges leased to the workers of every daemon


@dataclass
class _Errors:
    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0
    seen: int = 0


class CopyRunner:
    def __init__(
        self,
        spec: CopySpec,
        plan: CopyPlan,
        source: Connector,
        target: Connector,
        *,
        migration_id: str,
        copy_id: int,
        controls: Controls,
    ) -> None:
        self.spec, self.plan, self.source, self.target = spec, plan, source, target
        self.controls = controls
        self.book = Bookkeeping(target, spec.bookkeeping_table, migration_id, copy_id)
        self.flags = Flags()
        self.progress = Progress({t.target: t.rows for t in plan.tables})
        # refused rows are queued by their source table (where `errors retry` reads them);
        # progress and checkpoints go by the target table
        self._target_of = {t.source: t.target for t in plan.tables}
        self.errors = _Errors()
        self._failure: BaseException | None = None
        self._stop_reason: str | None = None
        self._key_bounds: tuple[int, int, int] | None = None  # of the table being copied
        self.helping = False  # copying ranges of a run another worker holds

    def help(self) -> Outcome:
        """Copy what ranges can be claimed of a copy that another worker (of any daemon)
        runs and has prepared: no preparing, no phases after the rows; that worker ends
        the run."""
        self.helping = True
        try:
            states, watermarks = self._retrying("joining", self._joined)
        except (Unavailable, Aborted) as exc:
            return Outcome(stopped=str(exc) or "stopped")
        ranges = self.controls.ranges
        assert ranges is not None
        try:
            for table in self.plan.tables:
                mine = [s for (n, r), s in states.items() if n == table.target and r >= 0]
                if table.key and not self.flags.stop.is_set() and ranges.left(table.target):
                    self._copy_table(table, mine, watermarks.get(table.target))
        except (Aborted, Unavailable, SideError, ErrorBudgetExceeded) as exc:
            ranges.release()
            return Outcome(stopped=f"helper stopped: {exc}")
        return Outcome(stopped=self._stop_reason) if self.flags.stop.is_set() else Outcome()

    def _joined(self) -> tuple[dict[tuple[str, int], RangeState], dict[str, str | None]]:
        conn = _connect(self.target, "target")
        try:
            with _side(self.target, "target"):
                states = self.book.load(conn)
                if PREPARED not in states:
                    return {}, {}
                return states, self.book.watermarks(conn)
        finally:
            _close(conn)

    # -- the whole copy -------------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            states, watermarks = self._retrying("preparing", self._open)
        except Unavailable as exc:
            return Outcome(pause=str(exc))
        except Aborted:
            return Outcome(stopped=self._stop_reason or "stopped")
        except SideError as exc:
            if isinstance(exc.error, Refused):
                return Outcome(failure=str(exc.error))
            raise
        for table in self.plan.tables:
            for (name, rid), state in states.items():
                if name == table.target and rid >= 0:
                    self.progress.restore(name, state.rows_done, state.done)
        stopped = pause = failed = None
        try:
            for table in self.plan.tables:
                ranges = [s for (n, r), s in sorted(states.items()) if n == table.target and r >= 0]
                if all(r.done for r in ranges):
                    continue
                self._copy_table(
                    table, [r for r in ranges if not r.done], watermarks.get(table.target)
                )
                if self.flags.stop.is_set():
                    break
            else:
                self._retrying("after the rows", self._after_load)
        except Aborted:
            pass
        except Unavailable as exc:
            pause = str(exc)
        except SideError as exc:
            if exc.transient:  # met outside the retries (between tables): resumed later
                pause = str(Unavailable(exc.side, exc))
            else:
                failed = str(exc)
        except ErrorBudgetExceeded as exc:
            if self.spec.error_policy.on_exceed is OnExceed.PAUSE:
                pause = str(exc)
            else:
                failed = str(exc)
        finally:
            self.controls.report(self.progress.snapshot())
        if self.flags.stop.is_set() and pause is None and failed is None:
            stopped = self._stop_reason or "stopped"
        return Outcome(failure=failed, stopped=stopped, pause=pause)

    # -- preparing the target, once per copy ------------------------------------------------

    def _open(self) -> tuple[dict[tuple[str, int], RangeState], dict[str, str | None]]:
        """The copy's ranges, preparing the target first if this copy has not yet."""
        conn = _connect(self.target, "target")
        try:
            with _side(self.target, "target"):
                self.book.ensure(conn)
                states = self.book.load(conn)
                if PREPARED not in states:
                    with self._keepalive():
                        states = self.prepare(conn)
                return states, self.book.watermarks(conn)
        finally:
            _close(conn)

    def prepare(self, conn: Any) -> dict[tuple[str, int], RangeState]:
        """Empty or create the target tables as the spec says and lay out key ranges; the
        layout and a 'prepared' mark commit together, so a crash before it prepares again.
        The phases after the load are recorded first where DDL commits on its own (MySQL),
        so that a prepare interrupted after creating tables still leaves them to do."""
        target, q = self.target, self.target.quote
        recorded = self.book.phases(conn)
        phases = recorded or self._phases(conn)
        if not recorded and not target.capabilities.transactional_ddl:
            target.begin(conn)
            self.book.add_phases(conn, phases)
            conn.commit()
        cursor = conn.cursor()
        target.begin(conn)
        if self.spec.snapshot:
            saved = take_snapshot(conn, target, self.plan, self.book.migration_id)
            log.info("saved %d target tables before the copy", len(saved))
        if self.spec.target_prep is TargetPrep.TRUNCATE:
            for name in self.plan.targets_to_clear:
                if any(t.target == name and t.exists for t in self.plan.tables):
                    target.truncate(conn, name)
        for name in self.plan.drops:
            cursor.execute(f"DROP TABLE {q(name)}")
        for step in self.plan.before:
            try:
                cursor.execute(step.sql)
            except Exception as exc:
                if isinstance(target.translate(exc), TransientError):
                    raise
                _rollback(conn)
                raise SideError("target", Refused(f"the target refused {step}: {exc}")) from exc
        ranges = [r for table in self.plan.tables for r in self._ranges(table)]
        self.book.forget_other_copies(conn)
        self.book.insert(conn, ranges)
        if not recorded and target.capabilities.transactional_ddl:
            self.book.add_phases(conn, phases)
        self.book.mark(conn, PREPARED)
        conn.commit()
        return {(r.table, r.range_id): r for r in ranges}

    def _phases(self, conn: Any) -> list[Phase]:
        """The plan's phases, and those an earlier copy left unfinished on tables this one
        does not create anew."""
        created = {t.target for t in self.plan.tables if t.create}
        planned = [Phase(s.table, s.kind, s.name, s.sql) for s in self.plan.phases]
        seen = {(p.table, p.kind, p.name) for p in planned}
        left = [
            p
            for p in self.book.unfinished(conn)
            if p.table not in created and (p.table, p.kind, p.name) not in seen
        ]
        return planned + left

    def _ranges(self, table: TablePlan) -> list[RangeState]:
        upper = self._upper(table) if table.cursor else None
        whole = [
            RangeState(
                table.target,
                0,
                None,
                None,
                None,
                0,
                table.cursor is not None and upper is None,
                upper,
            )
        ]
        batch = self.spec.batch_rows(streams(table, self.spec.mode is Mode.INCREMENTAL))
        splittable = (
            bool(table.key)
            and not table.cursor
            and self.target.capabilities.parallel_writes
            and self.spec.parallel > 1
            and table.rows > 2 * batch
        )
        if not splittable:
            return whole
        count = min(self.spec.parallel * 2, max(1, table.rows // batch))
        found = self._boundaries(table, count)
        if not found:
            return whole
        return [
            RangeState(table.target, i, lo, hi, None, 0, False)
            for i, (lo, hi) in enumerate(boundaries.ranges(found))
        ]

    def _boundaries(self, table: TablePlan, count: int) -> list[tuple[Any, ...]]:
        """Where the table's ranges split: evenly spaced values of a single integer key,
        an ordered sample's key tuples for any other key."""
        if table.first_key_is_int and len(table.key) == 1:
            low, high = self._bounds(table)
            if low is None or high is None or high - low < 2:
                return []
            return boundaries.even(low, high, count)
        conn = _connect(self.source, "source")
        try:
            with _side(self.source, "source"):
                return boundaries.sampled(self.source, conn, table, count)
        finally:
            _close(conn)

    def _bounds(self, table: TablePlan) -> tuple[int | None, int | None]:
        q = self.source.quote
        conn = _connect(self.source, "source")
        try:
            with _side(self.source, "source"):
                cursor = conn.cursor()
                where = f" WHERE {table.where}" if table.where else ""
                key = q(table.key[0])
                cursor.execute(f"SELECT MIN({key}), MAX({key}) FROM {table.source_from}{where}")
                low, high = cursor.fetchone()
            return (None if low is None else int(low)), (None if high is None else int(high))
        finally:
            _close(conn)

    def _upper(self, table: TablePlan) -> str | None:
        """The incremental pass's upper bound: the cursor's greatest value now."""
        assert table.cursor
        q = self.source.quote
        conn = _connect(self.source, "source")
        try:
            with _side(self.source, "source"):
                cursor = conn.cursor()
                where = f" WHERE {table.where}" if table.where else ""
                cursor.execute(f"SELECT MAX({q(table.cursor)}) FROM {table.source_from}{where}")
                (value,) = cursor.fetchone()
            return None if value is None else keys.encode([value])
        finally:
            _close(conn)

    def _keepalive(self) -> AbstractContextManager[None]:
        """Heartbeat from a thread while one long statement (a truncate, a snapshot, a
        foreign key check) holds the copy's own thread."""
        return beating(self.controls.heartbeat, KEEPALIVE_SECONDS, "moonshift-keepalive")

    def _after_load(self) -> None:
        """The phases after the load, each checkpointed in the target: a resumed, restarted
        or taken-over copy does the ones not done, whatever its own plan finds."""
        conn = _connect(self.target, "target")
        try:
            with _side(self.target, "target"):
                phases = self.book.phases(conn)
            for phase in phases:
                if phase.done:
                    continue
                self._obey()
                if self.flags.stop.is_set():
                    return
                self.controls.report(
                    self.progress.snapshot().model_copy(update={"phase": str(phase)})
                )
                self._run_phase(conn, phase)
        finally:
            _close(conn)

    def _run_phase(self, conn: Any, phase: Phase) -> None:
        self.target.begin_build(conn)
        try:
            with self._keepalive():
                conn.cursor().execute(phase.sql)
        except Exception as exc:
            _rollback(conn)
            translated = self.target.translate(exc)
            if isinstance(translated, TransientError):
                raise SideError("target", translated) from exc
            if not self.target.already_exists(exc):
                refused = Refused(f"{phase} on {phase.table}: {translated}")
                raise SideError("target", refused) from exc
            self.target.begin(conn)  # made before a crash that came ahead of its checkpoint
        with _side(self.target, "target"):
            self.book.finish_phase(conn, phase)
            conn.commit()

    # -- one table ------------------------------------------------------------------------

    def _copy_table(
        self, table: TablePlan, ranges: list[RangeState], watermark: str | None
    ) -> None:
        self.progress.start(table.target)
        self._key_bounds = self._value_batches(table)
        queue = RangeQueue(
            table.target,
            ranges,
            self.controls.ranges if table.key else None,
            self._reload,
            wait_for_others=not self.helping,
        )
        running: dict[threading.Thread, RangeState] = {}
        ended: SimpleQueue[threading.Thread] = SimpleQueue()  # each range's thread, as it ends
        while queue.more(len(running)):
            limit = 1 if not self.target.capabilities.parallel_writes else self._setting("parallel")
            while len(running) < limit and not self.flags.stop.is_set():
                state = queue.next()
                if state is None:
                    break
                thread = threading.Thread(
                    target=self._guarded,
                    args=(table, state, watermark, queue, ended),
                    name=f"copy-{table.target}-{state.range_id}",
                    daemon=True,
                )
                running[thread] = state
                thread.start()
            for thread in _ended(ended, POLL_SECONDS):
                thread.join()
                running.pop(thread, None)
            self._obey()
            queue.keep_alive()
            self.controls.report(self.progress.snapshot())
            if self.flags.stop.is_set() and not running:
                break
        if self.flags.stop.is_set():
            queue.give_back()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        if not self.flags.stop.is_set():
            self.progress.finish(table.target)

    def _value_batches(self, table: TablePlan) -> tuple[int, int, int] | None:
        """For a streamed table with one integer key: its (min, max, rows), so that batches
        can be ranges of key values and need no look-ahead query."""
        by_values = table.binary or table.csv is not None
        streamed = by_values and table.first_key_is_int and len(table.key) == 1
        if not streamed or table.cursor or self.spec.mode is Mode.INCREMENTAL:
            return None
        low, high = self._bounds(table)
        return None if low is None or high is None else (low, high, max(table.rows, 1))

    def _obey(self) -> None:
        if self.flags.stop.is_set():
            return
        reason = self.controls.should_stop()
        if reason:
            self._stop_reason = reason
            if self.controls.immediate():
                self.flags.abort.set()
            self.flags.stop.set()

    def _batch_rows(self, streamed: bool) -> int:
        return self._live("batch_size") or self.spec.batch_rows(streamed)

    def _setting(self, name: str) -> int:
        return self._live(name) or int(getattr(self.spec, name))

    def _live(self, name: str) -> int | None:
        """A setting as an operator set it on the running copy; None where none did (then
        the spec's holds)."""
        value = self.controls.settings().get(name)
        return int(value) if value else None

    def _guarded(
        self,
        table: TablePlan,
        state: RangeState,
        watermark: str | None,
        queue: RangeQueue,
        ended: SimpleQueue[threading.Thread],
    ) -> None:
        """A range's thread; it tells ``ended`` when it is done, so that the next range
        starts at once rather than at the next poll."""
        try:
            if self._copy_range(table, state, watermark) and not self.flags.stop.is_set():
                queue.finished(state)
        except BaseException as exc:
            if self._failure is None:
                self._failure = exc
            self.flags.stop.set()
        finally:
            ended.put(threading.current_thread())

    def _copy_range(self, table: TablePlan, state: RangeState, watermark: str | None) -> bool:
        """False when another worker took the range over."""
        attempts = 0

        def attempt() -> bool:
            nonlocal attempts
            attempts += 1
            # after a failure the target's checkpoint is the truth
            current = state if attempts == 1 else self._reload(state)
            return self._copy_range_once(table, current, watermark)

        return self._retrying(f"{table.target} range {state.range_id}", attempt)

    def _retrying(self, what: str, attempt: Callable[[], _T]) -> _T:
        """``attempt()``, tried again on a transient failure of either side with exponential
        backoff and jitter; past ``max_retries`` the side is Unavailable (the run pauses and
        resumes later). A stop request during a backoff raises Aborted."""
        failures = 0
        while True:
            try:
                return attempt()
            except SideError as exc:
                if not exc.transient:
                    raise
                failures += 1
                if failures > self.spec.max_retries:
                    raise Unavailable(exc.side, exc) from exc
                delay = self.spec.retry_backoff.total_seconds() * 2 ** (failures - 1)
                delay *= 1 + random.random() / 2  # jitter: several ranges do not retry in step
                said = f"{exc}; retry {failures} of {self.spec.max_retries} in {delay:.1f}s"
                log.warning("%s: %s", what, said)
                self.controls.retried(f"{what}: {said}")
                if self._backoff(delay):
                    raise Aborted() from exc

    def _backoff(self, delay: float) -> bool:
        """Wait ``delay`` seconds, heeding stop requests; True when told to stop."""
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            if self.flags.stop.wait(min(left, POLL_SECONDS)):
                return True
            if threading.current_thread() is threading.main_thread():
                self._obey()
                self.controls.heartbeat()
        return self.flags.stop.is_set()

    def _reload(self, state: RangeState) -> RangeState:
        """The range's checkpoint as the target holds it."""
        conn = _connect(self.target, "target")
        try:
            with _side(self.target, "target"):
                return self.book.load(conn)[(state.table, state.range_id)]
        finally:
            _close(conn)

    def _copy_range_once(self, table: TablePlan, state: RangeState, watermark: str | None) -> bool:
        job = RangeJob(
            plan=table,
            state=state,
            source=self.source,
            target=self.target,
            book=self.book,
            flags=self.flags,
            batch_size=self._batch_rows,
            upsert=self.spec.mode is Mode.INCREMENTAL,
            watermark=keys.decode(watermark),
            on_bad_rows=self._bad_rows,
            key_bounds=self._key_bounds,
        )
        copier = RangeCopier(job)
        src = _connect(self.source, "source")
        try:
            tgt = _connect(self.target, "target")
        except SideError:
            src.close()
            raise
        after = keys.decode(state.last_key)
        read = tagged if copier.streams else run_ahead
        batches = read(copier.read(src, after), "source", self.source.translate)
        try:
            with self.target.writing(tgt) as pace:
                for batch in batches:
                    pace()
                    if not self._write(copier, tgt, table, batch, after):
                        return False
                    after = batch.last
                    if self.flags.stop.is_set():
                        return True
        finally:
            batches.close()  # its reader thread ends before the connection it reads closes
            copier.close()
            src.close()
            tgt.close()
        return True

    def _write(
        self,
        copier: RangeCopier,
        tgt: Any,
        table: TablePlan,
        batch: Batch,
        after: tuple[Any, ...] | None,
    ) -> bool:
        """Write a batch with its checkpoint; False when another worker took the range."""
        started = time.perf_counter()
        try:
            written = copier.write(tgt, batch, after)
        except (Aborted, SideError):
            raise
        except CheckpointMoved:
            _rollback(tgt)
            if self.controls.ranges is not None:
                return False  # its lease expired here: another worker has the range
            self._stop_reason = OWNERSHIP_LOST
            self.flags.stop.set()
            return False
        except Exception as exc:
            _rollback(tgt)
            raise SideError("target", self.target.translate(exc)) from exc
        writing = time.perf_counter() - started - batch.read_while_writing
        read_seconds = batch.read_seconds + batch.read_while_writing
        self.progress.add(table.target, written, read_seconds, batch.transform_seconds, writing)
        self._check_error_budget(batch)
        return True

    def _check_error_budget(self, batch: Batch) -> None:
        """After a batch: raise ErrorBudgetExceeded when the error policy is exceeded."""
        policy = self.spec.error_policy
        with self.errors.lock:
            self.errors.seen += batch.count
            count, seen = self.errors.count, self.errors.seen
        over = count > policy.max_errors or (
            seen >= RATE_SAMPLE_ROWS and count / seen > policy.max_error_rate
        )
        if over:
            raise ErrorBudgetExceeded(
                f"error_policy: {count} bad rows in {seen} (max_errors {policy.max_errors}, "
                f"max_error_rate {policy.max_error_rate})"
            )

    def _bad_rows(self, rows: list[BadRow]) -> None:
        if not rows:
            return
        self.controls.record_bad_rows(rows)
        with self.errors.lock:
            self.errors.count += len(rows)
        for row in rows:
            self.progress.bad(self._target_of[row.table])


def _ended(ended: SimpleQueue[threading.Thread], timeout: float) -> list[threading.Thread]:
    """The threads that ended, waiting up to ``timeout`` seconds for the first (also when
    none runs: the ranges left are other workers', and the copy waits on them)."""
    try:
        found = [ended.get(timeout=timeout)]
    except Empty:
        return []
    while not ended.empty():
        found.append(ended.get_nowait())
    return found


def _connect(connector: Connector, side: str) -> Any:
    try:
        return connector.connect()
    except Exception as exc:
        raise SideError(side, classified(exc, transient=True)) from exc


@contextmanager
def _side(connector: Connector, side: str) -> Iterator[None]:
    """Failures inside as ``side``'s, of their kind (a lost connection is transient)."""
    try:
        yield
    except (SideError, Aborted, CheckpointMoved, KeyError):
        raise
    except Exception as exc:
        raise SideError(side, connector.translate(exc)) from exc


def _close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        log.debug("closing a connection after a failure failed too", exc_info=True)


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:
        log.debug("rollback after a failed batch failed too", exc_info=True)
