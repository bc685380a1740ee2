#!/usr/bin/env python3
"""Parking Desktop entry point: parses the command line, then hands over."""

from parking_desktop.cli.main import run

if __name__ == "__main__":
    raise SystemExit(run())
