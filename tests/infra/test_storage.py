"""DynamoDB tables and KMS keys (R-DATA-2)."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.core.resources import idempotency_table_name, table_name
from infra.nag import ref
from tests.infra.helpers import Template as Tpl
from tests.infra.helpers import allowed_actions, function_role, getatt, resources, role_statements

pytestmark = pytest.mark.xdist_group("infra")


def _table(raw: Tpl, name: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, table)] = [
        (k, t)
        for k, t in resources(raw, "AWS::DynamoDB::Table").items()
        if t["Properties"]["TableName"] == name
    ]
    return logical_id, table


def test_season_table_keys_index_billing_pitr_and_cmk(synth, raw, config):
    _, table = _table(raw, table_name(config.name))
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
        ("gsi1pk", "S"),
        ("gsi1sk", "S"),
    }
    [gsi] = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "gsi1"
    assert gsi["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    data_key = ref(synth.stack.storage.data_key)
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": getatt(data_key),
    }
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    # parents' codes and sessions expire by TTL; nothing else carries the attribute
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_epoch", "Enabled": True}
    assert raw["Resources"][data_key]["Properties"]["EnableKeyRotation"] is True


def test_idempotency_table_has_id_key_ttl_and_the_same_cmk(synth, raw, config):
    _, table = _table(raw, idempotency_table_name(config.name))
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"]["KMSMasterKeyId"] == getatt(ref(synth.stack.storage.data_key))
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_child_key_is_an_hmac_key_retained_and_used_only_by_those_keying_children(synth, raw):
    child_key = ref(synth.stack.storage.child_key)
    key = raw["Resources"][child_key]
    assert key["Properties"]["KeySpec"] == "HMAC_256"
    assert key["Properties"]["KeyUsage"] == "GENERATE_VERIFY_MAC"
    assert key["DeletionPolicy"] == "Retain"  # a new key would make every registered child look new
    users = {
        spec.key
        for spec, fn in synth.stack.functions
        if "kms:GenerateMac" in allowed_actions(role_statements(raw, function_role(raw, ref(fn))))
    }
    # register keys children (R-REG-2), and the place API a late registration's (issue 18);
    # notify-batch derives the notices' verification-code secret; the verification API keys an ID
    # number a clerk searches the review queue by, so it is never compared in the clear (issue 19)
    assert users == {"register", "notify-batch", "place-api", "verify-api"}
