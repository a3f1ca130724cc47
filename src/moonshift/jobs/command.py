"""The ``command`` job: a program run in its own process group, its output kept in log files."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from moonshift.domain.durations import format_duration
from moonshift.domain.secrets import Masker, MissingVariableError, resolved_values, substitute
from moonshift.domain.spec import CommandSpec
from moonshift.errors import TerminalError
from moonshift.files import open_private, private_folder
from moonshift.seams import JobContext, Outcome, StopCheck

POLL_SECONDS = 0.1
TAIL_LINES = 20
TAIL_BYTES = 4000
CHUNK_BYTES = 65536
# Output still arriving after the command ended (from a child it left behind) is awaited
# this long before the run's outcome is recorded.
COPY_GRACE_SECONDS = 5


def log_paths(log_dir: Path, run_id: int) -> tuple[Path, Path]:
    return log_dir / f"{run_id}-stdout.log", log_dir / f"{run_id}-stderr.log"


class CommandJob:
    def __init__(
        self,
        spec: CommandSpec,
        *,
        log_dir: Path,
        run_id: int,
        environ: Mapping[str, str],
        extra_env: Mapping[str, str],
    ) -> None:
        self.spec = spec
        self.log_dir = log_dir
        self.run_id = run_id
        self.environ = environ
        self.extra_env = extra_env
        self._env: dict[str, str] = {}
        self._secrets: list[str] = []

    def prepare(self) -> None:
        env = dict(self.environ)
        for key, value in self.spec.env.items():
            try:
                env[key] = substitute(value, self.environ)
            except MissingVariableError as exc:
                raise TerminalError(f"command.env.{key}: {exc}") from None
            self._secrets += resolved_values(value, self.environ)
        env.update(self.extra_env)
        if self.spec.cwd and not Path(self.spec.cwd).is_dir():
            raise TerminalError(f"command.cwd: no such directory: {self.spec.cwd}")
        self._env = env
        private_folder(self.log_dir)

    def describe(self) -> dict[str, Any]:
        return {}

    def run(self, ctx: JobContext) -> Outcome:
        paths = log_paths(self.log_dir, self.run_id)
        try:
            process, copiers = self._start(paths)
        except OSError as exc:
            return Outcome(failure=f"cannot start {self.spec.argv[0]}: {exc.strerror}")
        except ValueError as exc:  # a NUL byte or "=" in a spec stored before they were refused
            return Outcome(failure=f"cannot start {self.spec.argv[0]}: {exc}")
        try:
            outcome = self._supervise(process, ctx.should_stop)
        finally:
            for copier in copiers:
                copier.join(timeout=COPY_GRACE_SECONDS)
        tail = _tail(paths[1])
        return Outcome(
            failure=outcome.failure,
            exit_code=outcome.exit_code,
            stopped=outcome.stopped,
            error_tail=tail or None,
        )

    def _start(
        self, paths: tuple[Path, Path]
    ) -> tuple[subprocess.Popen[bytes], list[threading.Thread]]:
        """The command, its output going to the log files: straight there, or through a
        thread per stream that masks the secret values its environment was given."""
        masked = Masker(self._secrets).active
        with open_private(paths[0]) as out, open_private(paths[1]) as err:
            process = subprocess.Popen(
                self.spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if masked else out,
                stderr=subprocess.PIPE if masked else err,
                env=self._env,
                cwd=self.spec.cwd,
                start_new_session=True,
            )
        if not masked:
            return process, []
        assert process.stdout is not None and process.stderr is not None
        copiers = [
            threading.Thread(target=_copy_masked, args=(pipe, path, self._secrets), daemon=True)
            for pipe, path in zip((process.stdout, process.stderr), paths, strict=True)
        ]
        for copier in copiers:
            copier.start()
        return process, copiers

    def _supervise(self, process: subprocess.Popen[bytes], should_stop: StopCheck) -> Outcome:
        timeout = self.spec.timeout
        deadline = time.monotonic() + timeout.total_seconds() if timeout else None
        try:
            while True:
                try:
                    code = process.wait(timeout=POLL_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
                else:
                    return _exited(code)
                if timeout and deadline is not None and time.monotonic() >= deadline:
                    code = self._kill_group(process)
                    return Outcome(
                        failure=f"timeout: still running after {format_duration(timeout)}",
                        exit_code=code,
                    )
                reason = should_stop()
                if reason:
                    code = self._kill_group(process)
                    return Outcome(stopped=reason, exit_code=code)
        except BaseException:
            self._kill_group(process)
            raise

    def _kill_group(self, process: subprocess.Popen[bytes]) -> int:
        """SIGTERM the whole group, then SIGKILL what is left after the grace period."""
        _signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=self.spec.kill_grace.total_seconds())
        _signal_group(process.pid, signal.SIGKILL)
        return process.wait()


def _copy_masked(pipe: IO[bytes], path: Path, secrets: list[str]) -> None:
    masker = Masker(secrets)
    with pipe, open_private(path, append=True) as sink:
        while chunk := pipe.read1(CHUNK_BYTES):  # type: ignore[attr-defined]
            sink.write(masker.feed(chunk))
            sink.flush()
        sink.write(masker.flush())


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _exited(code: int) -> Outcome:
    if code == 0:
        return Outcome(exit_code=0)
    if code < 0:
        return Outcome(failure=f"killed by signal {signal.Signals(-code).name}", exit_code=code)
    return Outcome(failure=f"exit status {code}", exit_code=code)


def _tail(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - TAIL_BYTES))
        data = handle.read().decode("utf-8", errors="replace")
    return "\n".join(data.splitlines()[-TAIL_LINES:])
