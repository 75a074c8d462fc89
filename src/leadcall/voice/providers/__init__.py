"""Voice-provider adapters, one package per vendor; see `leadcall.voice.factory` for the registry."""
