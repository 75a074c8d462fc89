"""Encryption at rest for provider secrets (API keys, webhook secrets).

Keys come from settings as a comma-separated list of Fernet keys: the first one
encrypts, every one decrypts, so a key can be rotated by putting the new key first
and re-encrypting (`leadcall secrets rotate`).
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from leadcall.core.errors import LeadcallError


class SecretBoxError(LeadcallError):
    status_code = 500
    error = "secret_unreadable"


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self._first = keys[0].encode()

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        return cls([k.strip() for k in value.split(",") if k.strip()])

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretBoxError("a stored secret cannot be decrypted with the configured keys") from exc

    def derived_key(self, purpose: str) -> bytes:
        """A key for `purpose` (e.g. signing what other processes read back), derived from the newest key:
        the same on every process that shares the keys, useless for decrypting anything."""
        return hmac.new(self._first, f"leadcall:{purpose}".encode(), hashlib.sha256).digest()

    def rotate(self, token: str) -> str:
        """Re-encrypt under the first (newest) key."""
        return self._fernet.rotate(token.encode()).decode()


def mask(secret: str) -> str:
    """How a secret is shown to people: only its last four characters."""
    return "…" + secret[-4:] if len(secret) >= 8 else "…"
