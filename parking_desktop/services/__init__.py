"""Use cases. Plain Python: no Qt. Each call opens its own unit of work."""
