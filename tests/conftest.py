from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Shared machines are noisy: no per-example deadlines; CI explores a little more.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
