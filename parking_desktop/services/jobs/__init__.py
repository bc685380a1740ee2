"""The job ledger: each scheduled period runs exactly once across machines."""
