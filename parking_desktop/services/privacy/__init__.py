"""Privacy: retention of personal data and drivers' mail preferences."""
