"""Choose the store: the embedded Oxigraph store, or a remote SPARQL 1.1 server when one is configured."""

from __future__ import annotations

from typing import Any

from zitkg.settings import Settings
from zitkg.store import GraphStore, OxigraphStore


def open_store(settings: Settings, **options: Any) -> GraphStore:
    if settings.remote:
        from zitkg.remote import RemoteStore

        return RemoteStore(settings)
    return OxigraphStore(settings.store, **options)
