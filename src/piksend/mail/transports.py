"""One adapter per way out: SMTP through aiosmtplib, or .eml files in development.

``smtp://user:password@host:port`` submits on port 587 by default (RFC 6409 §3.1), upgrading
with STARTTLS (RFC 3207) — required whenever credentials would cross a non-loopback network;
``smtps://`` speaks TLS from the first byte, port 465 by default (RFC 8314 §3.3).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import anyio.to_thread

log = logging.getLogger("piksend.mail")


class SendError(Exception):
    """A message was not accepted; ``permanent`` when retrying cannot help (a 5xx reply)."""

    def __init__(self, description: str, *, permanent: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.permanent = permanent


class MailTransport(Protocol):
    async def send(self, message: EmailMessage, *, message_id: str) -> None: ...


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpTransport:
    hostname: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    require_starttls: bool
    timeout: float

    @classmethod
    def from_url(cls, url: str, *, timeout: float) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PIKSEND_SMTP_URL must look like smtp://user:password@host:port")
        implicit = parts.scheme == "smtps"
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=username,
            password=password,
            implicit_tls=implicit,
            # Credentials never cross the network in clear text: STARTTLS is then required.
            require_starttls=not implicit
            and username is not None
            and not _is_loopback(parts.hostname),
            timeout=timeout,
        )

    async def send(self, message: EmailMessage, *, message_id: str) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                start_tls=True if self.require_starttls else None,
                tls_context=ssl.create_default_context(),
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # RFC 5321 §4.2.1: 5yz is a permanent negative reply, 4yz a transient one.
            raise SendError(
                f"SMTP {exc.code}: {exc.message}"[:500], permanent=exc.code >= 500
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [e.code for e in exc.recipients]
            permanent = all(c >= 500 for c in codes)
            raise SendError(f"recipient refused: {codes}", permanent=permanent) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}"[:500]) from None


@dataclass(frozen=True)
class EmlDirectory:
    """Development mode: each message becomes ``<dir>/<id>.eml``, written atomically (a temp
    file renamed into place) and readable by its owner only; the log names the file."""

    directory: Path

    async def send(self, message: EmailMessage, *, message_id: str) -> None:
        try:
            path = await anyio.to_thread.run_sync(self._write, message, message_id)
        except OSError as exc:
            raise SendError(f"could not write the .eml file: {exc.strerror}") from None
        log.info("no PIKSEND_SMTP_URL: mail %s written to %s", message_id, path)

    def _write(self, message: EmailMessage, message_id: str) -> Path:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self.directory / f"{message_id}.eml"
        temp = self.directory / f".{message_id}.{os.getpid()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target


def transport_for(smtp_url: str | None, *, data_dir: Path, timeout: float) -> MailTransport:
    if smtp_url:
        return SmtpTransport.from_url(smtp_url, timeout=timeout)
    return EmlDirectory(data_dir / "outbox")
