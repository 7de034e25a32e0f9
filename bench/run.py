"""The piksend benchmark: one command, SQLite and PostgreSQL, four paths against a ceiling.

    PYTHONPATH=src .venv/bin/python bench/run.py            # the table (a few minutes)
    PYTHONPATH=src .venv/bin/python bench/run.py --scale    # 1,000 vs 1,000,000 stored tokens

For each backend it starts ``piksend serve`` (and, for PostgreSQL, a private throw-away
PostgreSQL cluster) pinned to one core, seeds a pool of tokens and codes with bench/seed.py
(a script: the fast path is never an endpoint), and drives each path with wrk pinned to the
other core, using bench/wrk/piksend.lua, which hands each refresh token or code to exactly one
request and counts every non-2xx or wrong body as an error. A bare Starlette endpoint on the
same server stack (bench/ceiling.py) is measured in the same run as the ceiling. Each path is
then driven again at half its peak rate to read p99 there. Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LUA = HERE / "wrk" / "piksend.lua"
PG_BIN = Path(os.environ.get("PIKSEND_BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
# node-oidc-provider with a persistent Redis store on this kind of machine (req/s), where a bare
# Starlette endpoint reached 5,500-6,000. The target is 1.5x those figures, so as a share of
# the ceiling measured in the same run: 1.5 * reference / 5,750 (and GET /me at least 0.5).
REFERENCE = {"introspect": 1900, "refresh": 830, "me": 2200, "code": 790}
REFERENCE_CEILING = 5750
TARGET_RATIO = {
    mode: max(1.5 * rps / REFERENCE_CEILING, 0.5 if mode == "me" else 0.0)
    for mode, rps in REFERENCE.items()
}
PATHS = ["ceiling", "introspect", "refresh", "me", "code"]
LABELS = {
    "ceiling": "bare Starlette (ceiling)",
    "introspect": "POST /api/oauth/introspect",
    "refresh": "refresh + rotation",
    "me": "GET /api/v1/me (bearer)",
    "code": "code + PKCE exchange",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpus() -> tuple[list[str], list[str]]:
    """(server, load generator) core lists: separate cores where there are at least two."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    return [], []


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def private_postgres(work: Path, pin: list[str]):
    """A throw-away PostgreSQL cluster (default durability settings) on the server's core."""
    data = work / "pgdata"
    data.mkdir()
    work.chmod(0o755)
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [
            *run_as,
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    log = (work / "postgres.log").open("wb")
    proc = subprocess.Popen(
        [
            *run_as,
            *pin,
            str(PG_BIN / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(data),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "max_connections=100",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            if (
                subprocess.run(
                    [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
                ).returncode
                == 0
            ):
                break
            time.sleep(0.2)
        subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE piksend_bench",
            ]
            if (PG_BIN / "psql").exists()
            else [
                "psql",
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE piksend_bench",
            ],
            check=True,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/piksend_bench"
    finally:
        stop(proc, signal.SIGINT)  # PostgreSQL's "fast" shutdown


def python_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIKSEND_")}
    inherited = os.environ.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), str(HERE), inherited) if p)
    env.update(extra)
    return env


def seed(url: str, out: Path, **counts: int) -> dict:
    cmd = [sys.executable, str(HERE / "seed.py"), "--database-url", url, "--out", str(out)]
    for name, n in counts.items():
        cmd += [f"--{name}", str(n)]
    subprocess.run(cmd, check=True, env=python_env(), stdout=subprocess.DEVNULL)
    return json.loads((out / "client.json").read_text())


def wrk(
    url: str,
    mode: str,
    pool: str,
    client: dict,
    args,
    pin,
    *,
    rate: float = 0,
    duration: float | None = None,
) -> dict:
    connections = args.connections
    env = dict(os.environ)
    delay = 0
    if rate:
        # Open-ish loop at a fixed rate: each connection waits so that together they send `rate`.
        connections = args.half_connections
        delay = max(1, round(1000 * connections / rate))
        env["WRK_DELAY_MS"] = str(delay)
    cmd = [
        *pin,
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(connections),
        "-d",
        f"{int(duration or args.duration)}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        url,
        "--",
        mode,
        pool,
        client.get("basic", "-"),
        client.get("verifier", "-"),
        client.get("redirect_uri", "-"),
        str(args.threads),
        str(delay),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRKJSON "))
    result = json.loads(line[len("WRKJSON ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors_total"] = result["errors"] + result["socket_errors"] + result["exhausted"]
    if result["errors_total"] and out.stderr.strip():
        print(out.stderr.strip()[:600], file=sys.stderr)
    return result


def split_pool(src: Path, parts: dict[str, float], work: Path) -> dict[str, str]:
    lines = src.read_text().splitlines()
    files, start = {}, 0
    for name, share in parts.items():
        n = int(len(lines) * share)
        path = work / f"{src.stem}-{name}.txt"
        path.write_text("\n".join(lines[start : start + n]) + "\n")
        files[name] = str(path)
        start += n
    return files


@contextlib.contextmanager
def servers(url: str, work: Path, args, pin):
    port, cport = free_port(), free_port()
    log = (work / "serve.log").open("wb")
    serve = subprocess.Popen(
        [
            *pin,
            sys.executable,
            "-m",
            "piksend",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            *([] if args.access_log else ["--no-access-log"]),
        ],
        env=python_env(
            PIKSEND_DATA_DIR=str(work / "data"),
            PIKSEND_DATABASE_URL=url,
            PIKSEND_SECRET_KEY="bench-" + "k" * 40,
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    ceiling = subprocess.Popen(
        [
            *pin,
            sys.executable,
            str(HERE / "ceiling.py"),
            str(cport),
            "--workers",
            str(args.workers),
        ],
        env=python_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=HERE,
    )
    try:
        base, cbase = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{cport}"
        wait_http(base + "/healthz", serve)
        wait_http(cbase + "/", ceiling)
        yield base, cbase
    finally:
        stop(serve)
        stop(ceiling)


def run_backend(backend: str, args, server_pin, load_pin) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"piksend-bench-{backend}-") as tmp:
        work = Path(tmp)
        with contextlib.ExitStack() as stack:
            if backend == "postgresql":
                url = args.postgres_url or stack.enter_context(private_postgres(work, server_pin))
            else:
                url = f"sqlite:///{work / 'piksend.db'}"
            t0 = time.monotonic()
            client = seed(url, work / "pool", access=1000, refresh=args.pool, codes=args.pool)
            print(
                f"[{backend}] seeded {args.pool} refresh tokens, {args.pool} codes, "
                f"1000 access tokens in {time.monotonic() - t0:.1f}s",
                file=sys.stderr,
            )
            pools = {
                "access": str(work / "pool" / "access.txt"),
                "refresh": split_pool(
                    work / "pool" / "refresh.txt", {"peak": 0.6, "half": 0.4}, work
                ),
                "code": split_pool(work / "pool" / "codes.txt", {"peak": 0.6, "half": 0.4}, work),
            }
            base, cbase = stack.enter_context(servers(url, work, args, server_pin))
            results: dict[str, dict] = {}
            for mode in ("ceiling", "introspect", "me"):  # warm up (not single-use paths)
                wrk(
                    cbase if mode == "ceiling" else base,
                    mode,
                    "-" if mode == "ceiling" else pools["access"],
                    client,
                    args,
                    load_pin,
                    duration=1,
                )
            for mode in PATHS:
                target = cbase if mode == "ceiling" else base
                pool = {
                    "ceiling": "-",
                    "introspect": pools["access"],
                    "me": pools["access"],
                    "refresh": pools["refresh"]["peak"],
                    "code": pools["code"]["peak"],
                }[mode]
                peak = wrk(target, mode, pool, client, args, load_pin)
                if mode in ("refresh", "code"):
                    pool = pools[mode]["half"]
                half = wrk(target, mode, pool, client, args, load_pin, rate=peak["rps"] / 2)
                results[mode] = {"peak": peak, "half": half}
                print(
                    f"[{backend}] {mode}: {peak['rps']:.0f} req/s, errors "
                    f"{peak['errors_total']}+{half['errors_total']}",
                    file=sys.stderr,
                )
            return results


def run_scale(backend: str, args, server_pin, load_pin) -> dict:
    """Read paths with exactly 1,000 stored tokens, then with 1,000,000 (filler added)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix=f"piksend-bench-{backend}-") as tmp:
        work = Path(tmp)
        with contextlib.ExitStack() as stack:
            if backend == "postgresql":
                url = args.postgres_url or stack.enter_context(private_postgres(work, server_pin))
            else:
                url = f"sqlite:///{work / 'piksend.db'}"
            client = seed(url, work / "pool", access=1000)
            access = str(work / "pool" / "access.txt")
            for label, filler in (("1,000", 0), ("1,000,000", 999_000)):
                if filler:
                    t0 = time.monotonic()
                    seed(url, work / "filler", access=0, filler=filler)
                    print(
                        f"[{backend}] +{filler} tokens in {time.monotonic() - t0:.1f}s",
                        file=sys.stderr,
                    )
                with servers(url, work, args, server_pin) as (base, cbase):
                    # A warm-up long enough for a cluster seeded seconds before to settle.
                    wrk(cbase, "ceiling", "-", client, args, load_pin, duration=2)
                    for mode in ("introspect", "me"):
                        wrk(base, mode, access, client, args, load_pin, duration=3)
                    row = {"ceiling": wrk(cbase, "ceiling", "-", client, args, load_pin)}
                    for mode in ("introspect", "me"):
                        row[mode] = wrk(base, mode, access, client, args, load_pin)
                out[label] = row
                print(
                    f"[{backend}] {label}: "
                    + ", ".join(f"{m} {r['rps']:.0f}" for m, r in row.items()),
                    file=sys.stderr,
                )
    return out


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def print_table(backend: str, results: dict, args) -> None:
    ceiling = results["ceiling"]["peak"]["rps"]
    print(
        f"\n{backend} — piksend serve --workers {args.workers}, wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s; half load at -c{args.half_connections}"
    )
    print(
        f"| {'path':<28} | {'req/s':>7} | {'p50 ms':>6} | {'p99 ms':>6} | {'errors':>6} | "
        f"{'x ceiling':>9} | {'half: req/s':>11} | {'half p99 ms':>11} | {'target x':>8} |"
    )
    print(
        f"|{'-' * 30}|{'-' * 9}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 11}|{'-' * 13}|"
        f"{'-' * 13}|{'-' * 10}|"
    )
    for mode in PATHS:
        peak, half = results[mode]["peak"], results[mode]["half"]
        target = f"{TARGET_RATIO[mode]:.2f}" if mode in TARGET_RATIO else "-"
        print(
            f"| {LABELS[mode]:<28} | {peak['rps']:>7.0f} | {ms(peak['p50_us']):>6} | "
            f"{ms(peak['p99_us']):>6} | {peak['errors_total'] + half['errors_total']:>6} | "
            f"{peak['rps'] / ceiling:>9.2f} | {half['rps']:>11.0f} | "
            f"{ms(half['p99_us']):>11} | {target:>8} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description="piksend benchmark")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--half-connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--pool", type=int, default=40_000, help="refresh tokens and codes minted per backend"
    )
    parser.add_argument("--access-log", action="store_true", help="keep the access log on")
    parser.add_argument("--postgres-url", help="use this server instead of a private cluster")
    parser.add_argument(
        "--scale", action="store_true", help="compare 1,000 and 1,000,000 stored tokens instead"
    )
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    server_pin, load_pin = cpus()
    print(
        f"server pinned with {server_pin or 'nothing'}, wrk with {load_pin or 'nothing'}",
        file=sys.stderr,
    )
    all_results = {}
    for backend in args.backends.split(","):
        if args.scale:
            all_results[backend] = run_scale(backend, args, server_pin, load_pin)
        else:
            all_results[backend] = run_backend(backend, args, server_pin, load_pin)
    for backend, results in all_results.items():
        if args.scale:
            print(f"\n{backend} — stored tokens vs req/s (x ceiling of the same phase)")
            for label, row in results.items():
                c = row["ceiling"]["rps"]
                print(
                    f"| {label:>9} stored | ceiling {c:>6.0f} | "
                    + " | ".join(
                        f"{m} {r['rps']:>6.0f} ({r['rps'] / c:.2f}) p99 {ms(r['p99_us'])} ms "
                        f"err {r['errors_total']}"
                        for m, r in row.items()
                        if m != "ceiling"
                    )
                    + " |"
                )
        else:
            print_table(backend, results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(all_results, indent=2))
    errors = sum(
        r["errors_total"]
        for res in all_results.values()
        for v in res.values()
        for r in (v.values() if isinstance(v, dict) else [])
        if isinstance(r, dict) and "errors_total" in r
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
