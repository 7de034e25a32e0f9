"""The one commit policy: commit on success and on an expected OAuthError, else roll back."""

from __future__ import annotations

import asyncio

import pytest

from piksend.oauth.errors import InvalidGrantError
from piksend.storage.commit_policy import settled


class RecordingTransaction:
    def __init__(self) -> None:
        self.ends: list[str] = []

    async def commit(self) -> None:
        self.ends.append("commit")

    async def rollback(self) -> None:
        self.ends.append("rollback")


async def test_a_unit_that_succeeds_is_committed():
    tx = RecordingTransaction()
    async with settled(tx):
        pass
    assert tx.ends == ["commit"]


async def test_a_unit_ending_in_an_oauth_error_is_committed_and_the_error_raised():
    # A replayed code raises invalid_grant after revoking its tokens: the revocation must stay.
    tx = RecordingTransaction()
    with pytest.raises(InvalidGrantError):
        async with settled(tx):
            raise InvalidGrantError("The code was already used")
    assert tx.ends == ["commit"]


async def test_a_unit_ending_in_any_other_error_is_rolled_back_and_the_error_raised():
    tx = RecordingTransaction()
    with pytest.raises(ValueError):
        async with settled(tx):
            raise ValueError("boom")
    assert tx.ends == ["rollback"]


async def test_a_cancelled_unit_is_rolled_back():
    tx = RecordingTransaction()
    with pytest.raises(asyncio.CancelledError):
        async with settled(tx):
            raise asyncio.CancelledError
    assert tx.ends == ["rollback"]
