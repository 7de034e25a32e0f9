"""Sign-up that does not tell who has an account: a new address gets an unverified account and
a verification link; an address that already has one gets its owner a "someone tried to sign up
with your address" message instead. Both answer the same, after the same work (one argon2id
hash), so neither the answer nor its timing says which addresses have accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts.passwords import hash_password
from piksend.accounts.service import normalise_email, validate_signup
from piksend.accounts.verification import send_address_taken_notice, send_verification
from piksend.errors import ValidationError
from piksend.storage import tables as t


async def sign_up(
    session: AsyncSession, *, email: str, password: str, name: str, base_url: str, now: datetime
) -> None:
    """Register ``email`` or notify its owner; the caller answers "check your inbox" either way.
    Raises ValidationError for malformed input only (which says nothing about accounts)."""
    problems = validate_signup(email=email, password=password, name=name)
    if problems:
        field, message = next(iter(problems.items()))
        raise ValidationError(message, field=field)
    email = normalise_email(email)
    password_hash = await hash_password(password)
    owner = await session.scalar(select(t.User).where(t.User.email == email))
    if owner is None:
        row = t.User(
            id=t.new_id("usr"),
            email=email,
            name=name.strip(),
            password_hash=password_hash,
            avatar_url=None,
            created_at=now,
            email_verified_at=None,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            # A concurrent sign-up with this address committed first: it is now an owner's.
            session.expunge(row)
            owner = await session.scalar(select(t.User).where(t.User.email == email))
        else:
            await send_verification(
                session, user_id=row.id, email=email, name=row.name, base_url=base_url, now=now
            )
            return
    if owner is not None:
        await send_address_taken_notice(session, owner=owner, base_url=base_url, now=now)
