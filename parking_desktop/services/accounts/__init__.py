"""User accounts: drivers, attendants, managers; sign-in and passwords."""
