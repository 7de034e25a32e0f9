"""Per-rotation PostgreSQL cost of today's rotation statement vs a one-row conditional UPDATE
of a narrow grant row (issue 11 item 2's candidate design), on one server in the same minute.

    python bench/rotation_cost.py DSN N grace|nograce REFRESH_FILE

DSN is a piksend database seeded with bench/seed.py (--kind refresh --n >= 2N, the values in
REFRESH_FILE). It uses EXPLAIN (ANALYZE, BUFFERS, WAL) for the database's own time and
WAL per statement, then N prepared executions in autocommit for wall time with the commit. It
makes and drops a scratch table bench_grants. Not part of pytest.
"""

import asyncio
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import asyncpg

from piksend.clock import utcnow
from piksend.oauth import tokens
from piksend.oauth.types import TokenKind, TokenRecord
from piksend.storage.oauth.grant_writes import ROTATE_REFRESH_TOKEN, _new_columns

DSN = sys.argv[1]
N = int(sys.argv[2])
GRACE = sys.argv[3] == "grace"
values = Path(sys.argv[4]).read_text().split()


async def main():
    c = await asyncpg.connect(DSN)
    rows = {
        r["digest"]: r
        for r in await c.fetch(
            "select digest, consent_id, client_id, user_id from tokens where kind='refresh'"
        )
    }
    st = ROTATE_REFRESH_TOKEN.statement

    def params(v):
        r = rows[tokens.digest(v)]
        now = utcnow()
        new = tuple(
            TokenRecord(
                digest=tokens.digest(tokens.generate(p)),
                kind=k,
                consent_id=r["consent_id"],
                client_id=r["client_id"],
                user_id=r["user_id"],
                scope=("profile:read",),
                issued_at=now,
                expires_at=now + timedelta(hours=1),
            )
            for p, k in (
                (tokens.Prefix.ACCESS_TOKEN, TokenKind.ACCESS),
                (tokens.Prefix.REFRESH_TOKEN, TokenKind.REFRESH),
            )
        )
        p = {
            "digest": r["digest"],
            "consent_id": r["consent_id"],
            "now": now,
            **_new_columns(new),
            "k_digest": (r["digest"] if GRACE else None),
            "k_successor_digest": new[1].digest,
            "k_consent_id": r["consent_id"],
            "k_client_id": r["client_id"],
            "k_sealed": b"x" * 300,
            "k_expires_at": now + timedelta(seconds=60),
        }
        return st.pg_args(p)

    out = {}
    # A: explain analyze today's statement (with the sealed retry row)
    ex, wal, hit = [], [], []
    for v in values[:N]:
        plan = json.loads(
            await c.fetchval(
                "EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + st.pg_sql, *params(v)
            )
        )[0]
        ex.append(plan["Execution Time"] + plan["Planning Time"])
        wal.append(plan["Plan"].get("WAL Bytes", 0))
        hit.append(
            plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Dirtied Blocks", 0)
        )
    out["today: EXPLAIN exec+plan ms (median)"] = statistics.median(ex)
    out["today: WAL bytes (median)"] = statistics.median(wal)
    # A wall: prepared, executed, autocommit
    ps = await c.prepare(st.pg_sql)
    t0 = time.perf_counter()
    for v in values[N : 2 * N]:
        await ps.fetchrow(*params(v))
    out["today: wall ms per rotation (prepared, autocommit, incl. commit)"] = (
        (time.perf_counter() - t0) * 1000 / N
    )
    # B: narrow grant row, one conditional UPDATE (HOT: no indexed column changes)
    await c.execute(
        "drop table if exists bench_grants; create table bench_grants (id text primary key, generation bigint not null, revoked_at timestamptz, expires_at timestamptz not null) with (fillfactor=80)"
    )
    await c.execute(
        "insert into bench_grants select 'g'||i, 0, null, now() + interval '1 day' from generate_series(1, 20000) i"
    )
    await c.execute("analyze bench_grants")
    upd = "UPDATE bench_grants SET generation = generation + 1 WHERE id = $1 AND generation = $2 AND revoked_at IS NULL AND expires_at > now() RETURNING generation"
    ex, wal = [], []
    for i in range(N):
        plan = json.loads(
            await c.fetchval("EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + upd, f"g{i + 1}", 0)
        )[0]
        ex.append(plan["Execution Time"] + plan["Planning Time"])
        wal.append(plan["Plan"].get("WAL Bytes", 0))
    out["grant row: EXPLAIN exec+plan ms (median)"] = statistics.median(ex)
    out["grant row: WAL bytes (median)"] = statistics.median(wal)
    pu = await c.prepare(upd)
    t0 = time.perf_counter()
    for i in range(N):
        await pu.fetchrow(f"g{N + i + 1}", 0)
    out["grant row: wall ms per rotation (prepared, autocommit, incl. commit)"] = (
        (time.perf_counter() - t0) * 1000 / N
    )
    hot = await c.fetchrow(
        "select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where relname='bench_grants'"
    )
    out["grant row: HOT updates / updates"] = f"{hot['n_tup_hot_upd']}/{hot['n_tup_upd']}"
    await c.execute("drop table bench_grants")
    for k, v in out.items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")


asyncio.run(main())
