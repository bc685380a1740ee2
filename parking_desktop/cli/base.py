"""Shared pieces for command modules: the command registry, output and error conventions.

Exit codes: 0 success, 1 refused operation or bad input (one line on stderr), 2 bad usage.
An empty value for an option is bad usage, never "no value": `--user ""` is refused, it does
not mean "everyone" (use the argument types below for every text and count option).
Each command module defines ``register(subparsers)`` and sets ``func`` on its parsers; the
function receives ``(args, app_factory)`` and returns an exit code."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parking_desktop.domain.validation import CONTROL_RE, escape_controls

if TYPE_CHECKING:  # building the parser must not load the whole program (see cli/main.py)
    from parking_desktop.bootstrap import App

AppFactory = Callable[[], "App"]
CommandFunc = Callable[[argparse.Namespace, AppFactory], int]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
MAX_MESSAGE = 2000  # characters of an error line; a 100 kB value quoted in full helps nobody


class CommandError(Exception):
    """A refused command; the message is printed on stderr as one line, exit code 1."""


def one_line(message: str) -> str:
    """A message as one line: control characters escaped (a CR, LF or ESC in a value cannot
    break the line or move the cursor), a very long one cut short."""
    line = escape_controls(message)
    return line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE] + "… (cut short)"


def print_error(message: str) -> None:
    sys.stderr.write(f"error: {one_line(message)}\n")


def text_value(raw: str) -> str:
    """argparse type of a text option: not empty (nor blanks only), no control character."""
    if not raw.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    found = CONTROL_RE.search(raw)
    if found is not None:
        raise argparse.ArgumentTypeError(
            f"contains a control character (U+{ord(found.group()):04X})")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 arrive as lone surrogates
        raise argparse.ArgumentTypeError("is not valid UTF-8 text") from None
    return raw


def path_value(raw: str) -> Path:
    """argparse type of a file or folder option: an empty value is not the current folder."""
    return Path(text_value(raw))


def count_value(raw: str) -> int:
    """argparse type of a how-many option: a whole number, at least 1."""
    try:
        value = int(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number, not '{escape_controls(raw)[:30]}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def operator() -> str:
    """Who runs the command line, for the audit trail: "cli:USER@HOST". The command line acts as
    a manager without signing in; whoever can run it can read and write the data folder, so
    its permissions are the security boundary (docs/deployment.md)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return one_line(f"cli:{user}@{socket.gethostname()}")[:200]


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
