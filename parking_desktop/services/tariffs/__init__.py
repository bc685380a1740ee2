"""Tariffs as stored and used: versions per lot, quotes, what-if repricing (docs/tariffs.md).
The rate engine itself is ``domain.tariffs``; ``store`` is what the parking services use."""
