"""EventBridge Scheduler: moving a deadline schedule when a bureau extends a window; describing one
(`DeadlineSchedules`, the season's status)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from enrollment.adapters.clients import Client
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
