"""Password and token hashing.

Passwords are hashed with Argon2id through pwdlib (argon2-cffi underneath) at the library's
recommended cost. Hashes of the earlier scheme (`scrypt$<salt>$<digest>`, standard-library scrypt)
still verify, and `verify_and_update` then hands back an Argon2 hash to store in their place, so each
is upgraded at its user's next sign-in; an Argon2 hash of an older cost is upgraded the same way.

Hashing costs tens of milliseconds of CPU on purpose: async callers run these functions in a thread.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.base import ensure_bytes, ensure_str


class LegacyScryptHasher:
    """Verifies the hashes leadcall stored before Argon2 (never makes new ones)."""

    _N, _R, _P = 2**14, 8, 1

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:  # noqa: A002 - pwdlib's protocol names it so
        return ensure_str(hash).startswith("scrypt$")

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        raise NotImplementedError("scrypt hashes are only verified, then replaced by Argon2 ones")

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:  # noqa: A002
        try:
            _scheme, salt_b64, digest_b64 = ensure_str(hash).split("$")
            salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        except (ValueError, binascii.Error):
            return False
        digest = hashlib.scrypt(ensure_bytes(password), salt=salt, n=self._N, r=self._R, p=self._P, dklen=32)
        return hmac.compare_digest(digest, expected)

    def check_needs_rehash(self, hash: str | bytes) -> bool:  # noqa: A002
        return True


_PASSWORDS = PasswordHash((Argon2Hasher(), LegacyScryptHasher()))


def hash_password(password: str) -> str:
    return _PASSWORDS.hash(password)


def verify_and_update(password: str, stored: str) -> tuple[bool, str | None]:
    """Whether `password` matches `stored`, and the hash to store instead when `stored` is of an older
    scheme or cost (None when it is current). An unrecognised hash never matches."""
    try:
        return _PASSWORDS.verify_and_update(password, stored)
    except UnknownHashError:
        return False, None


def verify_password(password: str, stored: str) -> bool:
    return verify_and_update(password, stored)[0]


@functools.cache
def _dummy_hash() -> str:
    return _PASSWORDS.hash(secrets.token_urlsafe(16))


def spend_a_verification(password: str) -> None:
    """Costs what checking a real password costs, and always fails: a sign-in for an unknown email (or a
    user without a password) takes as long as a wrong password, so timing does not tell which emails exist."""
    _PASSWORDS.verify(password, _dummy_hash())


def new_api_token() -> str:
    return "lc_" + secrets.token_urlsafe(32)


def new_secret() -> str:
    """A random secret for a link or a cookie (256 bits), URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """API tokens, session ids and reset links are long random strings, so a plain SHA-256 is enough to store
    them (a lookup by hash; nothing to slow down)."""
    return hashlib.sha256(token.encode()).hexdigest()
