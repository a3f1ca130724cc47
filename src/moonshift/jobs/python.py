"""The ``python`` job: calls the user's function, ``callable: package.module:function``.

The function gets, by name, those of ``run_id``, ``migration_id`` and ``logical_date`` it
declares (all of them with ``**kwargs``). Returning ends the run well; an exception fails it
with its last traceback lines kept on the run. A call cannot pause: a stop waits for it.
"""

from __future__ import annotations

import importlib
import inspect
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from moonshift.errors import TerminalError
from moonshift.seams import JobContext, Outcome

BEAT_SECONDS = 0.5  # the context renews the lease when a renewal is due, not at each call
TAIL_LINES = 20


def load_callable(path: str, field: str = "callable") -> Callable[..., Any]:
    """The function that ``package.module:function`` names (TerminalError naming ``field``)."""
    module_name, _, name = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise TerminalError(f"{field}: cannot load {path}: {exc}") from None
    if not callable(found):
        raise TerminalError(f"{field}: {path} is not callable")
    return found  # type: ignore[no-any-return]


def arguments_for(func: Callable[..., Any], offered: Mapping[str, Any]) -> dict[str, Any]:
    """The offered arguments the function takes by name."""
    params = inspect.signature(func).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(offered)
    return {p.name: offered[p.name] for p in params if p.name in offered}


class PythonJob:
    def __init__(self, path: str, offered: Mapping[str, Any]) -> None:
        self.path = path
        self.offered = offered
        self.func: Callable[..., Any] | None = None

    def prepare(self) -> None:
        self.func = load_callable(self.path)

    def describe(self) -> dict[str, Any]:
        return {"callable": self.path}

    def run(self, ctx: JobContext) -> Outcome:
        assert self.func is not None
        done = threading.Event()
        beat = threading.Thread(target=_beat, args=(ctx, done), daemon=True)
        beat.start()
        try:
            self.func(**arguments_for(self.func, self.offered))
        except Exception as exc:  # the user's code: any failure fails the run
            tail = "".join(traceback.format_exc().splitlines(keepends=True)[-TAIL_LINES:])
            return Outcome(failure=f"{type(exc).__name__}: {exc}", error_tail=tail)
        finally:
            done.set()
            beat.join()
        return Outcome()


def _beat(ctx: JobContext, done: threading.Event) -> None:
    while not done.wait(BEAT_SECONDS):
        ctx.heartbeat()
