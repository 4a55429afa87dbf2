"""Mutation testing, one module at a time (called by scripts/mutation.sh).

For each module named in scripts/mutation.toml (or only those given on the command line), copy
the working tree into var/mutation/<module>/, point mutmut at that module and its fast tests,
run it with one worker, and score what its tests caught. Survivors listed in
scripts/mutation-equivalent.txt (mutant name, then why it changes nothing a user could see) are
left out of the score, so a new survivor stands out.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "scripts" / "mutation.toml"
EQUIVALENT = ROOT / "scripts" / "mutation-equivalent.txt"
WORK = ROOT / "var" / "mutation"
TARGET_SCORE = 95.0

# mutmut's exit codes per mutant (mutmut/stats.py): what counts as caught.
CAUGHT = {1, 3, 36, 24, -24, 152, 255}  # a test failed, or the mutant hung and timed out
SURVIVED = {0}
# No test of the suite ran the mutated code (None: mutmut stopped before checking any mutant,
# because no test covers the module at all).
NO_TESTS = {5, 33, None}


@dataclass
class Score:
    module: str
    total: int = 0
    caught: int = 0
    equivalent: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)  # not equivalent: a missing test
    untested: list[str] = field(default_factory=list)  # no test in the suite ran the code
    other: list[str] = field(default_factory=list)  # suspicious, segfault, not checked
    ran: bool = True  # False: no results (not run yet, or mutmut failed: see its log)

    @property
    def judged(self) -> int:
        return self.total - len(self.equivalent)

    @property
    def percent(self) -> float:
        return 100.0 * self.caught / self.judged if self.judged else 100.0


def load_targets() -> list[tuple[str, list[str]]]:
    """Every module to mutate with the test paths that judge it, in the config's order."""
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    targets: list[tuple[str, list[str]]] = []
    for target in config["target"]:
        for module in sorted(ROOT.glob(target["modules"])):
            if module.name != "__init__.py":
                targets.append((module.relative_to(ROOT).as_posix(), list(target["tests"])))
    return targets


def load_equivalent() -> dict[str, str]:
    """Mutant name → reason, from the committed list (blank lines and # comments ignored)."""
    reasons: dict[str, str] = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            reasons[name] = reason.strip()
    return reasons


def copy_tree(dest: Path) -> None:
    """The working tree as git sees it (tracked plus new, unignored files): tests not yet
    committed are judged too, and the copy is the same from a fresh clone."""
    if dest.exists():
        shutil.rmtree(dest)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        source = ROOT / os.fsdecode(raw)
        target = dest / os.fsdecode(raw)
        if source.is_symlink():  # ivr/resources links to the top-level folders: keep them links
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def configure(dest: Path, module: str, tests: list[str]) -> None:
    """Append mutmut's settings to the copy's pyproject.toml (mutmut reads them from there)."""
    also_copy = sorted(
        p.name for p in dest.iterdir() if p.is_dir() and p.name not in {"ivr", "tests", "mutants"}
    )
    # mutmut copies the package file by file and drops its links to the top-level folders
    # (ivr/resources): copied whole, their contents come along.
    for folder, dirs, files in os.walk(dest / "ivr"):
        for name in dirs + files:
            if (Path(folder) / name).is_symlink():
                also_copy.append((Path(folder) / name).relative_to(dest).as_posix())
    settings = {
        "source_paths": ["ivr"],
        "only_mutate": [module],
        "also_copy": also_copy,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q"],
        "pytest_add_cli_args_test_selection": tests,
        "use_git_change_detection": False,
    }
    lines = ["", "[tool.mutmut]"] + [f"{key} = {json.dumps(v)}" for key, v in settings.items()]
    with (dest / "pyproject.toml").open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def log_path(dest: Path) -> Path:
    return dest.parent / (dest.name + ".log")


