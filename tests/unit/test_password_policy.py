"""The password policy's rules and its messages (NIST SP 800-63B §5.1.1.2)."""

from __future__ import annotations

import pytest

from piksend.accounts.password_policy import password_problem
from piksend.accounts.passwords import hash_password, verify_password
from piksend.accounts.service import validate_signup

COMMON = "This password is on lists of common and breached passwords: choose another"
GUESSABLE = (
    "This password is too easy to guess: use a longer phrase of uncommon words, "
    "without repeated characters or sequences like abcd or 1234"
)
LONGEST = ("the quick brown fox jumps over the lazy dog while seven ravens watch " * 4)[:256]
PERSONAL = "Do not build your password from your name, your e-mail address or this site's name"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("seven77", "Password must be at least 8 characters"),
        ("x" * 200 + " long but fine " + "y" * 42, "Password must be at most 256 characters"),
        ("password", COMMON),
        ("12345678", COMMON),
        ("Password1", COMMON),
        ("p@ssw0rd1", COMMON),
        ("qwertyuiop", COMMON),
        ("aaaaaaaaaa", GUESSABLE),
        ("abcdefghij", GUESSABLE),
        ("margaret-okafor", PERSONAL),
        ("piksend2024", PERSONAL),
        ("MOkafor-1987", PERSONAL),
        ("okafor1234", PERSONAL),
    ],
)
def test_each_refused_password_gets_the_message_that_says_why(password, message):
    assert password_problem(password, email="m.okafor@example.com", name="Margaret Okafor") == (
        message
    )


@pytest.mark.parametrize(
    "password", ["correct horse", "tangerine otter ladder", "zq8#Lm2!", "éàüöçñøß", LONGEST]
)
def test_passwords_from_eight_to_256_characters_that_are_hard_to_guess_are_accepted(password):
    assert password_problem(password, email="m.okafor@example.com", name="Margaret Okafor") is None


def test_sign_up_reports_the_policy_message_on_the_password_field():
    problems = validate_signup(email="bob@example.com", password="12345678", name="Bob")
    assert problems == {"password": COMMON}


async def test_a_password_longer_than_the_maximum_is_wrong_even_when_it_begins_with_the_right_one():
    right = LONGEST
    stored = await hash_password(right)
    assert (await verify_password(stored, right), await verify_password(stored, right + "!")) == (
        True,
        False,
    )
