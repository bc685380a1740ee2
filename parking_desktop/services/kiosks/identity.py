"""A kiosk's stable id: made once, kept in its data folder (0600), the same across restarts
and upgrades, so the desktop's Kiosks screen shows one row per machine, not per start."""

from __future__ import annotations

import uuid
from pathlib import Path

from parking_desktop.files import UnsafePathError, atomic_write, ensure_private_dir

ID_FILE = "kiosk-id"


class KioskIdError(Exception):
    """The id file cannot be read or written; the message names it."""


def read_kiosk_id(data_dir: Path) -> str | None:
    """The id kept in ``data_dir``, or None when this data folder never ran a kiosk."""
    path = data_dir / ID_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise KioskIdError(f"The kiosk id file {path} cannot be read: {exc}") from None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None  # damaged: a new id is better than none (the old row goes stale)


def kiosk_id(data_dir: Path) -> str:
    """The id kept in ``data_dir``, made (private, atomically) the first time."""
    existing = read_kiosk_id(data_dir)
    if existing is not None:
        return existing
    made = str(uuid.uuid4())
    path = data_dir / ID_FILE
    try:
        ensure_private_dir(data_dir)
        with atomic_write(path) as handle:
            handle.write(made.encode("ascii") + b"\n")
    except (OSError, UnsafePathError) as exc:
        raise KioskIdError(f"The kiosk id file {path} cannot be written: {exc}") from None
    return made
