"""A real SMTP server for the tests: aiosmtpd on a free loopback port, in its own thread.

It can require AUTH (``credentials``), in clear text because it is loopback-only, and it can
refuse the next messages with a reply of your choice to exercise the retries.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.live import free_port

LINK = re.compile(r"(https?://\S+?[?&]token=[A-Za-z0-9_-]+)")


@dataclass
class Inbox:
    credentials: tuple[str, str] | None = None
    refusals: list[str] = field(default_factory=list)  # replies for the next DATA commands
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    # -- aiosmtpd's handler hooks -----------------------------------------------------------

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._changed:
            if self.refusals:
                return self.refusals.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        # handled=False: aiosmtpd answers the failure itself (535, RFC 4954 §6).
        return AuthResult(success=ok, handled=False)

    # -- for the tests ----------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The first ``count`` messages, waiting up to ``timeout`` seconds for them."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            assert arrived, f"expected {count} messages, got {len(self.messages)}"
            return list(self.messages[:count])

    def wait_for_mail(self, to: str, subject: str, timeout: float = 15.0) -> EmailMessage:
        """The newest message to ``to`` with ``subject``, waiting up to ``timeout`` seconds."""

        def found() -> list[EmailMessage]:
            return [m for m in self.messages if (m["To"], m["Subject"]) == (to, subject)]

        with self._changed:
            arrived = self._changed.wait_for(found, timeout)
            assert arrived, f"no {subject!r} mail to {to} within {timeout}s"
            return found()[-1]

    def to(self, address: str) -> list[EmailMessage]:
        with self._changed:
            return [m for m in self.messages if m["To"] == address]


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def link_in(message: EmailMessage) -> str:
    found = LINK.findall(body_of(message))
    assert len(found) == 1, body_of(message)
    return found[0]


@contextmanager
def smtp_server(credentials: tuple[str, str] | None = None) -> Iterator[Inbox]:
    inbox = Inbox(credentials=credentials)
    port = free_port()
    options: dict = {}
    if credentials is not None:
        options = {
            "authenticator": inbox.authenticate,
            "auth_require_tls": False,  # loopback only
            "auth_required": True,
        }
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    user = f"{credentials[0]}:{credentials[1]}@" if credentials else ""
    inbox.url = f"smtp://{user}127.0.0.1:{port}"
    try:
        yield inbox
    finally:
        controller.stop()
