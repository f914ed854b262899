"""OpenAMS: an open advanced metering and control system for Norwegian grid companies."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
__all__ = ["__version__"]
