"""The provider registry builds a fresh, closable adapter per account."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from leadcall.kit.clock import ManualClock
from leadcall.voice.errors import ProviderMisconfigured
from leadcall.voice.factory import PROVIDERS, VoiceProviderFactory
from leadcall.voice.providers.elevenlabs import ElevenLabsProvider
from tests.voice.providers.wire import make_settings


async def test_builds_a_fresh_elevenlabs_provider_per_account() -> None:
    factory = VoiceProviderFactory(clock=ManualClock())
    first = factory.build("elevenlabs", make_settings())
    second = factory.build("elevenlabs", make_settings(api_key="sk_other"))
    assert isinstance(first, ElevenLabsProvider)
    assert first is not second
    await first.aclose()
    await second.aclose()


def test_registry_lists_elevenlabs() -> None:
    assert set(PROVIDERS) == {"elevenlabs"}
    assert VoiceProviderFactory.kinds() == ("elevenlabs",)


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ProviderMisconfigured, match="Unknown voice provider 'vapi'; known providers: elevenlabs"):
        VoiceProviderFactory().build("vapi", make_settings())


def test_wrong_settings_type_is_refused() -> None:
    @dataclass(frozen=True)
    class OtherSettings:
        api_key: str

    with pytest.raises(TypeError, match="ElevenLabsSettings"):
        VoiceProviderFactory().build("elevenlabs", OtherSettings(api_key="k"))
