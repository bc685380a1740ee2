"""Adapters to the outside world: database, cache, mail, secrets, notifiers, files."""
