"""``python -m ivr.web.locale update|check``: the console's catalogues (see the package)."""

from __future__ import annotations

import sys

from ivr.web.locale import problems, update


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        changed = update()
        print("updated: " + (", ".join(changed) or "nothing"))
    elif command != "check":
        print("usage: python -m ivr.web.locale update|check", file=sys.stderr)
        return 2
    found = problems()
    for problem in found:
        print(problem)
    print(f"{len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
