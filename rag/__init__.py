"""rag: a private, local chat assistant over a corpus of news articles.

Public API: `Assistant`, `Settings`, `Answer`, `Filters`. Nothing heavy is loaded at
import: models load their weights on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Assistant", "Answer", "Settings", "Filters"]


def __getattr__(name: str) -> Any:
    if name in ("Assistant", "Answer"):
        from . import assistant
        return getattr(assistant, name)
    if name == "Settings":
        from .settings import Settings
        return Settings
    if name == "Filters":
        from .retrieve import Filters
        return Filters
    raise AttributeError(name)
