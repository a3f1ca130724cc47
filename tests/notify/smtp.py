"""A real SMTP server (aiosmtpd) with STARTTLS or implicit TLS and a login, standing in for
a mail relay; its certificate is made by openssl for 127.0.0.1 and trusted through
SSL_CERT_FILE, as an operator trusts a private CA."""

from __future__ import annotations

import errno
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "moonshift", "s3cret-smtp-pass"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(
        self, _server: Any, _session: Any, envelope: Any
    ) -> str:  # aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _authenticator(box: Mailbox) -> Any:
    def check(
        _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            box.logins.append(USER)
        return AuthResult(success=ok, handled=False)

    return check


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(folder: Path, security: str) -> Iterator[Mailbox]:
    """``security``: starttls (required before login) or tls (implicit)."""
    cert, key = make_certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox(_free_port())
    options: dict[str, Any] = {"authenticator": _authenticator(box), "auth_require_tls": True}
    if security == "tls":
        # the whole connection is TLS; aiosmtpd counts only STARTTLS as TLS for AUTH
        options.update(ssl_context=context, server_hostname="127.0.0.1", auth_require_tls=False)
    else:
        options["tls_context"] = context
        options["require_starttls"] = True
    for _attempt in range(5):  # another test process may take the port before it is bound
        controller = Controller(box, hostname="127.0.0.1", port=box.port, **options)
        try:
            controller.start()
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            box.port = _free_port()
    else:
        raise RuntimeError("no free port for the SMTP server after 5 tries")
    try:
        yield box
    finally:
        controller.stop()
