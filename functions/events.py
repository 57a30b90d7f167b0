"""Workflow events shared by several task functions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SeasonEvent(BaseModel):
    """A task that acts on the whole season: `{"season": "2023"}` (the ASL passes `${Season}`)."""

    model_config = ConfigDict(extra="forbid")
    season: str
