"""Kiosks and their link to the database: identity, heartbeats, the connection monitor."""
