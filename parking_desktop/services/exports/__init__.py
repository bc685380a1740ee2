"""CSV exports: what is exported (scope), running them off the caller's thread, cleanup."""
