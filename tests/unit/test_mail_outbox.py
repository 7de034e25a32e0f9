"""The mail outbox and its worker (issue 14, item 2), on the real database and a real SMTP
server (aiosmtpd on loopback): sent once under a lease, retried with backoff, given up on a
permanent refusal or after the last attempt; without SMTP, .eml files in the data dir."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select

from piksend.mail import messages, outbox
from piksend.mail.transports import EmlDirectory, SmtpTransport, transport_for
from piksend.mail.worker import MailPolicy, MailWorker
from piksend.storage import tables as t
from piksend.storage.engine import Database
from tests.support.live import free_port
from tests.support.smtp import body_of, smtp_server

SENDER = "PikSend <no-reply@piksend.test>"
# The test server takes AUTH in clear text: it listens on loopback only.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
HELLO = messages.Message("ann@example.com", "Hello", "Hello Ann,\n\nA line.\n")


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    yield database
    await database.dispose()


def worker(db, clock, transport, **policy) -> MailWorker:
    return MailWorker(
        db, transport=transport, policy=MailPolicy(sender=SENDER, **policy), clock=clock
    )


async def queue(db, clock, message=HELLO) -> str:
    async with db.unit_of_work() as s:
        return await outbox.enqueue(s, message, now=clock())


async def row(db, message_id: str) -> t.MailMessage:
    async with db.reader() as s:
        return await s.get_one(t.MailMessage, message_id)


async def test_a_queued_message_is_sent_with_the_credentials_of_the_smtp_url(db, clock):
    with smtp_server(credentials=("mailer", "s3cret pass")) as inbox:
        transport = transport_for(inbox.url, data_dir=None, timeout=5)  # type: ignore[arg-type]
        message_id = await queue(db, clock)
        assert await worker(db, clock, transport).run_once() == 1
        (received,) = inbox.wait_for(1)
    assert inbox.logins == ["mailer"]
    assert (received["From"], received["To"], received["Subject"], received["Message-ID"]) == (
        SENDER,
        "ann@example.com",
        "Hello",
        f"<{message_id}@piksend.test>",
    )
    assert body_of(received).replace("\r\n", "\n") == "Hello Ann,\n\nA line.\n"
    sent = await row(db, message_id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.body, sent.lease_token) == (
        "sent",
        1,
        clock(),
        "",
        None,
    )


async def test_wrong_smtp_credentials_are_a_permanent_failure(db, clock):
    with smtp_server(credentials=("mailer", "s3cret pass")) as inbox:
        url = inbox.url.replace("s3cret pass", "wrong")
        message_id = await queue(db, clock)
        await worker(db, clock, SmtpTransport.from_url(url, timeout=5)).run_once()
    failed = await row(db, message_id)
    assert (failed.status, failed.attempts, failed.body) == ("failed", 1, "")
    assert failed.last_error is not None and failed.last_error.startswith("SMTP 535")


async def test_a_refused_message_is_retried_after_the_backoff_then_sent(db, clock):
    with smtp_server() as inbox:
        inbox.refusals.append("451 4.3.0 try again later")
        mailer = worker(db, clock, SmtpTransport.from_url(inbox.url, timeout=5), backoff_base=30)
        message_id = await queue(db, clock)
        assert await mailer.run_once() == 1
        waiting = await row(db, message_id)
        assert (waiting.status, waiting.attempts, waiting.last_error) == (
            "pending",
            1,
            "SMTP 451: 4.3.0 try again later",
        )
        assert waiting.next_attempt_at == clock() + timedelta(seconds=30)
        clock.advance(29)
        assert await mailer.run_once() == 0
        clock.advance(1)
        assert await mailer.run_once() == 1
        assert len(inbox.wait_for(1)) == 1
    sent = await row(db, message_id)
    assert (sent.status, sent.attempts, sent.body) == ("sent", 2, "")


async def test_a_permanent_refusal_ends_the_message_at_once(db, clock):
    with smtp_server() as inbox:
        inbox.refusals.append("550 5.1.1 mailbox unavailable")
        message_id = await queue(db, clock)
        await worker(db, clock, SmtpTransport.from_url(inbox.url, timeout=5)).run_once()
        clock.advance(24 * 3600)
        assert await worker(db, clock, SmtpTransport.from_url(inbox.url, timeout=5)).run_once() == 0
        assert inbox.messages == []
    failed = await row(db, message_id)
    assert (failed.status, failed.attempts, failed.body) == ("failed", 1, "")


async def test_an_unreachable_server_is_retried_until_the_last_attempt(db, clock):
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{free_port()}", timeout=5)
    mailer = worker(db, clock, transport, max_attempts=3, backoff_base=10)
    message_id = await queue(db, clock)
    states = []
    for _ in range(3):
        assert await mailer.run_once() == 1
        current = await row(db, message_id)
        states.append((current.status, current.attempts))
        clock.advance(3600)
    assert states == [("pending", 1), ("pending", 2), ("failed", 3)]
    assert (await row(db, message_id)).body == ""


def test_the_backoff_doubles_from_its_base_up_to_its_cap():
    policy = MailPolicy(sender=SENDER, backoff_base=30, backoff_cap=100)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


async def test_a_message_rolled_back_with_its_transaction_is_never_sent(db, clock):
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with db.unit_of_work() as s:
            await outbox.enqueue(s, HELLO, now=clock())
            raise Abort
    async with db.reader() as s:
        assert (await s.scalars(select(t.MailMessage.id))).all() == []


async def test_two_workers_polling_one_outbox_send_each_message_once(db, clock):
    with smtp_server() as inbox:
        ids = {await queue(db, clock) for _ in range(5)}
        workers = [
            worker(db, clock, SmtpTransport.from_url(inbox.url, timeout=5)) for _ in range(2)
        ]
        attempted = await asyncio.gather(*(w.run_once() for w in workers))
        assert sum(attempted) == 5
        received = inbox.wait_for(5)
    assert sorted(m["Message-ID"] for m in received) == sorted(f"<{i}@piksend.test>" for i in ids)
    assert len(inbox.messages) == 5


async def test_without_smtp_each_message_is_an_eml_file_for_its_owner_only(
    db, clock, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="piksend")
    transport = transport_for(None, data_dir=tmp_path, timeout=5)
    assert transport == EmlDirectory(tmp_path / "outbox")
    message = messages.password_reset(
        to="ann@example.com",
        name="Ann",
        link="http://x/password/reset?token=pks_pr_abc",
        minutes=30,
    )
    message_id = await queue(db, clock, message)
    assert await worker(db, clock, transport).run_once() == 1

    path = tmp_path / "outbox" / f"{message_id}.eml"
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [path.name]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert "Subject: Reset your PikSend password" in text
    assert "pks_pr_abc" in text
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("piksend")]
    assert logged == [f"no PIKSEND_SMTP_URL: mail {message_id} written to {path}"]
    assert (await row(db, message_id)).status == "sent"


async def test_an_eml_file_that_cannot_be_written_is_retried(db, clock, tmp_path):
    (tmp_path / "outbox").write_text("a file where the directory should be")
    message_id = await queue(db, clock)
    await worker(db, clock, transport_for(None, data_dir=tmp_path, timeout=5)).run_once()
    waiting = await row(db, message_id)
    assert (waiting.status, waiting.attempts, waiting.body) == ("pending", 1, HELLO.body)


def test_smtp_urls_choose_the_port_tls_and_credentials():
    def shape(url):
        s = SmtpTransport.from_url(url, timeout=5)
        return (s.hostname, s.port, s.username, s.password, s.implicit_tls, s.require_starttls)

    assert shape("smtps://u:p%40ss@mail.example.com") == (
        "mail.example.com",
        465,
        "u",
        "p@ss",
        True,
        False,
    )
    assert shape("smtp://u:p@mail.example.com") == ("mail.example.com", 587, "u", "p", False, True)
    assert shape("smtp://mail.example.com:25") == ("mail.example.com", 25, None, None, False, False)
    assert shape("smtp://u:p@127.0.0.1:2525") == ("127.0.0.1", 2525, "u", "p", False, False)
    with pytest.raises(ValueError, match="PIKSEND_SMTP_URL must look like"):
        SmtpTransport.from_url("http://mail.example.com", timeout=5)
