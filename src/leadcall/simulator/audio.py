"""Tiny valid MP3 audio: silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, mono)."""

from __future__ import annotations

_HEADER = bytes([0xFF, 0xFB, 0x90, 0xC4])
_FRAME_BYTES = 417  # 144 * 128000 / 44100, no padding
_FRAME_SECONDS = 1152 / 44100


def silent_mp3(seconds: float) -> bytes:
    frames = max(1, int(seconds / _FRAME_SECONDS))
    frame = _HEADER + bytes(_FRAME_BYTES - len(_HEADER))
    return frame * frames
