"""The password policy (NIST SP 800-63B §5.1.1.2): 8 to 256 characters, nothing common.

A password is never truncated: one outside the lengths is refused with a message that states
them. Within them, zxcvbn (which ships the 30,000 most common passwords of the breach corpora
it was built from, English words, names and keyboard patterns) estimates how many guesses
the password would take; under a million (its score under 2: guessable by an online attack
that is not throttled) is refused, with a message saying why.
"""

from __future__ import annotations

from zxcvbn import zxcvbn  # type: ignore[import-untyped]  # the library ships no type hints

from piksend.accounts.passwords import MAX_LENGTH, MIN_LENGTH

TOO_SHORT = f"Password must be at least {MIN_LENGTH} characters"
TOO_LONG = f"Password must be at most {MAX_LENGTH} characters"
COMMON = "This password is on lists of common and breached passwords: choose another"
PERSONAL = "Do not build your password from your name, your e-mail address or this site's name"
GUESSABLE = (
    "This password is too easy to guess: use a longer phrase of uncommon words, "
    "without repeated characters or sequences like abcd or 1234"
)
# zxcvbn's own limit on what it reads: the first 72 characters are estimated, and a weak
# beginning is enough to refuse (the whole password is still what is hashed).
_ESTIMATED = 72
_ENOUGH_SCORE = 2  # 10^6 guesses or more


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password is refused, in words for the person choosing it; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    # §5.1.1.2 "context-specific words": the whole name, the e-mail's local part, the site.
    personal = {_letters(name), _letters(email.partition("@")[0]), "piksend"}
    if any(len(word) >= 4 and word in _letters(password) for word in personal):
        return PERSONAL
    words = [w.lower() for w in (name, *name.split(), email, email.partition("@")[0]) if w]
    result = zxcvbn(password[:_ESTIMATED], user_inputs=[*words, "piksend"])
    if result["score"] >= _ENOUGH_SCORE:
        return None
    matches = result["sequence"]
    if any(m.get("dictionary_name") == "user_inputs" for m in matches):
        return PERSONAL
    if any(m.get("dictionary_name") == "passwords" for m in matches):
        return COMMON
    return GUESSABLE
