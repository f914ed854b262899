"""Interoperability tests against independent DLMS/COSEM implementations."""

from __future__ import annotations
