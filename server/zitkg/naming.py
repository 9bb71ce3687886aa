"""Readable IRI segments from labels (Polish letters folded to ASCII)."""

from __future__ import annotations

import re
import unicodedata


def slug(text: str, length: int = 48) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:length] or "record"
