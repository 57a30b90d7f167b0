"""The deadline schedules' custom resource (infra/schedules.py): at every deploy that changes the
season's config or the schedules' target, put each gate's schedule at its stored deadline
(enrollment/core/deadlines.py), so a deploy never moves an extended deadline back.

CloudFormation calls it through the CDK Provider framework, which answers CloudFormation with what
this returns (or with the error this raises: the deploy then fails and rolls back, and no schedule
is left half-written that a rerun would not put right, since the sync is idempotent).

Delete writes nothing: the schedules go with their group when the stack is deleted (the group's
removal deletes the schedules in it), and a Delete also follows a replacement of this resource
(a new logical id), whose new copy has just put the same schedules: removing them then would
remove the season's deadlines.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.observability import logger, observed
from enrollment.adapters.scheduler import SchedulerSchedules
from enrollment.adapters.wiring import wiring
from enrollment.core.deadlines import Target, sync


class DeadlineProperties(BaseModel):
    """The custom resource's properties (CloudFormation passes every value as a string)."""

    model_config = ConfigDict(extra="ignore")  # ServiceToken and the informational ones
    season: str = Field(alias="Season")
    group_name: str = Field(alias="GroupName", min_length=1)
    target_arn: str = Field(alias="TargetArn", min_length=1)
    role_arn: str = Field(alias="RoleArn", min_length=1)
    dead_letter_arn: str = Field(alias="DeadLetterArn", min_length=1)
    retry_attempts: int = Field(alias="MaximumRetryAttempts", ge=0, le=185)
    max_event_age_s: int = Field(alias="MaximumEventAgeInSeconds", ge=60, le=86400)


class DeadlineEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")  # RequestId, StackId, ResponseURL, ...
    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    properties: DeadlineProperties = Field(alias="ResourceProperties")
    physical_id: str | None = Field(default=None, alias="PhysicalResourceId")


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = DeadlineEvent.model_validate(event)
    props = request.properties
    physical_id = props.group_name  # the same on every Update: never a replacement (and a Delete)
    if request.request_type == "Delete":
        logger.info("deadline schedules left to their group's removal", extra={"group": props.group_name})
        return {"PhysicalResourceId": request.physical_id or physical_id}
    w = wiring()
    if props.season != w.config.season:
        raise ValueError(f"Season: {props.season!r} is not the deployed config's season {w.config.season!r}")
    target = Target(
        arn=props.target_arn,
        role_arn=props.role_arn,
        dead_letter_arn=props.dead_letter_arn,
        retry_attempts=props.retry_attempts,
        max_event_age_s=props.max_event_age_s,
    )
    state = w.store.season_state(props.season)
    done = sync(w.config, state, target, SchedulerSchedules(props.group_name))
    logger.info("deadline schedules put at the stored deadlines", extra={"schedules": done})
    return {"PhysicalResourceId": physical_id, "Data": {"Gates": str(len(done))}}
