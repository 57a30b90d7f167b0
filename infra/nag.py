"""cdk-nag 3.x: the AwsSolutions pack as a CDK validation plugin, and acknowledgments with reasons.

Every acknowledgment names one finding (`RuleId` or `RuleId[FindingId]`) on one construct and says
why it is acceptable; cdk-nag 3 has no blanket suppression, and none is wanted.

checkov, the second scanner (tests/infra/test_checkov.py, pinned in requirements/checkov.txt), reads
its skips from the template: `checkov_skip` writes one, a check id on one resource with its reason,
into that resource's `Metadata.checkov.skip`, as an acknowledgment is written for cdk-nag.
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


def checkov_skip(scope: IConstruct, check_id: str, reason: str) -> None:
    """Tell checkov why `check_id` does not apply to `scope`'s resource (an L1, or an L2's default
    child): a `{id, comment}` entry in its `Metadata.checkov.skip`, next to any already there."""
    resource = scope if isinstance(scope, cdk.CfnResource) else scope.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource for a checkov skip")
    if not reason.strip():
        raise ValueError(f"{scope.node.path}: a checkov skip of {check_id} needs a reason")
    skips = list((resource.get_metadata("checkov") or {}).get("skip", []))
    if any(skip["id"] == check_id for skip in skips):
        raise ValueError(f"{scope.node.path}: {check_id} is skipped twice")
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check_id, "comment": reason}]})


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
