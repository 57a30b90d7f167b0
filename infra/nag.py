"""cdk-nag 3.x: the AwsSolutions pack as a CDK validation plugin, and acknowledgments with reasons.

Every acknowledgment names one finding (`RuleId` or `RuleId[FindingId]`) on one construct and says
why it is acceptable; cdk-nag 3 has no blanket suppression, and none is wanted.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: cdk.App) -> None:
    """Run AwsSolutions at synth: any unacknowledged error fails synthesis (ValidationFailed)."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def ref(resource: IConstruct) -> str:
    """How cdk-nag names a reference to an L2's resource in finding ids: its logical id."""
    child = resource.node.default_child
    if not isinstance(child, cdk.CfnElement):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource")
    return cdk.Stack.of(resource).get_logical_id(child)


def flatten(scope: IConstruct, value: object) -> str:
    """How cdk-nag spells a (token) value in finding ids: `Fn::Join` joined, `Ref` as `<Id>`,
    `Fn::GetAtt` as `<Id.Attr>` (cdk-nag's flattenCfnReference), e.g. an ARN built by format_arn."""

    def visit(node: object) -> str:
        if isinstance(node, str):
            return node.replace("${", "<").replace("}", ">")
        if isinstance(node, dict) and "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(visit(item) for item in items)
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{visit(resource)}.{visit(attribute)}>"
        if isinstance(node, dict) and "Ref" in node:
            return f"<{visit(node['Ref'])}>"
        raise TypeError(f"cannot flatten {node!r} as cdk-nag does")

    return visit(cdk.Stack.of(scope).resolve(value))
