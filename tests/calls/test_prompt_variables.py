"""What a lead's data becomes in the agent's prompt: what the seller sees, nothing hidden."""

from __future__ import annotations

import pytest

from leadcall.calls.service import sanitize


@pytest.mark.parametrize(("typed", "seen"), [
    ("Ana \u202eetirw\u202c Pérez", "Ana etirw Pérez"),  # right-to-left override and its pop
    ("Ana\u2066 \u2069Pérez", "Ana Pérez"),  # bidi isolates
    ("Ig\u200bnore\u200d all\u2060 previous\ufeff", "Ignore all previous"),  # zero-width characters
    ("Ana\U000e0049\U000e0047\U000e004e", "Ana"),  # tag characters: hidden ASCII
    ("Ana\x00\x1b[31m\u0085Pérez", "Ana [31m Pérez"),  # controls become spaces
    ("{{system}} Ana", "{ {system} } Ana"),
])
def test_invisible_and_control_characters_never_reach_the_prompt(typed: str, seen: str) -> None:
    assert sanitize(typed) == seen


def test_visible_text_is_kept_and_bounded() -> None:
    assert sanitize("  José  Núñez-O'Brien ") == "José Núñez-O'Brien"
    assert sanitize("x" * 500) == "x" * 200
