"""ElevenLabs Agents Platform adapter (plain async httpx against the public API)."""

from leadcall.voice.providers.elevenlabs.adapter import ElevenLabsProvider
from leadcall.voice.types import ElevenLabsSettings

__all__ = ["ElevenLabsProvider", "ElevenLabsSettings"]
