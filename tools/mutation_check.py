"""The mutation check of the protocol core (issue 16): `make mutation`.

Runs mutmut over what `[tool.mutmut]` in pyproject.toml names (piksend.oauth and the store's
security transitions), with tests/unit and tests/storage as the killers, then reads every mutant's
result. A mutant that survives, or that no test reaches, fails the check unless
tests/mutation/equivalent.toml lists it with a reason. Entries are matched by the mutated function
and the changed lines of the diff, not by mutmut's numeric ids, which shift whenever a function
changes. Listed entries that no longer match any surviving mutant are reported as stale.

  python tools/mutation_check.py              # run mutmut, then check (exit 1 on an unlisted survivor)
  python tools/mutation_check.py --no-run     # check the results of the last run only
  python tools/mutation_check.py --toml       # also print unlisted survivors as equivalent.toml entries
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LISTED = ROOT / "tests" / "mutation" / "equivalent.toml"
FAILING = {"survived", "no tests", "suspicious", "not checked", "segfault", "skipped"}


def run_mutmut(children: int) -> None:
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    # SQLite only: mutants run side by side, and a shared PostgreSQL or Redis database would let
    # one mutant's test see another's rows.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIKSEND_TEST_")}
    command = [str(mutmut), "run", "--max-children", str(children)]
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 (our own venv's mutmut)
    print(f"mutmut run: exit {done.returncode}, {time.monotonic() - started:.0f} s", flush=True)
    if done.returncode != 0:
        sys.exit(f"mutmut run failed (exit {done.returncode}); see its output above")


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="check the last run's results")
    parser.add_argument("--toml", action="store_true", help="print unlisted survivors as entries")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    os.chdir(ROOT)
    if not args.no_run:
        run_mutmut(args.children)
    rows = collect()
    if not rows:
        sys.exit("no mutant results found: run without --no-run first")
    listed = load_listed()
    keys = {(e["function"], e["diff"]): e for e in listed}
    used: set[tuple[str, str]] = set()
    kinds: Counter[str] = Counter()
    counts = Counter(status for _, _, status, _ in rows)
    unlisted = []
    for name, function, status, diff in rows:
        if status not in FAILING:
            continue
        if (function, diff) in keys:
            used.add((function, diff))
            kinds[keys[(function, diff)].get("kind", "equivalent")] += 1
        else:
            unlisted.append((name, function, status, diff))
    print(
        f"mutants: {len(rows)}; "
        + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        + f"; listed in {LISTED.name}: {sum(kinds.values())} ("
        + ", ".join(f"{kind}: {n}" for kind, n in sorted(kinds.items()))
        + f"); unlisted survivors: {len(unlisted)}"
    )
    for e in listed:
        if (e["function"], e["diff"]) not in used:
            print(f"stale entry in {LISTED.name} (no such surviving mutant): {e['function']}")
    for name, _function, status, diff in unlisted:
        print(f"\n{status}: {name}\n{diff}")
    if args.toml:
        for _name, function, status, diff in unlisted:
            print(f'\n[[mutant]]\nfunction = "{function}"\ndiff = """\n{diff}\n"""')
            print(f'reason = ""  # {status}')
    return 1 if unlisted else 0


if __name__ == "__main__":
    sys.exit(main())
