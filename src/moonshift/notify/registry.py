"""The notifier a channel needs, its ``${ENV}`` references resolved where it delivers."""

from __future__ import annotations

from collections.abc import Mapping

from moonshift.domain.notices import ChannelSpec
from moonshift.domain.secrets import MissingVariableError, substitute
from moonshift.errors import TransientError
from moonshift.notify.mail import EmailNotifier, Smtp
from moonshift.notify.slack import SlackNotifier
from moonshift.notify.webhook import WebhookNotifier

Notifier = WebhookNotifier | SlackNotifier | EmailNotifier


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
        if channel.type == "email":
            assert channel.host and channel.sender
            smtp = Smtp(
                host=channel.host,
                port=channel.port,
                security=channel.security,
                username=channel.username,
                password=substitute(channel.password, environ) if channel.password else None,
            )
            return EmailNotifier(smtp, channel.sender, channel.to)
    except MissingVariableError as exc:
        raise TransientError(f"channel {channel.id}: {exc} where the daemon runs") from None
    raise TransientError(f"channel {channel.id}: {channel.type} channels are not delivered yet")
