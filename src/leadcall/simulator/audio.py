"""Tiny valid MP3 audio: silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, mono).

Each frame is a 4-byte header followed by zeroed side information and main data,
which decoders play as silence.
"""

from __future__ import annotations

_HEADER = bytes([0xFF, 0xFB, 0x90, 0xC4])  # sync, MPEG-1 L3 no CRC; 128 kbit/s 44.1 kHz; mono
_FRAME_BYTES = 417  # 144 * 128000 / 44100, no padding
FRAME_SECONDS = 1152 / 44100


def silent_mp3(seconds: float) -> bytes:
    """At least one frame; about `seconds` long."""
    frames = max(1, int(seconds / FRAME_SECONDS))
    return (_HEADER + bytes(_FRAME_BYTES - len(_HEADER))) * frames
