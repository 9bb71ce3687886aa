"""zitkg: the linked-data knowledge graph of the programme "Sieciowanie Związków ZIT w Polsce"."""

from __future__ import annotations

__version__ = "0.1.0"
