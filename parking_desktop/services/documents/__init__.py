"""The documents a person keeps (receipts, Z-reports): made as PDF, printed or e-mailed."""