def run_module(module: str, tests: list[str], mutmut: str) -> Path:
    dest = work_dir(module)
    copy_tree(dest)
    configure(dest, module, tests)
    log = log_path(dest)
    print(f"== {module}  (tests: {' '.join(tests)}; log: {log.relative_to(ROOT)})", flush=True)
    with log.open("w", encoding="utf-8") as out:
        subprocess.run(
            ["nice", "-n", "15", str(Path(mutmut).resolve()), "run", "--max-children", "1"],
            cwd=dest,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return dest


def recheck_module(module: str, tests: list[str], mutmut: str, names: list[str]) -> Path:
    """Run again only ``names`` (the last run's misses) against the working tree's tests as
    they are now; the other results stand. Quick while writing tests: a full run settles it."""
    dest = work_dir(module)
    fresh = dest.parent / (dest.name + ".fresh")
    copy_tree(fresh)
    for target in (dest / "tests", dest / "mutants" / "tests"):
        shutil.rmtree(target)
        shutil.copytree(fresh / "tests", target)
    shutil.rmtree(fresh)
    (dest / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)  # which test runs what
    print(f"== {module}: {len(names)} mutants again (log: {log_path(dest).relative_to(ROOT)})")
    with log_path(dest).open("a", encoding="utf-8") as out:
        subprocess.run(
            ["nice", "-n", "15", str(Path(mutmut).resolve()), "run", "--max-children", "1", *names],
            cwd=dest,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return dest


def work_dir(module: str) -> Path:
    return WORK / module.removesuffix(".py").replace("/", ".")


def score(module: str, dest: Path, equivalent: dict[str, str]) -> Score:
    meta = dest / "mutants" / (module + ".meta")
    result = Score(module)
    if not meta.exists():
        result.ran = False
        return result
    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    for name, code in sorted(codes.items()):
        result.total += 1
        if code in CAUGHT:
            result.caught += 1
        elif name in equivalent and (code in SURVIVED or code in NO_TESTS):
            result.equivalent.append(name)
        elif code in SURVIVED:
            result.survivors.append(name)
        elif code in NO_TESTS:
            result.untested.append(name)
        else:
            result.other.append(f"{name} (exit {code})")
    return result


def report(scores: list[Score]) -> None:
    print()
    print("| module | mutants | caught | equivalent | survived | untested | score |")
    print("|---|---|---|---|---|---|---|")
    for s in scores:
        if not s.ran:
            print(f"| {s.module} | no results: see {log_path(work_dir(s.module))} |")
            continue
        missed = len(s.survivors) + len(s.other)
        print(
            f"| {s.module} | {s.total} | {s.caught} | {len(s.equivalent)} | {missed} "
            f"| {len(s.untested)} | {s.percent:.1f} % |"
        )
    for s in scores:
        for kind, names in (("survived", s.survivors + s.other), ("untested", s.untested)):
            for name in names:
                print(f"{kind}: {name}")
    print()
    print("Inspect one: cd var/mutation/<module> && ../../../.venv-mutation/bin/mutmut show NAME")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="patterns such as ivr/speech/readback.py")
    parser.add_argument("--mutmut", required=True, help="the mutmut executable to run")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--score-only", action="store_true", help="score the last run, run nothing")
    mode.add_argument(
        "--recheck", action="store_true", help="run only the last run's misses, with today's tests"
    )
    args = parser.parse_args()
    targets = [
        (module, tests)
        for module, tests in load_targets()
        if not args.modules or any(fnmatch.fnmatch(module, p) for p in args.modules)
    ]
    if not targets:
        parser.error("no module in scripts/mutation.toml matches")
    equivalent = load_equivalent()
    scores = []
    for module, tests in targets:
        dest = work_dir(module)
        if args.recheck:
            last = score(module, dest, equivalent)
            missed = [name.split()[0] for name in last.survivors + last.other + last.untested]
            if missed:
                recheck_module(module, tests, args.mutmut, missed)
        elif not args.score_only:
            run_module(module, tests, args.mutmut)
        scores.append(score(module, dest, equivalent))
    report(scores)
    return 0 if all(s.ran and s.percent >= TARGET_SCORE for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
