"""API Gateway's token authorizer for staff routes: a valid OIDC access token with one staff role.

Allow: the member's principal, role and district go to the staff handlers in the authorizer context
(every handler then checks the district of the data itself). An invalid, expired or foreign token:
`Unauthorized` (API Gateway answers 401). A valid token without exactly one staff group: an explicit
deny (403). API Gateway caches the answer per token for a few minutes (infra/api.py).
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.observability import logger, metrics, observed
from enrollment.adapters.wiring import wiring
from enrollment.people.access import NoRole, TokenRejected, context_of


class TokenEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    type: Literal["TOKEN"]
    token: str = Field(alias="authorizationToken")
    method_arn: str = Field(alias="methodArn")


class Unauthorized(Exception):
    """API Gateway answers 401 when a token authorizer raises exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = TokenEvent.model_validate(event)
    scheme, _, token = request.token.partition(" ")
    arn = parse_api_gateway_arn(request.method_arn)  # keeps the partition (aws-cn in China regions)
    response = APIGatewayAuthorizerResponse(
        "anonymous", arn.region, arn.aws_account_id, arn.api_id, arn.stage, partition=arn.partition
    )
    try:
        if scheme != "Bearer":
            raise TokenRejected("not a bearer token")
        member = wiring().staff_verifier.member(token.strip())
    except TokenRejected as e:
        logger.info("staff token rejected", extra={"reason": str(e)})
        metrics.add_metric(name="StaffTokenRejected", unit="Count", value=1)
        raise Unauthorized() from None
    except NoRole as e:
        logger.info("staff token without a role", extra={"reason": str(e)})
        response.deny_all_routes()
        return response.asdict()
    response.principal_id = member.principal
    response.context = context_of(member)
    response.allow_all_routes()  # the authorizer guards staff routes only; handlers check the data
    logger.info("staff signed in", extra={"principal": member.principal, "role": member.role})
    return response.asdict()
