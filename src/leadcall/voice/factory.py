"""Builds a voice provider for one account from its kind and decrypted settings.

`PROVIDERS` is the plain registry from provider kind to adapter class. Every build
returns a fresh adapter: adapters hold one account's credentials and are never shared.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from leadcall.kit.clock import Clock, SystemClock
from leadcall.voice.errors import ProviderMisconfigured
from leadcall.voice.providers.elevenlabs.adapter import ElevenLabsProvider
from leadcall.voice.types import VoiceProvider


class ProviderClass(Protocol):
    """What a registered adapter class offers: its settings type and a constructor."""

    @property
    def settings_type(self) -> type[Any]: ...

    def __call__(self, settings: Any, clock: Clock | None = ..., http: httpx.AsyncClient | None = ...) -> VoiceProvider:
        ...


PROVIDERS: dict[str, ProviderClass] = {
    "elevenlabs": ElevenLabsProvider,
}


class VoiceProviderFactory:
    """Builds per-account providers.

    `http` is an optional shared connection pool (it carries no credentials); the
    factory's caller owns and closes it. Without it each provider owns its own.
    """

    def __init__(self, clock: Clock | None = None, http: httpx.AsyncClient | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._http = http

    @staticmethod
    def kinds() -> tuple[str, ...]:
        return tuple(sorted(PROVIDERS))

    def build(self, kind: str, settings: object) -> VoiceProvider:
        """A fresh provider for one account.

        Raises `ProviderMisconfigured` for an unknown kind (the account names a provider
        this build does not have) and `TypeError` for settings of the wrong type.
        """
        provider_class = PROVIDERS.get(kind)
        if provider_class is None:
            known = ", ".join(self.kinds())
            raise ProviderMisconfigured(
                f"Unknown voice provider {kind!r}; known providers: {known}.", code="unknown_provider"
            )
        if not isinstance(settings, provider_class.settings_type):
            raise TypeError(
                f"provider {kind!r} needs {provider_class.settings_type.__name__}, got {type(settings).__name__}"
            )
        return provider_class(settings, clock=self._clock, http=self._http)
