"""The notifier a channel needs, its ``${ENV}`` references resolved where it delivers."""

from __future__ import annotations

from collections.abc import Mapping

from moonshift.domain.notices import ChannelSpec
from moonshift.domain.secrets import MissingVariableError, substitute
from moonshift.errors import TransientError
from moonshift.notify.slack import SlackNotifier
from moonshift.notify.webhook import WebhookNotifier

Notifier = WebhookNotifier | SlackNotifier


def notifier_for(channel: ChannelSpec, environ: Mapping[str, str]) -> Notifier:
    """TransientError when a variable it needs is not set here (set it and restart)."""
    try:
        if channel.type == "webhook":
            assert channel.url and channel.secret
            return WebhookNotifier(
                substitute(channel.url, environ), substitute(channel.secret, environ)
            )
        if channel.type == "slack":
            assert channel.url
            return SlackNotifier(substitute(channel.url, environ))
    except MissingVariableError as exc:
        raise TransientError(f"channel {channel.id}: {exc} where the daemon runs") from None
    raise TransientError(f"channel {channel.id}: {channel.type} channels are not delivered yet")
