"""EventBridge Scheduler: moving a deadline schedule when a bureau extends a window (or when one
fired before its gate's extended deadline); describing one (`DeadlineSchedules`, the season's
status); putting and removing them at deploy time (`ScheduleWriter`, enrollment/core/deadlines.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from enrollment.adapters.clients import Client
from enrollment.core.deadlines import DeadlineSchedule
from enrollment.core.launch import Schedule

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


class SchedulerSchedules:
    client: Client[EventBridgeSchedulerClient] = Client("scheduler")

    def __init__(self, group: str, client: EventBridgeSchedulerClient | None = None) -> None:
        self.group = group
        if client is not None:
            self.__dict__["client"] = client  # the caller's own (the CLI's session and region)

    def describe(self, name: str) -> Schedule | None:
        try:
            s = self.client.get_schedule(GroupName=self.group, Name=name)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return Schedule(
            name=s["Name"],
            expression=s["ScheduleExpression"],
            timezone=s.get("ScheduleExpressionTimezone", "UTC"),
            state=s.get("State", "ENABLED"),
        )

    def move(self, name: str, expression: str) -> None:
        current = self.client.get_schedule(GroupName=self.group, Name=name)
        kwargs: dict[str, Any] = {
            "Name": name,
            "GroupName": self.group,
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": current.get("ScheduleExpressionTimezone", "UTC"),
            "FlexibleTimeWindow": current["FlexibleTimeWindow"],
            "Target": current["Target"],
            "State": current.get("State", "ENABLED"),
        }
        if current.get("Description"):
            kwargs["Description"] = current["Description"]
        self.client.update_schedule(**kwargs)

    def put(self, schedule: DeadlineSchedule) -> Literal["created", "updated", "unchanged"]:
        wanted = schedule.request(self.group)
        try:
            current = self.client.get_schedule(GroupName=self.group, Name=schedule.name)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self.client.create_schedule(**wanted)
            return "created"
        if _same(dict(current), wanted):
            return "unchanged"
        self.client.update_schedule(**wanted)
        return "updated"

    def remove(self, name: str) -> bool:
        try:
            self.client.delete_schedule(GroupName=self.group, Name=name)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether the schedule already is what `wanted` asks for (its Input compared as JSON): an unchanged
    one-time schedule is not written again."""
    keys = ("Description", "ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "State")
    if any(current.get(k) != wanted[k] for k in keys):
        return False
    have, want = dict(current.get("Target", {})), dict(wanted["Target"])
    try:
        same_input = json.loads(have.pop("Input", "null")) == json.loads(want.pop("Input"))
    except ValueError:
        return False
    return same_input and all(have.get(k) == v for k, v in want.items())
