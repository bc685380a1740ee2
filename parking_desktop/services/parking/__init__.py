"""Parking rules: lots and spots, booking, check-in/out, search, dashboard, activity log."""
