"""EventBridge Scheduler: moving a deadline schedule when a bureau extends a window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from enrollment.adapters.clients import Client

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


class SchedulerSchedules:
    client: Client[EventBridgeSchedulerClient] = Client("scheduler")

    def __init__(self, group: str) -> None:
        self.group = group

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
