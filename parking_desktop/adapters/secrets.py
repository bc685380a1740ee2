"""The SMTP password in the OS keyring, with the backend chosen deliberately.

keyring picks "the best available" backend, and on a headless machine with keyrings.alt
installed that is a plaintext file: we refuse such backends instead of using them silently.
Secure here means: a real OS store (Secret Service, macOS Keychain, Windows Credential
Locker, KWallet) or a backend a test installed with ``keyring.set_keyring``. Without one, the
documented fallback for a headless worker is the MAIL_PASSWORD environment variable, read at
send time and never stored anywhere by us."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import keyring
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import KeyringError

log = logging.getLogger(__name__)

SERVICE = "ParkingDesktop SMTP"
ENV_PASSWORD = "MAIL_PASSWORD"

# Module prefixes of backends that do not keep a secret safe (or keep nothing at all).
_INSECURE_PREFIXES = (
    "keyrings.alt",  # plaintext (or terminal-prompting "encrypted") files
    "keyring.backends.fail",
    "keyring.backends.null",
)


class SecretStoreError(Exception):
    """The password could not be stored; the message is for the user (and holds no secret)."""


@dataclass(frozen=True)
class KeyringStatus:
    secure: bool
    backend: str  # a readable backend name, e.g. "SecretService Keyring"
    message: str  # one sentence for the Settings screen and `health`


def backend_name(backend: KeyringBackend) -> str:
    name = getattr(backend, "name", "") or type(backend).__name__
    return str(name)


def is_secure(backend: KeyringBackend) -> bool:
    module = type(backend).__module__
    if module.startswith(_INSECURE_PREFIXES):
        return False
    # keyring's own judgement: below 1 means "use only when nothing else exists".
    try:
        return float(backend.priority) > 0
    except Exception:  # a backend whose priority check fails is not viable
        return False


def choose_backend(configured: KeyringBackend | None = None) -> KeyringBackend | None:
    """The secure backend to use, or None. A chain is narrowed to its secure members."""
    backend = configured if configured is not None else keyring.get_keyring()
    if isinstance(backend, ChainerBackend):
        secure = [b for b in backend.backends if is_secure(b)]
        return secure[0] if secure else None
    return backend if is_secure(backend) else None


class SecretStore:
    """Stores and reads the SMTP password. ``environ`` is read at every lookup (never cached)."""

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._configured = backend
        self._environ = environ

    @property
    def backend(self) -> KeyringBackend | None:
        # Resolved on use, so a backend installed later (tests, a desktop session starting) counts.
        return choose_backend(self._configured)

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def status(self) -> KeyringStatus:
        chosen = self.backend
        if chosen is not None:
            return KeyringStatus(True, backend_name(chosen),
                                 f"Passwords are kept in the {backend_name(chosen)}.")
        found = backend_name(self._configured or keyring.get_keyring())
        fallback = " MAIL_PASSWORD is set in the environment and will be used." if (
            self._env().get(ENV_PASSWORD)) else ""
        return KeyringStatus(
            False, found,
            "No secure keyring is available on this machine (found: "
            f"{found}). Set MAIL_PASSWORD in the environment of the program that sends mail."
            + fallback,
        )

    @staticmethod
    def _account(username: str) -> str:
        if not username.strip():
            raise SecretStoreError("Set the SMTP user name (MAIL_USERNAME) before its password.")
        return username.strip()

    def set_smtp_password(self, username: str, password: str) -> None:
        account = self._account(username)
        if not password:
            raise SecretStoreError("The password is empty.")
        chosen = self.backend
        if chosen is None:
            raise SecretStoreError(self.status().message)
        try:
            chosen.set_password(SERVICE, account, password)
        except KeyringError as exc:
            # The backend's message never contains the secret itself, but keep it short.
            raise SecretStoreError(
                f"The {backend_name(chosen)} refused to store the password: "
                f"{type(exc).__name__}."
            ) from None

    def _stored(self, username: str) -> str | None:
        chosen = self.backend
        if chosen is None or not username.strip():
            return None
        try:
            return chosen.get_password(SERVICE, username.strip())
        except KeyringError as exc:  # a locked or unreachable store: fall back to the env
            log.warning("The keyring could not be read (%s); trying %s.",
                        type(exc).__name__, ENV_PASSWORD)
            return None

    def smtp_password(self, username: str) -> str | None:
        """The password to log in with: the keyring first, then MAIL_PASSWORD."""
        stored = self._stored(username)
        if stored:
            return stored
        return self._env().get(ENV_PASSWORD) or None

    def password_source(self, username: str) -> str:
        """'keyring', 'environment' or 'none' — what the Settings screen shows instead of it."""
        if self._stored(username):
            return "keyring"
        return "environment" if self._env().get(ENV_PASSWORD) else "none"


def smtp_password_health(username: str, environ: Mapping[str, str] | None = None
                         ) -> tuple[bool, str]:
    """For `health`: can this machine log in to the SMTP server without a plaintext secret?"""
    store = SecretStore(environ=environ)
    status = store.status()
    env = os.environ if environ is None else environ
    if not username:
        return True, f"no SMTP login configured (MAIL_USERNAME empty); {status.message}"
    if status.secure:
        where = store.password_source(username)
        if where == "none":
            return False, (f"{status.message} No password is stored for {username}: run "
                           "`smtp set-password` or set MAIL_PASSWORD.")
        return True, f"{status.message} Password for {username}: from the {where}."
    if env.get(ENV_PASSWORD):
        return True, status.message
    return False, status.message
