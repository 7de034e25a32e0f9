"""Mint a pool of tokens and codes straight into a piksend database, for the benchmark only.

This is the documented fast path for benchmarking: it is a script, not an endpoint, so a
normal server never exposes it. It writes through piksend's own schema and store code
(SqlOAuthStore.save_tokens, the same SHA-256 digests) and prints nothing secret but writes
the minted values to files in --out, which only wrk reads.

    PYTHONPATH=src python bench/seed.py --database-url sqlite:///x.db --out /tmp/pool \
        --access 1000 --refresh 60000 --codes 60000 [--filler 1000000]

creates a user and an app and writes client.json, access.txt, refresh.txt and codes.txt into
the directory --out. The stable interface for any benchmark harness (issue 11 item 5) mints
for a client and user that already exist (made with `piksend users create` / `apps create`):

    python -P bench/seed.py --database-url URL --client-id ID --user-id ID \
        --kind access|refresh|code --n N --verifier V --redirect-uri U --scope S --out FILE

and writes the N values to the file --out, one a line. Each value gets a consent of its own
(no artificial row contention) and is stored as the real flow stores it, by the store's own
code; only the lifetimes are longer (a code an hour, a token six hours) so a pool outlasts a
run. --verifier is the PKCE verifier (RFC 7636 §4.1) the codes' S256 challenge is made from;
--redirect-uri must be one the client registered and --scope within what it may ask for.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam, text

from piksend.accounts.service import create_user
from piksend.clients.registry import create_app
from piksend.clients.validation import AppFields
from piksend.clock import utcnow
from piksend.oauth import tokens
from piksend.oauth.types import AuthorizationCode, TokenKind, TokenRecord
from piksend.storage import tables as t
from piksend.storage.engine import Database
from piksend.storage.oauth import SqlOAuthStore
from piksend.storage.schema import ensure_ready

VERIFIER = "bench-verifier-" + "v" * 40  # RFC 7636 §4.1: 43..128 characters
KINDS = ("access", "refresh", "code")
TOKEN_TTL = timedelta(hours=6)
CODE_TTL = timedelta(hours=1)
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
        for kind, n, name in (
            ("access", args.access, "access.txt"),
            ("refresh", args.refresh, "refresh.txt"),
            ("code", args.codes, "codes.txt"),
        ):
            values = await mint(db, kind=kind, n=n, client_id=app.client_id, user_id=user.id)
            _write(out / name, values)
        if args.filler:
            await _filler(db, args.filler, app.client_id, user.id)
        return info
    finally:
        await db.dispose()


class SeedError(Exception):
    """What is wrong with the arguments, as one line for the operator."""


async def _consents(store: SqlOAuthStore, n: int, client_id: str, user_id: str, scope) -> list:
    """One consent per refresh token or code, as in real use (no artificial row contention)."""
    return await store.create_consents(
        n, user_id=user_id, client_id=client_id, scope=scope, now=utcnow()
    )


async def mint(
    db: Database,
    *,
    kind: str,
    n: int,
    client_id: str,
    user_id: str,
    scope: tuple[str, ...] = SCOPE,
    verifier: str = VERIFIER,
    redirect_uri: str = REDIRECT_URI,
) -> list[str]:
    """n access tokens, refresh tokens or codes for an existing client and user, written in
    batches through SqlOAuthStore (create_consents, save_tokens, save_codes)."""
    await _check(db, client_id, user_id, scope, redirect_uri)
    values: list[str] = []
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        async with db.unit_of_work() as s:
            store = SqlOAuthStore(s)
            consents = await _consents(store, size, client_id, user_id, scope)
            now = utcnow()
            if kind == "code":
                batch = [tokens.generate(tokens.Prefix.AUTHORIZATION_CODE) for _ in range(size)]
                await store.save_codes(
                    *(
                        AuthorizationCode(
                            digest=tokens.digest(v),
                            consent_id=c,
                            client_id=client_id,
                            user_id=user_id,
                            redirect_uri=redirect_uri,
                            scope=scope,
                            code_challenge=s256(verifier),
                            code_challenge_method="S256",
                            expires_at=now + CODE_TTL,
                        )
                        for v, c in zip(batch, consents, strict=True)
                    ),
                    now=now,
                )
            else:
                access = kind == "access"
                prefix = tokens.Prefix.ACCESS_TOKEN if access else tokens.Prefix.REFRESH_TOKEN
                batch = [tokens.generate(prefix) for _ in range(size)]
                await store.save_tokens(
                    *(
                        TokenRecord(
                            digest=tokens.digest(v),
                            kind=TokenKind.ACCESS if access else TokenKind.REFRESH,
                            consent_id=c,
                            client_id=client_id,
                            user_id=user_id,
                            scope=scope,
                            issued_at=now,
                            expires_at=now + TOKEN_TTL,
                        )
                        for v, c in zip(batch, consents, strict=True)
                    )
                )
        values.extend(batch)
    return values


async def _check(db: Database, client_id: str, user_id: str, scope, redirect_uri: str) -> None:
    async with db.unit_of_work() as s:
        client = await SqlOAuthStore(s).get_client(client_id)
        if client is None:
            raise SeedError(f"no app with client id {client_id!r}")
        if redirect_uri not in client.redirect_uris:
            raise SeedError(f"{redirect_uri!r} is not a redirect URI of {client_id}")
        extra = sorted(set(scope) - set(client.scopes))
        if not scope or extra:
            raise SeedError(f"scope must be within {' '.join(client.scopes)!r}, not {extra}")
        if await s.get(t.User, user_id) is None:
            raise SeedError(f"no user with id {user_id!r}")


def _write(path: Path, values: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(v + "\n" for v in values))


async def _filler(db, n: int, client_id: str, user_id: str) -> None:
    """n more stored (unexpired, never presented) access tokens, generated inside the database."""
    cols = "digest, kind, consent_id, client_id, user_id, scope, issued_at, expires_at"
    params = [
        bindparam("now", type_=t.UTCDateTime()),
        bindparam("exp", type_=t.UTCDateTime()),
    ]
    now = utcnow()
    async with db.unit_of_work() as s:
        [consent] = await _consents(SqlOAuthStore(s), 1, client_id, user_id, SCOPE)
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


async def mint_for_client(args) -> None:
    ensure_ready(args.database_url)
    db = Database(args.database_url, pool_size=2)
    try:
        values = await mint(
            db,
            kind=args.kind,
            n=args.n,
            client_id=args.client_id,
            user_id=args.user_id,
            scope=tuple(args.scope.split()),
            verifier=args.verifier,
            redirect_uri=args.redirect_uri,
        )
    finally:
        await db.dispose()
    _write(Path(args.out), values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", required=True, help="a directory, or with --client-id a file")
    parser.add_argument("--access", type=int, default=1000)
    parser.add_argument("--refresh", type=int, default=0)
    parser.add_argument("--codes", type=int, default=0)
    parser.add_argument("--filler", type=int, default=0)
    mint_group = parser.add_argument_group("minting for an existing client")
    mint_group.add_argument("--client-id")
    mint_group.add_argument("--user-id")
    mint_group.add_argument("--kind", choices=KINDS)
    mint_group.add_argument("--n", type=int)
    mint_group.add_argument("--verifier", default=VERIFIER)
    mint_group.add_argument("--redirect-uri", default=REDIRECT_URI)
    mint_group.add_argument("--scope", default=" ".join(SCOPE))
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.client_id is not None:
        missing = [
            f"--{k}" for k in ("user-id", "kind", "n") if getattr(args, k.replace("-", "_")) is None
        ]
        if missing:
            parser.error(f"--client-id needs {' '.join(missing)}")
        if args.n < 0 or not 43 <= len(args.verifier) <= 128:  # RFC 7636 §4.1
            parser.error("--n must be >= 0 and --verifier 43 to 128 characters")
        try:
            asyncio.run(mint_for_client(args))
        except SeedError as exc:
            print(f"seed.py: {exc}", file=sys.stderr)
            return 2
    else:
        asyncio.run(seed(args))
    print(f"seeded in {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
