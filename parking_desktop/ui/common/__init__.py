"""Widgets and helpers shared by the manager desktop and the kiosk."""
