"""Use cases of OpenAMS, over ports; entry points call one of these and format the result."""

from __future__ import annotations
