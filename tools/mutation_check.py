"""The mutation check of the protocol core (issue 16): `make mutation`.

Runs mutmut over what `[tool.mutmut]` in pyproject.toml names (piksend.oauth and the store's
security transitions), with tests/unit and tests/storage as the killers, on SQLite; then a second,
PostgreSQL pass (PG_PASS_FUNCTIONS: the single-statement grant writes that only run on asyncpg, and
the store's statements, built on first use) in a tree of its own, mutants/postgres, with the store
contract as the killer, each mutant in a fresh process with a database of its own. A mutant is
killed when either pass kills it. A mutant that survives, or that no test reaches, fails the check
unless tests/mutation/equivalent.toml lists it with a reason. Entries are matched by the mutated
function and the changed lines of the diff, not by mutmut's numeric ids, which shift whenever a
function changes. Listed entries that no longer match any surviving mutant are reported as stale.
Without PIKSEND_TEST_POSTGRES_URL the second pass is skipped, saying so, and its mutants that the
first pass leaves alive are reported as not run: a failure in CI (CI=true), a warning elsewhere.

  python tools/mutation_check.py              # run mutmut, then check (exit 1 on an unlisted survivor)
  python tools/mutation_check.py --no-run     # check the results of the last run only
  python tools/mutation_check.py --toml       # also print unlisted survivors as equivalent.toml entries
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LISTED = ROOT / "tests" / "mutation" / "equivalent.toml"
FAILING = {"survived", "no tests", "suspicious", "not checked", "segfault", "skipped"}
NOT_RUN = "not run (PostgreSQL unset)"
PG_ENV = "PIKSEND_TEST_POSTGRES_URL"
# The PostgreSQL pass. The grant writes run only on PostgreSQL (the AtomicWriter path); the
# statements are built on first use, so only a mutant process that starts clean builds them with
# its mutant selected (the first pass forks its mutants from a process that has built them all).
PG_PASS_DIR = ROOT / "mutants" / "postgres"
PG_PASS_FUNCTIONS = (
    "piksend.storage.oauth.grant_writes.*",
    "piksend.storage.oauth.statements.*",
    "piksend.storage.oauth.store.xǁSqlOAuthStoreǁredeem_code__mutmut_*",
    "piksend.storage.oauth.store.xǁSqlOAuthStoreǁrotate_refresh_token__mutmut_*",
)
PG_PASS_KILLERS = [
    "tests/storage/test_store_contract.py",
    "tests/storage/test_statements.py",
]


def run_mutmut(children: int, functions: list[str]) -> None:
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    # SQLite only: mutants run side by side, and a shared PostgreSQL or Redis database would let
    # one mutant's test see another's rows.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIKSEND_TEST_")}
    command = [str(mutmut), "run", "--max-children", str(children), *functions]
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 (our own venv's mutmut)
    print(f"mutmut run: exit {done.returncode}, {time.monotonic() - started:.0f} s", flush=True)
    if done.returncode != 0:
        sys.exit(f"mutmut run failed (exit {done.returncode}); see its output above")


def pg_pass_config() -> str:
    """pyproject.toml for the PostgreSQL pass: the project's, with its own [tool.mutmut]."""
    text = (ROOT / "pyproject.toml").read_text()
    main = tomllib.loads(text)["tool"]["mutmut"]
    start = text.index("\n[tool.mutmut]\n")
    following = re.search(r"^\[", text[start + 2 :], re.MULTILINE)
    end = start + 2 + following.start() if following else len(text)
    own = {
        "source_paths": main["source_paths"],
        "only_mutate": [p for p in main["only_mutate"] if p.startswith("src/piksend/storage/")],
        "pytest_add_cli_args_test_selection": PG_PASS_KILLERS,
        "pytest_add_cli_args": main["pytest_add_cli_args"],
        # Each mutant's process is forked from one that has only collected the tests: nothing
        # built on first use is inherited, and no database connection either.
        "process_isolation": "forkserver",
        "use_git_change_detection": False,
    }
    table = "\n".join(f"{key} = {json.dumps(value)}" for key, value in own.items())
    return f"{text[:start]}\n[tool.mutmut]\n{table}\n{text[end:]}"


def run_pg_pass(children: int, url: str, functions: list[str]) -> None:
    """mutmut over PG_PASS_FUNCTIONS in mutants/postgres, on SQLite and PostgreSQL: the database
    at ``url`` is migrated once and each process clones its own (tests/support/db.py)."""
    started = time.monotonic()
    shutil.rmtree(PG_PASS_DIR, ignore_errors=True)
    PG_PASS_DIR.mkdir(parents=True)
    for name in ("src", "tests"):
        (PG_PASS_DIR / name).symlink_to(ROOT / name, target_is_directory=True)
    (PG_PASS_DIR / "pyproject.toml").write_text(pg_pass_config())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIKSEND_TEST_")}
    env |= {PG_ENV: url, "PIKSEND_TEST_POSTGRES_PER_PROCESS": "1"}
    python = sys.executable
    support = "import sys; from tests.support import db; "
    migrate = "import sys; from piksend.storage.schema import upgrade; upgrade(sys.argv[1])"
    subprocess.run([python, "-c", migrate, url], cwd=ROOT, env=env, check=True)  # noqa: S603
    mutmut = Path(python).with_name("mutmut")
    command = [str(mutmut), "run", "--max-children", str(children), *functions]
    try:
        done = subprocess.run(command, cwd=PG_PASS_DIR, env=env, check=False)  # noqa: S603
    finally:
        drop = support + "db.drop_process_databases(sys.argv[1])"
        subprocess.run([python, "-c", drop, url], cwd=ROOT, env=env, check=False)  # noqa: S603
    took = time.monotonic() - started
    print(f"mutmut run (PostgreSQL pass): exit {done.returncode}, {took:.0f} s", flush=True)
    if done.returncode != 0:
        sys.exit(f"mutmut run (PostgreSQL pass) failed (exit {done.returncode}); see above")


