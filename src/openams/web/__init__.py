"""The customer portal and the operator console (docs/portal.md)."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
