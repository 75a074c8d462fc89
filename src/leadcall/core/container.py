"""The infrastructure one app instance runs on, built once by create_app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from leadcall.core.secrets import SecretBox
from leadcall.kit.clock import Clock
from leadcall.settings import Settings


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    secret_box: SecretBox
