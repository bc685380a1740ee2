"""Shared pieces for command modules: the command registry, output and error conventions.

Exit codes: 0 success, 1 refused operation or bad input (one line on stderr), 2 bad usage.
Each command module defines ``register(subparsers)`` and sets ``func`` on its parsers; the
function receives ``(args, app_factory)`` and returns an exit code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from parking_desktop.bootstrap import App

AppFactory = Callable[[], App]
CommandFunc = Callable[[argparse.Namespace, AppFactory], int]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A refused command; the message is printed on stderr as one line, exit code 1."""


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(document: Any) -> None:
    json.dump(to_jsonable(document), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    text_rows = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text_rows]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for row in text_rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
