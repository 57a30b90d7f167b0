"""Data kept safe (issue 16), on both synthesized stacks (environment-agnostic and cn-north-1):
backups in a locked vault, the work bucket on its own key, keys only a break-glass role can delete
or disable, SMS-only sns:Publish, log buckets that expire, no Lambda X-Ray in China, the ICP
prerequisite printed, the account-wide API Gateway role outside the season, staff ARNs per partition."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from enrollment.core.config import AgencyEndpoint, AgencyFiles, SeasonConfig, SmsProvider, load_season
from enrollment.core.resources import ROOT, table_name
from enrollment.core.staff import StaffDirectory, StaffDirectoryError, partition_of
from infra.account import ACCOUNT_STACK, AccountStack
from infra.archive import ACCESS_LOG_RETENTION_DAYS
from infra.baseline import GUARD_SID, guard_keys
from infra.context import DEFAULT_BREAK_GLASS_ROLE, AppOptions, cdk_json_context
from infra.nag import add_checks, flatten, ref
from infra.stack import ICP_PREREQUISITE, SeasonStack
from infra.storage import BACKUP_LOCK_GRACE_DAYS, BACKUP_RETENTION_DAYS
from tests.infra.conftest import CN_REGION, CN_SMS_SECRET, Synth, china
from tests.infra.helpers import (
    XRAY,
    allowed_actions,
    as_list,
    dumps,
    function_role,
    getatt,
    only,
    resources,
    role_statements,
)

pytestmark = pytest.mark.xdist_group("infra")

BOTH = ["agnostic", "cn"]

ALARMS = {"alarm_email": "ops@bureau.example"}  # a season stack needs its alarms' owner


@pytest.fixture(params=BOTH, scope="module")
def stack(request: pytest.FixtureRequest, synthesized: Any) -> Synth:
    synth: Synth = synthesized.stacks[request.param]
    return synth


def _key_arn_pattern(role: str) -> re.Pattern[str]:
    return re.compile(
        rf"arn:(<AWS::Partition>|aws|aws-cn):iam::(<AWS::AccountId>|\d{{12}}):role/{re.escape(role)}"
    )


# -- backups ---------------------------------------------------------------------------------------


def test_season_table_is_backed_up_daily_for_a_year_in_a_locked_vault(stack: Synth, config):
    raw = stack.raw
    _, plan = only(raw, "AWS::Backup::BackupPlan")
    [rule] = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 18 * * ? *)"  # daily, 02:00 Beijing time
    assert rule["Lifecycle"] == {"DeleteAfterDays": BACKUP_RETENTION_DAYS} and BACKUP_RETENTION_DAYS == 365
    vault_id, vault = only(raw, "AWS::Backup::BackupVault")
    assert rule["TargetBackupVault"] == {"Fn::GetAtt": [vault_id, "BackupVaultName"]}
    assert vault["DeletionPolicy"] == "Retain"
    # the vault lock: compliance mode once the grace days are over (ChangeableForDays set)
    assert vault["Properties"]["LockConfiguration"] == {
        "MinRetentionDays": 365,
        "ChangeableForDays": BACKUP_LOCK_GRACE_DAYS,
    }
    # recovery points under a customer-managed key of their own
    backup_key = ref(stack.stack.storage.backup_key)
    assert vault["Properties"]["EncryptionKeyArn"] == getatt(backup_key)
    assert raw["Resources"][backup_key]["Properties"]["EnableKeyRotation"] is True
    # the season table, not the idempotency table (hours-long records: no year-long copy)
    _, selection = only(raw, "AWS::Backup::BackupSelection")
    table = raw["Resources"][ref(stack.stack.storage.table)]
    assert table["Properties"]["TableName"] == table_name(config.name)
    assert selection["Properties"]["BackupSelection"]["Resources"] == [getatt(ref(stack.stack.storage.table))]


# -- the work bucket ---------------------------------------------------------------------------------


def test_work_bucket_holds_personal_data_on_its_own_customer_managed_key(stack: Synth):
    raw = stack.raw
    props = raw["Resources"][ref(stack.stack.work.bucket)]["Properties"]
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": getatt(ref(stack.stack.work.key)),
    }
    # no bucket is left on S3-managed keys but the access-log bucket (S3 cannot deliver logs to SSE-KMS)
    sse_s3 = {
        k
        for k, b in resources(raw, "AWS::S3::Bucket").items()
        if "AES256" in dumps(b["Properties"].get("BucketEncryption", {}))
    }
    assert sse_s3 == {ref(stack.stack.archive.access_logs)}


def test_the_work_bucket_acknowledgments_no_longer_say_it_holds_ids_only():
    text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "infra").glob("*.py"))
    assert "ids only" not in text and "only the workflow's intermediate files" not in text


# -- keys only a break-glass role deletes or disables -----------------------------------------------


def test_every_key_denies_deletion_and_disabling_to_all_but_the_break_glass_role(stack: Synth):
    keys = resources(stack.raw, "AWS::KMS::Key")
    # the archive's, the signing key, the data, HMAC, work and backup keys at least
    must = {
        ref(stack.stack.archive.key),
        ref(stack.stack.archive.signing_key),
        ref(stack.stack.storage.data_key),
        ref(stack.stack.storage.child_key),
        ref(stack.stack.storage.backup_key),
        ref(stack.stack.work.key),
    }
    assert must <= set(keys)
    pattern = _key_arn_pattern(DEFAULT_BREAK_GLASS_ROLE)
    for logical_id, key in keys.items():
        [guard] = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == GUARD_SID]
        assert guard["Effect"] == "Deny", logical_id
        assert guard["Principal"] == {"AWS": "*"}
        assert sorted(as_list(guard["Action"])) == ["kms:DisableKey", "kms:ScheduleKeyDeletion"]
        assert guard["Resource"] == "*"
        [(operator, condition)] = guard["Condition"].items()
        assert operator == "ArnNotEquals"
        arn = flatten(stack.stack, condition["aws:PrincipalArn"])
        assert pattern.fullmatch(arn), arn
        if stack.stack.region == CN_REGION:
            assert "arn:aws:" not in arn
        # and nothing in the key policy allows those actions to anyone by name
        for s in key["Properties"]["KeyPolicy"]["Statement"]:
            if s["Effect"] == "Allow":
                assert not {"kms:ScheduleKeyDeletion", "kms:DisableKey"} & set(as_list(s["Action"])) or (
                    "kms:*" in as_list(s["Action"])  # the account root's default: the Deny overrides it
                )


@pytest.mark.parametrize("region", ["us-east-1", CN_REGION])
def test_the_break_glass_role_is_named_by_context_in_either_partition(region: str):
    app = cdk.App(context={**ALARMS, "break_glass_role": "city-security-officer"})
    options = AppOptions.from_node(app.node, environ={})
    assert options.break_glass_role == "city-security-officer"
    stack = cdk.Stack(app, "Keys", env=cdk.Environment(account="123456789012", region=region))
    kms.Key(stack, "Key")
    guard_keys(stack, options.break_glass_role)
    raw = dict(Template.from_stack(stack).to_json())
    [key] = resources(raw, "AWS::KMS::Key").values()
    [guard] = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == GUARD_SID]
    arn = flatten(stack, guard["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])
    expected = "aws-cn" if region.startswith("cn-") else "aws"
    assert re.fullmatch(
        rf"arn:(<AWS::Partition>|{expected}):iam::123456789012:role/city-security-officer", arn
    )


def test_break_glass_role_defaults_and_refuses_an_arn_or_a_bad_name():
    default = AppOptions.from_node(cdk.App(context=ALARMS).node, environ={})
    assert default.break_glass_role == DEFAULT_BREAK_GLASS_ROLE
    for bad in ("arn:aws:iam::123456789012:role/x", "has space", "x" * 65):
        with pytest.raises(ValueError, match=r"break_glass_role=.*must be an IAM role name"):
            AppOptions.from_node(cdk.App(context={**ALARMS, "break_glass_role": bad}).node, environ={})


# -- sns:Publish -------------------------------------------------------------------------------------


def test_sns_publish_is_sms_only_and_no_function_may_publish_to_a_topic(stack: Synth):
    raw = stack.raw
    publishers = set()
    for spec, fn in stack.stack.functions:
        statements = role_statements(raw, function_role(raw, ref(fn)))
        if "sns:Publish" not in allowed_actions(statements):
            assert not any("sns:" in dumps(s["Action"]) for s in statements), spec.key
            continue
        publishers.add(spec.key)
        [deny] = [s for s in statements if s["Effect"] == "Deny" and "sns:Publish" in as_list(s["Action"])]
        assert flatten(stack.stack, deny["Resource"]) == "arn:<AWS::Partition>:sns:*:*:*", spec.key
        [allow] = [s for s in statements if s["Effect"] == "Allow" and "sns:Publish" in as_list(s["Action"])]
        assert allow["Resource"] == "*"  # a phone number has no ARN; on "*" only X-Ray's actions besides
        assert set(as_list(allow["Action"])) - {"sns:Publish"} <= XRAY, spec.key
    # the codes' and the notices' SMS: through SNS in the global regions; in China through Tencent
    # Cloud (the cn fixture's sms_provider), so nothing there may publish at all
    assert publishers == (set() if stack.stack.region.startswith("cn-") else {"register", "notify-batch"})


def test_in_china_the_sms_senders_read_only_the_providers_secret(cn: Synth):
    readers = set()
    for spec, fn in cn.stack.functions:
        statements = role_statements(cn.raw, function_role(cn.raw, ref(fn)))
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        if reads:
            readers.add(spec.key)
            assert [s["Resource"] for s in reads] == [CN_SMS_SECRET], spec.key
    assert readers == {"register", "notify-batch"}


def test_only_verify_batch_reads_the_agencies_keys_and_only_theirs(config: SeasonConfig):
    """Agencies asked over their API (docs/agency-api.yaml) sign with HMAC keys in Secrets Manager:
    verify-batch, the one function that asks them, may read exactly those secrets."""
    secrets = {
        agency: f"arn:aws:secretsmanager:us-east-1:111122223333:secret:enrollment/{agency}-AbCdEf"
        for agency in ("public-security", "housing")
    }
    verification = config.verification.model_copy(
        update={
            "agencies": {
                agency: AgencyEndpoint(
                    base_url=f"https://{agency}.example.gov.cn/", credentials_secret_arn=arn
                )
                for agency, arn in secrets.items()
            }
        }
    )
    season = config.model_copy(update={"verification": verification})
    stack = SeasonStack(cdk.App(context=cdk_json_context()), "Agencies", config=season, **ALARMS)
    raw = Template.from_stack(stack).to_json()
    readers = {}
    for spec, fn in stack.functions:
        statements = role_statements(raw, function_role(raw, ref(fn)))
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        if reads:
            readers[spec.key] = sorted(r for s in reads for r in as_list(s["Resource"]))
    assert readers == {"verify-batch": sorted(secrets.values())}


def test_only_verify_api_reaches_the_agency_files_and_only_this_seasons_outbox_and_inbox(
    config: SeasonConfig, tmp_path: Any
):
    """Agencies that exchange files (docs/AGENCY-FILES.md): verify-api, which writes the rounds, signs
    their links and keeps the uploaded answers, may get and put the season's outbox and inbox objects,
    nothing else of the work bucket, and may delete nothing."""
    verification = config.verification.model_copy(
        update={"agencies": {a: AgencyFiles(kind="files") for a in ("housing", "planning")}}
    )
    season = config.model_copy(update={"verification": verification})
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    stack = SeasonStack(app, "AgencyFiles", config=season, **ALARMS)
    add_checks(app)
    app.synth()  # raises on any cdk-nag error: every wildcard acknowledged with its reason
    raw = Template.from_stack(stack).to_json()
    work = ref(stack.work.bucket)
    api = ref(stack.functions["verify-api"].role)
    statements = [s for s in role_statements(raw, api) if work in dumps(s["Resource"])]
    objects = {
        dumps(r)
        for s in statements
        for r in as_list(s["Resource"])
        if work in dumps(r) and "/" in dumps(r)  # object ARNs, not the bucket's
    }
    assert objects and all(
        f"/seasons/{season.season}/outbox/*" in o or f"/seasons/{season.season}/inbox/*" in o for o in objects
    )
    assert allowed_actions(statements) == {"s3:GetObject", "s3:PutObject"}  # no listing, no delete
    env = raw["Resources"][ref(stack.functions["verify-api"])]["Properties"]["Environment"]["Variables"]
    assert env["WORK_BUCKET"] == {"Ref": work}

    # a season without files agencies: verify-api does not reach the work bucket at all
    plain = SeasonStack(cdk.App(context=cdk_json_context()), "NoAgencyFiles", config=config, **ALARMS)
    plain_raw = Template.from_stack(plain).to_json()
    plain_api = ref(plain.functions["verify-api"].role)
    assert ref(plain.work.bucket) not in dumps(role_statements(plain_raw, plain_api))


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
def test_a_china_season_sending_sms_by_sns_is_refused_with_the_fix(config: SeasonConfig, region: str):
    sns = china(config).model_copy(update={"sms_provider": SmsProvider()})
    app = cdk.App(context=cdk_json_context())
    with pytest.raises(
        ValueError,
        match=rf"SNS sends no SMS from {region}: set sms_provider\.provider .* to aliyun or tencent",
    ):
        SeasonStack(app, "SnsInChina", config=sns, env=cdk.Environment(region=region))


def test_a_china_season_may_send_by_alibaba_cloud_whose_sdk_is_its_own_layer(config: SeasonConfig, tmp_path):
    aliyun = SmsProvider(
        provider="aliyun",
        sign_name="吉林市教育局",
        credentials_secret_arn=CN_SMS_SECRET,
        code_template="SMS_462115010",
        notice_template="SMS_462115011",
        notice_short_template="SMS_462115012",
        notice_shortest_template="SMS_462115013",
        registered_template="SMS_462115014",
    )
    season = china(config).model_copy(update={"sms_provider": aliyun})
    env = cdk.Environment(region=CN_REGION)
    with pytest.raises(FileNotFoundError, match=r"SMS layer not found .*make layer"):
        SeasonStack(
            cdk.App(context=cdk_json_context()), "NoSmsLayer", config=season, env=env, sms_layer_dir=tmp_path
        )
    (tmp_path / "python").mkdir()  # `make layer` builds requirements/sms.txt here
    stack = SeasonStack(
        cdk.App(context=cdk_json_context()),
        "Aliyun",
        config=season,
        env=env,
        sms_layer_dir=tmp_path,
        **ALARMS,
    )
    assert stack.functions.sms_layer is not None
    layer = stack.resolve(stack.functions.sms_layer.layer_version_arn)
    with_layer = {
        spec.key for spec, fn in stack.functions if layer in stack.resolve(fn.node.default_child.layers)
    }
    assert with_layer == {"register", "notify-batch"}


# -- log buckets -------------------------------------------------------------------------------------


def test_every_bucket_but_the_object_locked_archive_expires_what_it_holds(stack: Synth):
    raw = stack.raw
    logs = raw["Resources"][ref(stack.stack.archive.access_logs)]["Properties"]
    [rule] = logs["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == ACCESS_LOG_RETENTION_DAYS == 400
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["Status"] == "Enabled"
    for logical_id, bucket in resources(raw, "AWS::S3::Bucket").items():
        if logical_id == ref(stack.stack.archive.bucket):
            continue  # the archive keeps its records for their Object Lock retention, by design
        rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        assert any("ExpirationInDays" in r and "Prefix" not in r for r in rules), logical_id


# -- China regions -----------------------------------------------------------------------------------


def test_no_lambda_x_ray_in_china_and_a_partition_condition_where_unknown(synth: Synth, cn: Synth):
    for props in resources(cn.raw, "AWS::Lambda::Function").values():
        assert props["Properties"].get("TracingConfig", {}).get("Mode") in (None, "PassThrough")
    for spec, fn in cn.stack.functions:
        statements = role_statements(cn.raw, function_role(cn.raw, ref(fn)))
        assert not XRAY & allowed_actions(statements), spec.key
    # environment-agnostic: the condition that turns it off in aws-cn at deploy time
    china = synth.stack.get_logical_id(synth.stack.functions._china())
    condition = synth.raw["Conditions"][china]
    assert condition == {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws-cn"]}


def test_synth_prints_the_icp_prerequisite_in_china_regions_only(synth: Synth, cn: Synth):
    found = Annotations.from_stack(cn.stack).find_info("*", Match.string_like_regexp("ICP"))
    assert [f.entry.data for f in found] == [ICP_PREREQUISITE]
    assert "docs/DEPLOY-CHINA.md" in ICP_PREREQUISITE
    assert not Annotations.from_stack(synth.stack).find_info("*", Match.string_like_regexp("ICP"))


def test_deploy_china_doc_says_what_a_bureau_files_and_configures():
    text = (ROOT / "docs" / "DEPLOY-CHINA.md").read_text(encoding="utf-8")
    for needed in ("ICP", "OIDC", "staff_sign_in", "SMS", "X-Ray", "break_glass_role", "arn:aws-cn:"):
        assert needed in text, needed


# -- the account-wide API Gateway role ---------------------------------------------------------------


def test_no_season_sets_the_account_wide_api_gateway_role(stack: Synth):
    assert not resources(stack.raw, "AWS::ApiGateway::Account")
    assert "AmazonAPIGatewayPushToCloudWatchLogs" not in dumps(stack.raw)


@pytest.mark.parametrize("region", [None, CN_REGION])
def test_the_account_stack_sets_it_once_and_passes_cdk_nag(tmp_path, region: str | None):
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    stack = AccountStack(app, env=cdk.Environment(region=region))
    add_checks(app)
    app.synth()  # raises on any cdk-nag error
    assert stack.stack_name == ACCOUNT_STACK
    raw = dict(Template.from_stack(stack).to_json())
    role_id, role = only(raw, "AWS::IAM::Role")
    _, account = only(raw, "AWS::ApiGateway::Account")
    assert account["Properties"]["CloudWatchRoleArn"] == getatt(role_id)
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }


def test_account_setup_context_is_true_or_false():
    assert AppOptions.from_node(cdk.App(context=ALARMS).node, environ={}).account_setup is False
    # the account stack has no alarms: it needs no alarm destination
    assert AppOptions.from_node(cdk.App(context={"account_setup": "true"}).node, environ={}).account_setup
    with pytest.raises(ValueError, match="account_setup='yes' must be true or false"):
        AppOptions.from_node(cdk.App(context={"account_setup": "yes"}).node, environ={})


# -- staff directory ARNs per partition --------------------------------------------------------------


def test_partition_of_a_region():
    assert partition_of("cn-north-1") == partition_of("cn-northwest-1") == "aws-cn"
    assert partition_of("us-gov-west-1") == "aws-us-gov"
    assert partition_of("ap-east-1") == partition_of("us-east-1") == "aws"


def test_the_example_directory_is_written_for_aws_and_refused_for_aws_cn_naming_the_fix():
    directory = StaffDirectory.load("jilin-2023")
    directory.check_partition("aws")
    with pytest.raises(StaffDirectoryError) as err:
        directory.check_partition("aws-cn", "seasons/jilin-2023.staff.yaml")
    # each community office's role (the city's and one per district), each named with its fix
    problems = dict(err.value.problems)
    assert len(problems) == 3 and all(re.fullmatch(r"staff\.\d+\.principal", f) for f in problems)
    assert any("arn:aws-cn:iam::123456789012:role/community-visits" in m for m in problems.values())
    assert all("arn:aws-cn:iam::" in m for m in problems.values())
    assert "seasons/jilin-2023.staff.yaml" in str(err.value)


def test_a_principal_that_looks_like_an_arn_must_be_an_iam_arn():
    directory = StaffDirectory.from_mapping(
        {"staff": [{"principal": "arn:aws:s3:::bucket", "role": "community"}]}, "staff.yaml"
    )
    with pytest.raises(StaffDirectoryError, match=r"staff\.0\.principal.*not an IAM ARN"):
        directory.check_partition("aws")
    # user names (OIDC staff) are not ARNs and are not checked
    StaffDirectory.from_mapping({"staff": [{"principal": "city-staff-01", "role": "city"}]}).check_partition(
        "aws-cn"
    )


def test_synth_in_a_china_region_refuses_the_aws_partition_staff_directory():
    app = cdk.App(context=cdk_json_context())
    config = china(load_season("jilin-2023"))
    with pytest.raises(StaffDirectoryError, match=r"staff\.\d+\.principal.*arn:aws-cn:iam::"):
        SeasonStack(app, "JilinCn", config=config, env=cdk.Environment(region=CN_REGION))
