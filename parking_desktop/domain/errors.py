"""Errors a user can read. Services raise these; the UI and CLI show the message as is."""


class DomainError(Exception):
    """A refused operation. ``str(error)`` is a sentence meant for the user."""


class ValidationError(DomainError):
    """Input that breaks a rule (wrong format, out of range)."""


class NotFoundError(DomainError):
    """The thing asked for does not exist (or is archived)."""


class ConflictError(DomainError):
    """The request is valid but the current state forbids it (spot occupied, lot full...)."""


class PermissionDeniedError(DomainError):
    """The signed-in role may not do this."""


class AuthenticationError(DomainError):
    """Wrong sign-in, locked or inactive account."""


class CheckFailed(Exception):
    """A self-test check's plain-words reason for failing. It lives at the bottom because both
    ``selftest`` and the Qt check under ``ui/`` raise it, and ``ui`` sits below ``selftest``."""
