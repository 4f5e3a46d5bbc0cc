"""Command line: `python -m dropout_utils data` prepares Fashion-MNIST."""

from __future__ import annotations

import sys

COMMANDS = {
    "data": "find, unpack and check Fashion-MNIST",
}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        lines = [f"  {name:8} {help}" for name, help in COMMANDS.items()]
        raise SystemExit(
            "usage: python -m dropout_utils COMMAND [--help]\n\ncommands:\n"
            + "\n".join(lines)
        )
    command, rest = argv[0], argv[1:]
    if command == "data":
        from .data import main as data_main

        data_main(rest)


if __name__ == "__main__":
    main()
