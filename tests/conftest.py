"""Shared fixtures: the season config every layer of tests uses."""

from __future__ import annotations

import pytest

from enrollment.core.config import SeasonConfig, load_season


def pytest_collection_finish(session: pytest.Session) -> None:
    """`make test` runs `-n 2 --dist loadgroup`: every test of an `xdist_group` must reach the same
    worker, or a module fixture shared by ordered tests is built twice and the later tests fail
    at random. xdist marks a grouped test by suffixing its node id with `@group`; a pytest whose
    node ids ignore that suffix (9.2) silently splits the groups, so refuse to run on one."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    split = [
        item.nodeid
        for item in session.items
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid
    ]
    if split:
        raise pytest.UsageError(
            f"--dist loadgroup would split xdist groups on this pytest (e.g. {split[0]}): "
            "pin the pytest in requirements/dev.txt"
        )


@pytest.fixture(scope="session")
def season() -> SeasonConfig:
    return load_season("jilin-2023")
