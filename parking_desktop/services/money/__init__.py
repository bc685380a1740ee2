"""Money at the booth: payments, receipts, shifts and exceptions (docs/money.md)."""
