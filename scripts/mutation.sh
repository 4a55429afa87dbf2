#!/usr/bin/env bash
# Mutation testing of the domain rules, the read-back grammar, the AGI and AMI wire parsers and
# the flow engine: scripts/mutation.sh [MODULE-PATTERN...]   (e.g. 'ivr/speech/*')
# mutmut lives in its own virtualenv (.venv-mutation), pinned, because mutmut 3.x wants a newer
# click than gTTS accepts; the project itself is not installed there: mutmut imports its mutated
# copy. One worker under nice, one module at a time: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-mutation
version=$(python3 -c 'import tomllib; print(tomllib.load(open("scripts/mutation.toml", "rb"))["mutmut"]["version"])')
# The project's run-time dependencies and the test tools its fast suites use, as pyproject.toml
# lists them now; installed again when that list or the pinned mutmut changes. mutmut last:
# pip then reports gTTS's click bound, which nothing here exercises.
wanted=$(python3 - "$version" <<'PY'
import re, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
tools = re.compile(r"^(pytest|pytest-asyncio|pytest-postgresql|hypothesis|psycopg)\b")
print("\n".join(project["dependencies"]))
print("\n".join(d for d in project["optional-dependencies"]["dev"] if tools.match(d)))
print(f"mutmut=={sys.argv[1]}")
PY
)
if [[ "$(cat "$venv/installed.txt" 2>/dev/null)" != "$wanted" ]]; then
  python3 -m venv "$venv"
  mapfile -t deps < <(grep -v '^mutmut==' <<<"$wanted")
  "$venv/bin/pip" install -q "${deps[@]}"
  "$venv/bin/pip" install -q "mutmut==$version"
  printf '%s\n' "$wanted" >"$venv/installed.txt"
fi
exec "$venv/bin/python" scripts/mutation.py --mutmut "$venv/bin/mutmut" "$@"
