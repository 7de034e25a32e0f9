"""Mint a pool of tokens and codes straight into a piksend database, for the benchmark only.

This is the documented fast path for benchmarking: it is a script, not an endpoint, so a
normal server never exposes it. It writes through piksend's own schema and store code
(SqlOAuthStore.save_tokens, the same SHA-256 digests) and prints nothing secret but writes
the minted values to files in --out, which only wrk reads.

    PYTHONPATH=src python bench/seed.py --database-url sqlite:///x.db --out /tmp/pool \
        --access 1000 --refresh 60000 --codes 60000 [--filler 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam, insert, text

from piksend.accounts.service import create_user
from piksend.clients.registry import create_app
from piksend.clients.validation import AppFields
from piksend.clock import utcnow
from piksend.oauth import tokens
from piksend.oauth.types import TokenKind, TokenRecord
from piksend.storage import tables as t
from piksend.storage.engine import Database
from piksend.storage.oauth import SqlOAuthStore
from piksend.storage.schema import ensure_ready

VERIFIER = "bench-verifier-" + "v" * 40  # RFC 7636 §4.1: 43..128 characters
REDIRECT_URI = "https://bench.example.com/callback"
SCOPE = ("profile:read", "galleries:read")
BATCH = 2000


def s256(verifier: str) -> str:
    import hashlib

    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


async def seed(args) -> dict:
    ensure_ready(args.database_url)
    db = Database(args.database_url, pool_size=2)
    now = utcnow()
    try:
        async with db.unit_of_work() as s:
            user = await create_user(
                s,
                email=f"bench-{int(time.time() * 1000)}@example.com",
                password="quiet otter lantern 42",
                name="Bench",
                now=now,
            )
            app, secret = await create_app(
                s,
                owner_id=user.id,
                now=now,
                fields=AppFields(name="Bench", redirect_uris=(REDIRECT_URI,), scopes=SCOPE),
            )
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
        info = {
            "client_id": app.client_id,
            "basic": basic,
            "verifier": VERIFIER,
            "redirect_uri": REDIRECT_URI,
            "user_id": user.id,
        }
        (out / "client.json").write_text(json.dumps(info))
        await _tokens(db, out / "access.txt", args.access, TokenKind.ACCESS, app.client_id, user.id)
        await _tokens(
            db, out / "refresh.txt", args.refresh, TokenKind.REFRESH, app.client_id, user.id
        )
        await _codes(db, out / "codes.txt", args.codes, app.client_id, user.id)
        if args.filler:
            await _filler(db, args.filler, app.client_id, user.id)
        return info
    finally:
        await db.dispose()


async def _consents(s, n: int, client_id: str, user_id: str) -> list[str]:
    """One consent per refresh token or code, as in real use (no artificial row contention)."""
    ids = [t.new_id("cns") for _ in range(n)]
    now = utcnow()
    rows = [
        {
            "id": i,
            "user_id": user_id,
            "client_id": client_id,
            "scope": " ".join(SCOPE),
            "created_at": now,
        }
        for i in ids
    ]
    if rows:
        await s.execute(insert(t.Consent.__table__), rows)
    return ids


async def _tokens(db, path: Path, n: int, kind: TokenKind, client_id: str, user_id: str) -> None:
    now = utcnow()
    ttl = timedelta(hours=6)
    with path.open("w") as fh:
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            async with db.unit_of_work() as s:
                consents = await _consents(s, size, client_id, user_id)
                prefix = (
                    tokens.Prefix.ACCESS_TOKEN
                    if kind is TokenKind.ACCESS
                    else tokens.Prefix.REFRESH_TOKEN
                )
                values = [tokens.generate(prefix) for _ in range(size)]
                await SqlOAuthStore(s).save_tokens(
                    *(
                        TokenRecord(
                            digest=tokens.digest(v),
                            kind=kind,
                            consent_id=c,
                            client_id=client_id,
                            user_id=user_id,
                            scope=SCOPE,
                            issued_at=now,
                            expires_at=now + ttl,
                        )
                        for v, c in zip(values, consents, strict=True)
                    )
                )
            fh.write("\n".join(values) + "\n")


async def _codes(db, path: Path, n: int, client_id: str, user_id: str) -> None:
    """Codes as save_code writes them (digest only), in batches; valid for an hour."""
    now = utcnow()
    challenge = s256(VERIFIER)
    with path.open("w") as fh:
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            async with db.unit_of_work() as s:
                consents = await _consents(s, size, client_id, user_id)
                values = [tokens.generate(tokens.Prefix.AUTHORIZATION_CODE) for _ in range(size)]
                await s.execute(
                    insert(t.AuthorizationCode.__table__),
                    [
                        {
                            "digest": tokens.digest(v),
                            "consent_id": c,
                            "client_id": client_id,
                            "user_id": user_id,
                            "redirect_uri": REDIRECT_URI,
                            "scope": " ".join(SCOPE),
                            "code_challenge": challenge,
                            "code_challenge_method": "S256",
                            "created_at": now,
                            "expires_at": now + timedelta(hours=1),
                        }
                        for v, c in zip(values, consents, strict=True)
                    ],
                )
            fh.write("\n".join(values) + "\n")


async def _filler(db, n: int, client_id: str, user_id: str) -> None:
    """n more stored (unexpired, never presented) access tokens, generated inside the database."""
    cols = "digest, kind, consent_id, client_id, user_id, scope, issued_at, expires_at"
    params = [
        bindparam("now", type_=t.UTCDateTime()),
        bindparam("exp", type_=t.UTCDateTime()),
    ]
    now = utcnow()
    async with db.unit_of_work() as s:
        [consent] = await _consents(s, 1, client_id, user_id)
        if db.is_sqlite:
            sql = (
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
                f"INSERT INTO tokens ({cols}) SELECT printf('%064x', i), 'access', :c, :cl, :u, "
                "'profile:read', :now, :exp FROM s"
            )
        else:
            sql = (
                f"INSERT INTO tokens ({cols}) SELECT encode(sha256(('filler' || i)::bytea), 'hex'), "
                "'access', :c, :cl, :u, 'profile:read', :now, :exp FROM generate_series(1, :n) i"
            )
        await s.execute(
            text(sql).bindparams(*params),
            {
                "n": n,
                "c": consent,
                "cl": client_id,
                "u": user_id,
                "now": now,
                "exp": now + timedelta(days=1),
            },
        )
        if not db.is_sqlite:
            await s.execute(text("ANALYZE tokens"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--access", type=int, default=1000)
    parser.add_argument("--refresh", type=int, default=0)
    parser.add_argument("--codes", type=int, default=0)
    parser.add_argument("--filler", type=int, default=0)
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(seed(args))
    print(f"seeded in {time.monotonic() - started:.1f}s", flush=True)


if __name__ == "__main__":
    main()
