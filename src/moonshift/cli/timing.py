"""The timing part of ``moonshift show``: schedule, windows, window behaviour, dependencies,
exclusions and trigger, in moonshift's layout whichever layout the spec was written in."""

from __future__ import annotations

from rich.markup import escape

from moonshift.domain.durations import format_duration
from moonshift.domain.spec import MigrationSpec


def timing_lines(spec: MigrationSpec) -> list[str]:
    lines = [f"schedule: {_schedule(spec)}"]
    for w in spec.windows or ():
        days = ", ".join(str(d) for d in w.days)
        zone = w.timezone or spec.timezone
        lines.append(f"window {escape(w.name)}: {days} {w.start:%H:%M}-{w.end:%H:%M} {zone}")
    if spec.windows:
        b = spec.window_behavior
        finish = "finish the current batch" if b.complete_current_batch else "stop at once"
        lines.append(
            f"outside a window: {b.outside_window.value}; warn "
            f"{format_duration(b.ending_warning)} before it closes; {finish}"
        )
    for d in spec.depends_on:
        lines.append(
            f"waits for: {d.migration} ({d.condition.value}); strategy "
            f"{spec.dependency_strategy.value}, timeout {format_duration(spec.dependency_timeout)}"
        )
    for x in spec.exclude_concurrent:
        lines.append(f"never with: {x.migration}" + (f" ({escape(x.reason)})" if x.reason else ""))
    lines.append(f"overlap: {spec.overlap.value}" + _limits(spec))
    if spec.trigger_ is not None:
        approval = ", awaits approval" if spec.trigger_.await_approval else ""
        lines.append(f"trigger: {spec.trigger_.type}{approval}")
    return lines


def _schedule(spec: MigrationSpec) -> str:
    s = spec.schedule
    if s is None:
        return "none (started by run-now, start or a trigger)"
    value = {
        "immediate": "immediate",
        "start_at": f"start_at {s.start_at.isoformat() if s.start_at else ''}",
        "cron": f"cron {s.cron}",
        "interval": f"every {format_duration(s.interval) if s.interval else ''}",
        "event": f"event {s.event.type if s.event else ''}",
    }[s.kind]
    return f"{escape(value)} ({s.timezone})" + ("" if spec.enabled else " [yellow]disabled[/]")


def _limits(spec: MigrationSpec) -> str:
    extra = ""
    if spec.max_duration is not None:
        extra += f"; at most {format_duration(spec.max_duration)} a run"
    if spec.notify_on_skip:
        extra += "; a skipped fire is notified"
    return extra
