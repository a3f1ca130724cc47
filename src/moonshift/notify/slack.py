"""Slack: an incoming webhook. Slack takes about one message a second per channel and
answers 429 with ``Retry-After`` beyond that; the dispatcher waits as told and keeps order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moonshift.notify.posting import post_json

ICONS = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}


def message(event: Mapping[str, Any], key: str) -> dict[str, Any]:
    data = event.get("data", {})
    icon = ICONS.get(str(data.get("severity")), "")
    return {
        "text": f"{icon} {data.get('summary', event.get('type'))}".strip(),
        "metadata": {"event_type": f"moonshift_{event.get('type')}", "event_payload": {"key": key}},
    }


class SlackNotifier:
    def __init__(self, url: str) -> None:
        self.url = url

    def deliver(self, event: Mapping[str, Any], *, key: str) -> None:
        post_json(self.url, message(event, key))
