#!/bin/bash
# CPU per request, server and PostgreSQL apart: the A/B measurement behind bench/RESULTS.md.
#
#   bench/cpu_per_request.sh introspect|me|refresh|code [profile.txt]
#
# Seeds a fresh database on the PostgreSQL at $PIKSEND_BENCH_PG (default: the local one,
# trust auth), starts `piksend serve` pinned to core 0, drives MODE with wrk (bench/wrk/
# piksend.lua, each refresh token or code used once) from core 1 for 5 s at -c16, and prints
# the server's and all postgres processes' CPU time (from /proc/PID/stat) per request.
# With a second argument it also records a py-spy profile (raw folded stacks) there.
# Needs root or the postgres user's processes to be readable, wrk, and py-spy for profiles.
set -euo pipefail
# WORKERS=N (default 1) runs serve --workers N; ACCESS_LOG=1 keeps uvicorn's access log on (the
# serve default, and what ../shared/peer-bench runs), else it is off with --log-level warning.
if [ -n "${ACCESS_LOG:-}" ]; then ACCESS_FLAGS=; else ACCESS_FLAGS="--log-level warning --no-access-log"; fi
MODE=${1:?mode: introspect, me, refresh or code}
PROFILE=${2:-}
cd "$(dirname "$0")/.."
PG=${PIKSEND_BENCH_PG:-postgresql://postgres@127.0.0.1:5432}
DB=piksend_cpu_$$
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
PYTHONPATH=src .venv/bin/python bench/seed.py --database-url "$PG/$DB" --out "$WORK" \
  --access 20000 --refresh 20000 --codes 20000 >/dev/null
PIKSEND_DATA_DIR=$WORK/data PIKSEND_DATABASE_URL=$PG/$DB PIKSEND_SECRET_KEY=cpu-$(printf 'k%.0s' {1..40}) \
  PYTHONPATH=src taskset -c 0 .venv/bin/python -m piksend serve --port "$PORT" \
  --workers "${WORKERS:-1}" $ACCESS_FLAGS >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
field() { .venv/bin/python -c "import json,sys; print(json.load(open('$WORK/client.json')).get('$1', '-'))"; }
case $MODE in
  introspect|me) POOL=$WORK/access.txt ;;
  refresh) POOL=$WORK/refresh.txt ;;
  code) POOL=$WORK/codes.txt ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
drive() { taskset -c 1 wrk -t1 -c16 -d"$1" -s bench/wrk/piksend.lua "http://127.0.0.1:$PORT" -- \
  "$MODE" "$2" "$(field basic)" "$(field verifier)" "$(field redirect_uri)" 1 0; }
# Warm up on read paths only: single-use values must each be sent once.
case $MODE in introspect|me) drive 2s "$POOL" >/dev/null ;; esac
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# The server and its worker processes (serve --workers N forks them).
server_ticks() { for p in "$SERVER" $(pgrep -P "$SERVER"); do ticks "$p" 2>/dev/null || true; done | awk '{s+=$1} END {print s+0}'; }
pg_ticks() { for p in $(pgrep -u postgres postgres); do ticks "$p" 2>/dev/null || true; done | awk '{s+=$1} END {print s+0}'; }
SPY=
if [ -n "$PROFILE" ]; then
  .venv/bin/py-spy record -r 250 -p "$SERVER" -o "$PROFILE" -f raw -d 6 >/dev/null 2>&1 &
  SPY=$!
fi
S0=$(server_ticks); P0=$(pg_ticks)
OUT=$(drive 5s "$POOL")
S1=$(server_ticks); P1=$(pg_ticks)
if [ -n "$SPY" ]; then wait "$SPY" || true; fi
read -r N ERR < <(echo "$OUT" | sed -n 's/^WRKJSON //p' | .venv/bin/python -c \
  "import json,sys; d=json.load(sys.stdin); print(d['requests'], d['errors']+d['socket_errors']+d['exhausted'])")
HZ=$(getconf CLK_TCK)
echo "$MODE: $N requests in 5 s, $ERR errors; CPU per request: server $(( (S1-S0)*1000000/HZ/N )) us, postgres $(( (P1-P0)*1000000/HZ/N )) us"
