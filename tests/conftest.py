"""Shared fixtures: the season config every layer of tests uses."""

from __future__ import annotations

import pytest

from enrollment.core.config import SeasonConfig, load_season


@pytest.fixture(scope="session")
def season() -> SeasonConfig:
    return load_season("jilin-2023")
