"""`desktop` (the default), `kiosk` and `board`: start the GUI (`kiosk status` is in
kiosk_commands)."""

from __future__ import annotations

import argparse
from typing import Any

from parking_desktop.cli import kiosk_commands
from parking_desktop.cli.base import AppFactory


def register(sub: Any) -> None:
    desktop = sub.add_parser("desktop", help="open the manager desktop (the default)")
    desktop.set_defaults(func=_desktop)
    kiosk = sub.add_parser("kiosk", help="open the full-screen kiosk")
    kiosk.add_argument("--windowed", action="store_true",
                       help="do not go full screen (for trying it out)")
    kiosk.set_defaults(func=_kiosk)
    kiosk_commands.register_under(
        kiosk.add_subparsers(dest="kiosk_command", metavar="[status]", required=False))
    kiosk_commands.register_sync(sub)
    board = sub.add_parser("board", help="show a lot's free spaces full screen (entrance display)")
    board.add_argument("--lot", action="append", required=True, metavar="NAME",
                       help="a lot's name or pin code; repeat for one row per lot")
    board.add_argument("--windowed", action="store_true",
                       help="do not go full screen (for trying it out)")
    board.set_defaults(func=_board)


def _desktop(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.ui.launch import run_desktop  # Qt is loaded only for GUI commands

    return run_desktop(app_factory)


def _kiosk(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.ui.launch import run_kiosk

    return run_kiosk(app_factory, fullscreen=not args.windowed)


def _board(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.services.parking.board import BoardService
    from parking_desktop.ui.board.launch import run_board

    # No sign-in: the board shows only what the sign at the entrance shows (docs/deployment.md).
    lots = BoardService(app_factory().ctx).lots_named(args.lot)  # unknown lot: one line, exit 1
    return run_board(app_factory(), lots, fullscreen=not args.windowed)
