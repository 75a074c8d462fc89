from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from leadcall.voice.manager import VoiceManager


async def get_voice_manager(request: Request) -> VoiceManager:
    manager: VoiceManager = request.app.state.voice_manager
    return manager


Voices = Annotated[VoiceManager, Depends(get_voice_manager)]
