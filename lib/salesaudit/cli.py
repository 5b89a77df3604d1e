"""``python -m salesaudit <command>``.

Commands are registered in :data:`COMMANDS` as ``name -> (module, help)``; each module provides
``add_arguments(parser)`` and ``run(args) -> int``. Bad input (:class:`DataContractError`) is printed
as one line per problem on stderr with exit code 2; an operating-system error (a path that cannot be
read or written, a full disk) as one line naming the path with exit code 1 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from salesaudit.errors import DataContractError, os_error_line

# jsonschema (under nbformat) compiles the lark grammars of rfc3987-syntax whenever that optional package is
# installed: 2.2 s at every start of the command, measured. No notebook schema uses the IRI formats it checks, so
# the command goes without it (a ``None`` entry makes jsonschema's guarded import skip it).
if "rfc3987_syntax" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]

COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("salesaudit.cli_validate", "validate a data folder against the contract"),
    "demo-data": ("salesaudit.cli_demo", "generate the simulated demo company"),
    "report": ("salesaudit.report.build", "build the quarterly HTML + PDF report"),
    "quarters": ("salesaudit.cli_quarters", "list the quarters the data covers, complete or partial"),
    "import": ("salesaudit.data.importers", "import a CRM export into the data contract"),
    "lint": (
        "salesaudit.report.lint",
        "check a built report for nan/inf, demo words, claims without n, crashed sections",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m salesaudit", description="Sales audit workbook")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            p.set_defaults(_missing=module)
            continue
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_missing", None):
        print(f"salesaudit {args.command}: not available in this version ({args._missing} missing)", file=sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except DataContractError as exc:
        for line in str(exc).splitlines():
            print(line, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"salesaudit {args.command}: {os_error_line(exc)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"salesaudit {args.command}: out of memory (see --max-memory and docs/report.md)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
