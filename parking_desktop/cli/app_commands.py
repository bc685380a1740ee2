"""`desktop` (the default) and `kiosk`: start the GUI."""

from __future__ import annotations

import argparse
from typing import Any

from parking_desktop.cli.base import AppFactory


def register(sub: Any) -> None:
    desktop = sub.add_parser("desktop", help="open the manager desktop (the default)")
    desktop.set_defaults(func=_desktop)
    kiosk = sub.add_parser("kiosk", help="open the full-screen kiosk")
    kiosk.add_argument("--windowed", action="store_true",
                       help="do not go full screen (for trying it out)")
    kiosk.set_defaults(func=_kiosk)


def _desktop(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.ui.launch import run_desktop  # Qt is loaded only for GUI commands

    return run_desktop(app_factory)


def _kiosk(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.ui.launch import run_kiosk

    return run_kiosk(app_factory, fullscreen=not args.windowed)
