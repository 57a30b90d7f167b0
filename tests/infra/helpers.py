"""Reading a synthesized CloudFormation template: resources, role policies, API paths."""

from __future__ import annotations

import json
import os
from typing import Any

Template = dict[str, Any]

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTelemetryRecords", "xray:PutTraceSegments"}
DDB_READ = {
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:Query",
    "dynamodb:Scan",
}
DDB_WRITE = {
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
}
KMS_TABLE = {"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
KMS_TABLE_READ = {"kms:Decrypt", "kms:DescribeKey"}
S3_READ = {"s3:GetBucket*", "s3:GetObject*", "s3:List*"}  # grant_read
S3_PUT = {  # grant_put: no delete, no read
    "s3:Abort*",
    "s3:PutObject",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
}


def resources(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def only(template: Template, type_: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def getatt(logical_id: str, attr: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attr]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """Every statement of every AWS::IAM::Policy attached to the role (inline policies too)."""
    out: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    role = template["Resources"][role_id]["Properties"]
    for inline in role.get("Policies", []):
        out += inline["PolicyDocument"]["Statement"]
    return out


def allowed_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def resources_for(statements: list[dict[str, Any]], action: str) -> list[Any]:
    return [r for s in statements if action in as_list(s["Action"]) for r in as_list(s["Resource"])]


def function_role(template: Template, function_id: str) -> str:
    role_arn = template["Resources"][function_id]["Properties"]["Role"]
    return str(role_arn["Fn::GetAtt"][0])


def function_by_name(template: Template, name: str) -> str:
    for logical_id, fn in resources(template, "AWS::Lambda::Function").items():
        if fn["Properties"].get("FunctionName") == name:
            return logical_id
    raise AssertionError(f"no Lambda function named {name}")


def api_paths(template: Template) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource → its full path ('/a/{b}')."""
    res = resources(template, "AWS::ApiGateway::Resource")

    def path(logical_id: str) -> str:
        props = res[logical_id]["Properties"]
        parent = props["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in res}


def api_methods(template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, HTTP method) → the method's properties."""
    paths = api_paths(template)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        out[(path, props["HttpMethod"])] = props
    return out


def bucket_policy(template: Template, bucket_id: str) -> dict[str, Any]:
    """The policy document of the one AWS::S3::BucketPolicy on the bucket."""
    [policy] = [
        p
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    document: dict[str, Any] = policy["Properties"]["PolicyDocument"]
    return document


def denies_insecure_transport(policy_document: dict[str, Any]) -> bool:
    return any(
        s["Effect"] == "Deny"
        and s.get("Principal") in ({"AWS": "*"}, "*")
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy_document["Statement"]
    )


def dumps(template: Template) -> str:
    return json.dumps(template, ensure_ascii=False)


def offline_env(**extra: str) -> dict[str, str]:
    """The environment of a synth subprocess: no AWS credentials or CDK env, no CLI telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="1",
    )
    env.update(extra)
    return env


def published_version(template: Template, function_id: str) -> str:
    """Logical id of the one AWS::Lambda::Version this template publishes for the function."""
    [found] = [
        k
        for k, v in resources(template, "AWS::Lambda::Version").items()
        if v["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    return found


def live_alias(template: Template, function_id: str) -> str:
    """Logical id of the function's `live` AWS::Lambda::Alias (infra/functions.py)."""
    [found] = [
        k
        for k, v in resources(template, "AWS::Lambda::Alias").items()
        if v["Properties"]["FunctionName"] == {"Ref": function_id} and v["Properties"]["Name"] == "live"
    ]
    return found
