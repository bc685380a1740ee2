"""Pure parking rules: no Qt, no SQL, no I/O."""
