"""Command line: `python -m dropout_utils data` prepares Fashion-MNIST, `vendor`
fetches the scripts the book serves itself."""

from __future__ import annotations

import sys

COMMANDS = {
    "data": "find, unpack and check Fashion-MNIST",
    "vendor": "fetch MathJax, require.js and the widget manager (npm registry)",
}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    lines = [f"  {name:8} {help}" for name, help in COMMANDS.items()]
    usage = (
        "usage: python -m dropout_utils COMMAND [--help]\n\ncommands:\n"
        + "\n".join(lines)
    )
    if argv[:1] in (["-h"], ["--help"]):
        print(usage)  # asked for: not an error
        return
    if not argv or argv[0] not in COMMANDS:
        raise SystemExit(usage)
    command, rest = argv[0], argv[1:]
    if command == "data":
        from .data import main as data_main

        data_main(rest)
    elif command == "vendor":
        from .offline import main as vendor_main

        vendor_main(rest)


if __name__ == "__main__":
    main()
