"""What makes a password acceptable: long enough, and not one of the passwords people pick most.

The list is `common_passwords.txt.gz` beside this module (19,640 entries, see its LICENSE file);
a password matches it whatever its case and surrounding spaces. Shorter entries than the minimum
length are refused by length already; the list is what refuses `qwertyuiop` or `password123`.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIN_LENGTH = 10
# Argon2 takes any length; the bound keeps a request from making the server hash a megabyte.
MAX_LENGTH = 200

_LIST = Path(__file__).resolve().parent / "common_passwords.txt.gz"


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(_LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password is refused: a stable code, the values its sentence names, the English sentence."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


def password_problem(password: str) -> PasswordProblem | None:
    """What is wrong with `password` as a new password; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return PasswordProblem(code="password_too_short", message=f"the password needs at least {MIN_LENGTH} characters",
                               params={"min_length": MIN_LENGTH})
    if len(password) > MAX_LENGTH:
        return PasswordProblem(code="password_too_long", message=f"the password can have at most {MAX_LENGTH} characters",
                               params={"max_length": MAX_LENGTH})
    if password.strip().lower() in common_passwords():
        return PasswordProblem(code="password_too_common", message="this password is one of the most common ones; "
                                                                   "choose one that is harder to guess")
    return None
