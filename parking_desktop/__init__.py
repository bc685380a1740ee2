"""Parking Desktop: parking lot management with an embedded back end."""

__version__ = "0.1.0"
