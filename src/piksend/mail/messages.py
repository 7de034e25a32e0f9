"""The messages piksend sends, in plain text: one function per message, no logic in the text."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


_VERIFY = Template("""Hello $name,

Confirm that $email is your address on PikSend by opening this link:

$link

The link works once, for $hours hours. Until you open it, apps you connect to PikSend are told
that your address is not verified.

If you did not ask for this, ignore this message.
""")

_SIGNUP_ATTEMPT = Template("""Hello $name,

Someone tried to sign up to PikSend with $email, which already has an account: yours.
Nothing was changed.

If it was you, sign in at $login
If you forgot your password, choose a new one at $forgot

If it was not you, you can ignore this message.
""")

_RESET = Template("""Hello $name,

Someone asked to reset the password of your PikSend account ($email). To choose a new
password, open this link:

$link

The link works once, for $minutes minutes. Choosing a new password signs you out everywhere.

If you did not ask for this, ignore this message: your password has not changed.
""")

_CHANGED = Template("""Hello $name,

The password of your PikSend account ($email) was just changed, and your other sessions were
signed out.

If you did not do this, reset your password now at $forgot
""")


def verify_address(*, to: str, name: str, link: str, hours: int) -> Message:
    return Message(
        to,
        "Confirm your e-mail address",
        _VERIFY.substitute(name=name, email=to, link=link, hours=hours),
    )


def signup_attempt(*, to: str, name: str, login: str, forgot: str) -> Message:
    return Message(
        to,
        "Someone tried to sign up with your address",
        _SIGNUP_ATTEMPT.substitute(name=name, email=to, login=login, forgot=forgot),
    )


def password_reset(*, to: str, name: str, link: str, minutes: int) -> Message:
    return Message(
        to,
        "Reset your PikSend password",
        _RESET.substitute(name=name, email=to, link=link, minutes=minutes),
    )


def password_changed(*, to: str, name: str, forgot: str) -> Message:
    return Message(
        to,
        "Your PikSend password was changed",
        _CHANGED.substitute(name=name, email=to, forgot=forgot),
    )
