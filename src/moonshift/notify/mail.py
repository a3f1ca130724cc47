"""Email over SMTP: STARTTLS (default, port 587), implicit TLS (465) or none (25), with
optional login; each event a plain-text and an HTML part. The delivery key is the
Message-ID, so a mail system that keeps ids drops a repeat."""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from moonshift.errors import TerminalError, TransientError

TIMEOUT_SECONDS = 15.0
PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int | None
    security: str  # starttls, tls, none
    username: str | None
    password: str | None  # resolved: only in memory, never logged


def compose(event: Mapping[str, Any], *, key: str, sender: str, to: Sequence[str]) -> EmailMessage:
    data = event.get("data", {})
    summary = str(data.get("summary") or event.get("type"))
    message = EmailMessage()
    message["Subject"] = f"[moonshift] {summary}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Message-ID"] = f"<{key}@moonshift>"
    rows = [
        ("event", event.get("type")),
        ("severity", data.get("severity")),
        ("migration", data.get("migration_id")),
        ("run", data.get("run_id")),
        ("when", event.get("timestamp")),
        ("reason", data.get("reason")),
    ]
    shown = [(name, value) for name, value in rows if value not in (None, "")]
    message.set_content(summary + "\n\n" + "\n".join(f"{n}: {v}" for n, v in shown) + "\n")
    cells = "".join(
        f"<tr><th align='left'>{html.escape(n)}</th><td>{html.escape(str(v))}</td></tr>"
        for n, v in shown
    )
    message.add_alternative(
        f"<html><body><p><b>{html.escape(summary)}</b></p><table>{cells}</table></body></html>",
        subtype="html",
    )
    return message


class EmailNotifier:
    def __init__(self, smtp: Smtp, sender: str, to: Sequence[str]) -> None:
        self.smtp, self.sender, self.to = smtp, sender, tuple(to)

    def deliver(self, event: Mapping[str, Any], *, key: str) -> None:
        message = compose(event, key=key, sender=self.sender, to=self.to)
        try:
            with self._connect() as client:
                if self.smtp.username and self.smtp.password is not None:
                    client.login(self.smtp.username, self.smtp.password)
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise TerminalError(f"the SMTP server refused the login ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise TerminalError(f"the SMTP server refused {', '.join(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            said = f"the SMTP server answered {exc.smtp_code}"
            raise (TransientError(said) if exc.smtp_code < 500 else TerminalError(said)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"could not reach the SMTP server: {type(exc).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        port = self.smtp.port or PORTS[self.smtp.security]
        if self.smtp.security == "tls":
            return smtplib.SMTP_SSL(
                self.smtp.host, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        client = smtplib.SMTP(self.smtp.host, port, timeout=TIMEOUT_SECONDS)
        if self.smtp.security == "starttls":
            try:
                client.starttls(context=ssl.create_default_context())
            except BaseException:
                client.close()
                raise
        return client
