"""The ``fastpar`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastpar", description="GIL-free kernels for Python batches")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="the GIL problem and its fix on an indicator batch",
                        add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        from . import demo

        return demo.main(rest)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