def changed_lines(diff: str) -> str:
    """The removed and added lines of a unified diff, whitespace-trimmed: stable across runs."""
    out = [
        line[0] + " " + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(out)


def collect() -> list[tuple[str, str, str, str]]:
    """(mutant name, function, status, changed lines) for every mutant of the last run."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    rows = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, code in data.exit_code_by_key.items():
            status = status_by_exit_code[code]
            function = re.sub(r"__mutmut_\d+$", "", name)
            diff = changed_lines(get_diff_for_mutant(name, path=path)) if status in FAILING else ""
            rows.append((name, function, status, diff))
    return rows


def load_listed() -> list[dict[str, str]]:
    entries = tomllib.loads(LISTED.read_text())["mutant"]
    for entry in entries:
        if not entry.get("reason", "").strip():
            sys.exit(f"{LISTED}: the entry for {entry['function']} gives no reason")
        entry["diff"] = "\n".join(x.strip() for x in entry["diff"].strip().splitlines())
    return entries


def in_pg_pass(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in PG_PASS_FUNCTIONS)


def pg_pass_rows() -> list[tuple[str, str, str, str]]:
    """The PostgreSQL pass's results, read by this script in its tree (mutmut reads cwd)."""
    script = [sys.executable, str(Path(__file__).resolve()), "--rows"]
    done = subprocess.run(script, cwd=PG_PASS_DIR, capture_output=True, text=True, check=True)  # noqa: S603
    return [tuple(row) for row in json.loads(done.stdout) if in_pg_pass(row[0])]


def merged_rows(pg_ran: bool) -> list[tuple[str, str, str, str]]:
    """Each mutant's result: killed if either pass killed it. Without the PostgreSQL pass, the
    mutants it would have run and the first pass left alive are not run."""
    rows = collect()
    if not pg_ran:
        return [
            (name, function, NOT_RUN, diff)
            if status in FAILING and in_pg_pass(name)
            else (name, function, status, diff)
            for name, function, status, diff in rows
        ]
    second = {row[0]: row for row in pg_pass_rows()}
    return [second.get(row[0], row) if row[2] in FAILING else row for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="check the last run's results")
    parser.add_argument("--toml", action="store_true", help="print unlisted survivors as entries")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--functions",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="run and check only these mutants (fnmatch patterns of mutmut's names)",
    )
    parser.add_argument("--rows", action="store_true", help=argparse.SUPPRESS)  # pg_pass_rows
    args = parser.parse_args()
    if args.rows:
        print(json.dumps(collect()))
        return 0
    os.chdir(ROOT)
    url = os.environ.get(PG_ENV) or None
    if not args.no_run:
        run_mutmut(args.children, args.functions)
        if url is None:
            shutil.rmtree(PG_PASS_DIR, ignore_errors=True)
            print(f"PostgreSQL pass skipped: {PG_ENV} is not set (CI sets it)", flush=True)
        else:
            pg_functions = [f for f in args.functions if in_pg_pass(f)] or list(PG_PASS_FUNCTIONS)
            if not args.functions or any(in_pg_pass(f) for f in args.functions):
                run_pg_pass(args.children, url, pg_functions)
    rows = merged_rows((PG_PASS_DIR / "mutants").is_dir())
    if args.functions:
        rows = [r for r in rows if any(fnmatch.fnmatchcase(r[0], f) for f in args.functions)]
    if not rows:
        sys.exit("no mutant results found: run without --no-run first")
    listed = load_listed()
    keys = {(e["function"], e["diff"]): e for e in listed}
    used: set[tuple[str, str]] = set()
    kinds: Counter[str] = Counter()
    counts = Counter(status for _, _, status, _ in rows)
    unlisted = []
    not_run = []
    for name, function, status, diff in rows:
        if status not in FAILING and status != NOT_RUN:
            continue
        if (function, diff) in keys:
            used.add((function, diff))
            kinds[keys[(function, diff)].get("kind", "equivalent")] += 1
        elif status == NOT_RUN:
            not_run.append(name)
        else:
            unlisted.append((name, function, status, diff))
    print(
        f"mutants: {len(rows)}; "
        + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        + f"; listed in {LISTED.name}: {sum(kinds.values())} ("
        + ", ".join(f"{kind}: {n}" for kind, n in sorted(kinds.items()))
        + f"); unlisted survivors: {len(unlisted)}"
    )
    # With --functions, only the entries of the functions checked can be stale.
    checked = {function for _, function, _, _ in rows} if args.functions else None
    for e in listed:
        if (e["function"], e["diff"]) not in used and (checked is None or e["function"] in checked):
            print(f"stale entry in {LISTED.name} (no such surviving mutant): {e['function']}")
    for name, _function, status, diff in unlisted:
        print(f"\n{status}: {name}\n{diff}")
    if not_run:
        print(
            f"\n{len(not_run)} mutants {NOT_RUN}: the PostgreSQL pass kills them; set {PG_ENV}"
            + (" (CI=true: a failure)" if os.environ.get("CI") == "true" else "")
        )
    if args.toml:
        for _name, function, status, diff in unlisted:
            print(f'\n[[mutant]]\nfunction = "{function}"\ndiff = """\n{diff}\n"""')
            print(f'reason = ""  # {status}')
    return 1 if unlisted or (not_run and os.environ.get("CI") == "true") else 0


if __name__ == "__main__":
    sys.exit(main())
